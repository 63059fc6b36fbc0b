package clientsdk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/tus"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// The photo upload: tus 1.0.0 (core, creation, checksum, termination)
// against the server's /v1/media/uploads. A round walks the queue in the
// order photos were attached. For each photo whose report the server has:
//
//	HEAD /v1/media/{sha256}     the server has the bytes? attach them (POST /v1/media/{sha256}/attach): verified, nothing sent
//	HEAD <upload URL>           an upload under way: go on from the server's Upload-Offset
//	POST /v1/media/uploads      else start one (404 or 410 on the HEAD too)
//	PATCH <upload URL>          chunk after chunk, each with Upload-Checksum: sha256; the
//	                            acknowledged offset is stored after each, so a restart
//	                            sends again at most the chunk that was in flight
//
// A photo the server refuses for good (not_an_image, image_too_large, too
// large, forbidden, chunks refused maxPhotoAttempts times in a row) is
// marked failed, its file kept, and the round goes on with the next. A
// network or server failure stops the round: every photo waits for the
// next, with the loop's backoff. Nothing of a photo is ever held in memory
// beyond the copy buffers: chunks are sections of the file.

const (
	// maxPhotoAttempts is how many times in a row the server may refuse a
	// chunk (checksum_mismatch, or a chunk that arrived cut) before the
	// photo fails; any acknowledged chunk starts the count again.
	maxPhotoAttempts = 3
	// maxPhotoStalls bounds the steps without progress (offset mismatches,
	// lost uploads) of one photo in one round.
	maxPhotoStalls = 6
)

// photoRequestTimeout bounds one upload request: a chunk may go as slowly
// as 32 KiB/s.
func photoRequestTimeout(o Options) time.Duration {
	return o.RequestTimeout + time.Duration(o.PhotoChunkSize/(32<<10)+1)*time.Second
}

// uploader runs photo rounds, one at a time: it walks the queue and takes
// each photo as far as the server lets it.
type uploader struct {
	db      *bbolt.DB
	tus     *tusClient
	files   *photoFiles
	notices *notices
	log     *slog.Logger
	now     func() time.Time
	chunk   int64 // bytes of one PATCH
	online  bool  // a ServerURL is set

	sem     chan struct{} // one round at a time (capacity 1); a channel so waiting obeys ctx
	refused int           // photos failed in the round under way; held with sem
}

// round runs one photo round. Its failure is recorded for Status and
// Events, and returned for the loop's backoff; Sync never returns it.
func (up *uploader) round(ctx context.Context) error {
	_, err := up.counted(ctx)
	return err
}

// counted is round, also saying how many photos the server refused for
// good in it.
func (up *uploader) counted(ctx context.Context) (refused int, err error) {
	if !up.online {
		return 0, nil
	}
	select {
	case up.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-up.sem }()
	up.refused = 0
	err = up.uploadAll(ctx)
	if err != nil && ctx.Err() != nil {
		return up.refused, err // cancelled (Close): not the network's fault
	}
	up.notices.setPhotoErr(err)
	if err != nil {
		up.log.Warn("photo upload stopped; retried later", "err", err)
		up.notices.emit(Event{Kind: EventPhotoError, Err: err})
	}
	return up.refused, err
}

func (up *uploader) uploadAll(ctx context.Context) error {
	var ids []int64
	err := up.db.View(func(tx *bbolt.Tx) error {
		return eachPhoto(tx, func(id int64, e *photoEntry) error {
			if !e.done() {
				ids = append(ids, id)
			}
			return nil
		})
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := up.upload(ctx, id); err != nil {
			return fmt.Errorf("photo %d: %w", id, err)
		}
	}
	return nil
}

// refusedCreation returns the refusal of the device's creation of a
// report, nil when there is none.
func refusedCreation(tx *bbolt.Tx, reportID string) (*Refusal, error) {
	var found *Refusal
	err := eachJSON(tx, bucketRefused, nil, func(_ []byte, r *Refusal) error {
		if m := r.Mutation; m.Entity == fieldsync.EntityReport && m.ID == reportID && m.Op == syncproto.OpUpsert && m.Fields["visit_id"] != nil {
			found = r
			return errStopScan
		}
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return found, err
}

// upload takes one photo as far as it goes. It returns an error only for
// what stops the round; what happens to the photo itself is stored.
func (up *uploader) upload(ctx context.Context, id int64) error {
	var (
		e       *photoEntry
		waiting bool     // the report's creation waits in the outbox
		refused *Refusal // the server refused the report's creation
	)
	err := up.db.View(func(tx *bbolt.Tx) (err error) {
		if e, err = getPhoto(tx, id); err != nil || e == nil {
			return err
		}
		// A record means the server has the report: pulled, or folded in
		// after the server applied its creation.
		if s, err := getRecord(tx, fieldsync.EntityReport, e.ReportID); err != nil || s != nil {
			return err
		}
		pending, err := pendingFor(tx, fieldsync.EntityReport, e.ReportID)
		if err != nil {
			return err
		}
		if waiting = createsReport(pending); !waiting {
			refused, err = refusedCreation(tx, e.ReportID)
		}
		// Otherwise (evicted, or a pull starting again from scratch) the
		// server is the judge: it answers the upload.
		return err
	})
	if err != nil || e == nil || e.done() {
		return err
	}
	u := &photoUpload{up: up, id: id, e: e}
	switch {
	case waiting:
		return u.note("waiting for the report to reach the server")
	case refused != nil:
		return u.fail(ctx, refused.Code, "the server refused the report this photo belongs to: "+refused.Detail)
	}
	f, err := os.Open(up.files.path(e.SHA256))
	if err != nil {
		return u.fail(ctx, codeFileMissing, "the device's copy of the photo is gone: "+err.Error())
	}
	defer f.Close()
	u.f = f
	return u.run(ctx)
}

// photoUpload is one photo being uploaded: its entry, as last stored, and
// its file.
type photoUpload struct {
	up *uploader
	id int64
	e  *photoEntry
	f  *os.File
}

func (u *photoUpload) run(ctx context.Context) error {
	tc, e := u.up.tus, u.e
	// Content addressing: bytes the server has are not sent again, only
	// attached where this photo goes.
	stored, err := tc.stored(ctx, e.SHA256)
	if err != nil {
		return err
	}
	if stored {
		attached, err := tc.attach(ctx, e)
		switch {
		case attached:
			return u.verified()
		case err != nil:
			return u.turnedAway(ctx, err)
		}
		// The server cannot attach stored bytes: send them.
	}

	needHead := e.UploadURL != "" // resume: the server's offset, not ours, says where
	stalls := 0
	for {
		if stalls > maxPhotoStalls {
			return errors.New("the upload makes no progress")
		}
		if e.UploadURL == "" {
			loc, err := tc.create(ctx, e)
			if err != nil {
				return u.turnedAway(ctx, err)
			}
			e.UploadURL, e.Sent, e.State, e.Detail = loc, 0, PhotoUploading, ""
			if err := u.save(); err != nil {
				return err
			}
			needHead = false
		}
		if needHead {
			off, err := tc.offset(ctx, e.UploadURL)
			if cl := classify(err); cl == absent || cl == refusedForGood || cl == succeeded && off > e.Size {
				// Gone (expired, dropped after a refusal, the server lost
				// it) or nonsense: start a new one.
				u.up.log.Info("photo upload lost; starting again", "photo", u.id, "err", err)
				if err := u.restart(); err != nil {
					return err
				}
				stalls++
				continue
			}
			if err != nil {
				return err
			}
			if off != e.Sent {
				e.Sent = off
				if err := u.save(); err != nil {
					return err
				}
			}
			needHead = false
		}

		// At the end with the photo not verified (the completing answer was
		// lost, or the server failed to publish): an empty PATCH has the
		// server finish again.
		n := min(u.up.chunk, e.Size-e.Sent)
		h, err := tc.patch(ctx, e.UploadURL, u.f, e.Sent, n)
		switch classify(err) {
		case succeeded:
			off, perr := strconv.ParseInt(h.Get(tus.HeaderOffset), 10, 64)
			if perr != nil || off < e.Sent || off > e.Size {
				needHead, stalls = true, stalls+1
				continue
			}
			if h.Get("Fieldsync-Photo") != "" || off == e.Size {
				return u.verified()
			}
			if off > e.Sent {
				e.Sent, e.Attempts, e.State = off, 0, PhotoUploading
				stalls = 0
				if err := u.save(); err != nil {
					return err
				}
				u.emit(EventPhotoProgress)
			} else {
				stalls++
			}
		case offsetMoved:
			needHead, stalls = true, stalls+1
		case bodyRejected:
			// The chunk was refused (corrupted on the way, or cut): nothing
			// of it was kept. A refusal of the whole photo's hash at the end
			// is the device's copy gone bad, or the server's.
			if code(err) == fieldsync.EChecksumMismatch && e.Sent+n == e.Size {
				if ok, herr := u.intact(); herr != nil {
					return herr
				} else if !ok {
					return u.fail(ctx, codeFileCorrupt, "the device's copy of the photo no longer matches its hash")
				}
			}
			e.Attempts++
			if e.Attempts >= maxPhotoAttempts {
				return u.fail(ctx, code(err), detail(err))
			}
			u.up.log.Info("photo chunk refused; sending it again", "photo", u.id, "offset", e.Sent, "code", code(err))
			if err := u.save(); err != nil {
				return err
			}
			needHead = true
		case absent:
			if err := u.restart(); err != nil {
				return err
			}
			stalls++
		case refusedForGood:
			return u.fail(ctx, code(err), detail(err))
		default:
			return err
		}
	}
}

// turnedAway ends the photo's turn when the server would not attach it or
// start its upload: it waits while the server lacks its report, fails
// when the server refuses it, and stops the round on anything else.
func (u *photoUpload) turnedAway(ctx context.Context, err error) error {
	switch classify(err) {
	case absent:
		return u.note("waiting for the report to reach the server: " + detail(err))
	case refusedForGood, bodyRejected:
		return u.fail(ctx, code(err), detail(err))
	}
	return err
}

// restart forgets an upload the server no longer has: the next step
// starts a new one.
func (u *photoUpload) restart() error {
	u.e.UploadURL, u.e.Sent, u.e.State = "", 0, PhotoQueued
	return u.save()
}

func (u *photoUpload) save() error {
	return u.up.db.Update(func(tx *bbolt.Tx) error { return putPhoto(tx, u.id, u.e) })
}

func (u *photoUpload) emit(kind EventKind) {
	s := u.up.files.status(u.id, u.e)
	u.up.notices.emit(Event{Kind: kind, Photo: &s})
}

// note says why a queued photo waits, storing it when it changed.
func (u *photoUpload) note(why string) error {
	if u.e.Detail == why {
		return nil
	}
	u.e.Detail = why
	return u.save()
}

func (u *photoUpload) verified() error {
	e := u.e
	now := u.up.now().UTC()
	e.State, e.Sent, e.UploadURL, e.Code, e.Detail, e.Attempts, e.VerifiedAt = PhotoVerified, e.Size, "", "", "", 0, &now
	if err := u.save(); err != nil {
		return err
	}
	u.up.log.Info("photo verified", "photo", u.id, "report_id", e.ReportID, "slot", e.Slot, "sha256", e.SHA256)
	u.emit(EventPhotoVerified)
	return nil
}

// fail marks the photo refused for good, keeps its file, and lets the
// server drop what it holds of it.
func (u *photoUpload) fail(ctx context.Context, code, why string) error {
	e := u.e
	if e.UploadURL != "" {
		// Best effort: an upload left behind expires on the server.
		_ = u.up.tus.remove(ctx, e.UploadURL)
	}
	e.State, e.Code, e.Detail, e.UploadURL, e.Sent = PhotoFailed, code, why, "", 0
	if err := u.save(); err != nil {
		return err
	}
	u.up.refused++
	u.up.log.Warn("photo refused", "photo", u.id, "report_id", e.ReportID, "slot", e.Slot, "code", code, "detail", why)
	u.emit(EventPhotoFailed)
	return nil
}

// intact reports whether the device's copy still hashes to its name.
func (u *photoUpload) intact() (bool, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(u.f, 0, u.e.Size+1)); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == u.e.SHA256, nil
}
