package clientsdk

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
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
	tusVersion  = "1.0.0"
	uploadsPath = "/v1/media/uploads"
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

// syncPhotos runs one photo round, one at a time. Its failure is recorded
// for Status and Events, never returned by Sync.
func (c *Client) syncPhotos(ctx context.Context) error {
	if c.opts.ServerURL == "" {
		return nil
	}
	select {
	case c.photoSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.photoSem }()
	err := c.uploadPhotos(ctx)
	if err != nil && ctx.Err() != nil {
		return err // cancelled (Close): not the network's fault
	}
	c.mu.Lock()
	c.photoErr = ""
	if err != nil {
		c.photoErr = err.Error()
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("photo upload stopped; retried later", "err", err)
		c.emit(Event{Kind: EventPhotoError, Err: err})
	}
	return err
}

func (c *Client) uploadPhotos(ctx context.Context) error {
	var ids []int64
	err := c.db.View(func(tx *bbolt.Tx) error {
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
		if err := c.uploadPhoto(ctx, id); err != nil {
			return fmt.Errorf("photo %d: %w", id, err)
		}
	}
	return nil
}

// refusedCreation returns the refusal of the device's creation of a
// report, nil when there is none.
func refusedCreation(tx *bbolt.Tx, reportID string) (*Refusal, error) {
	var found *Refusal
	err := tx.Bucket(bucketRefused).ForEach(func(_, v []byte) error {
		var r Refusal
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if m := r.Mutation; m.Entity == "report" && m.ID == reportID && m.Op == syncproto.OpUpsert && m.Fields["visit_id"] != nil {
			found = &r
			return errStopScan
		}
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return found, err
}

// photoUpload is one photo being uploaded: its entry, as last stored, and
// its file.
type photoUpload struct {
	c  *Client
	id int64
	e  *photoEntry
	f  *os.File
}

// uploadPhoto takes one photo as far as it goes. It returns an error only
// for what stops the round; what happens to the photo itself is stored.
func (c *Client) uploadPhoto(ctx context.Context, id int64) error {
	var (
		e       *photoEntry
		waiting bool     // the report's creation waits in the outbox
		refused *Refusal // the server refused the report's creation
	)
	err := c.db.View(func(tx *bbolt.Tx) (err error) {
		if e, err = getPhoto(tx, id); err != nil || e == nil {
			return err
		}
		// A record means the server has the report: pulled, or folded in
		// after the server applied its creation.
		if s, err := getRecord(tx, "report", e.ReportID); err != nil || s != nil {
			return err
		}
		pending, err := pendingFor(tx, "report", e.ReportID)
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
	u := &photoUpload{c: c, id: id, e: e}
	switch {
	case waiting:
		return u.note("waiting for the report to reach the server")
	case refused != nil:
		return u.fail(ctx, refused.Code, "the server refused the report this photo belongs to: "+refused.Detail)
	}
	f, err := os.Open(c.photoPath(e.SHA256))
	if err != nil {
		return u.fail(ctx, codeFileMissing, "the device's copy of the photo is gone: "+err.Error())
	}
	defer f.Close()
	u.f = f
	return u.run(ctx)
}

func (u *photoUpload) run(ctx context.Context) error {
	c, e := u.c, u.e
	// Content addressing: bytes the server has are not sent again, only
	// attached where this photo goes.
	stored, err := c.photoStored(ctx, e.SHA256)
	if err != nil {
		return err
	}
	if stored {
		done, err := c.attach(ctx, e)
		switch cd := code(err); {
		case done:
			return u.verified()
		case err == nil:
			// The server cannot attach stored bytes: send them.
		case cd == fieldsync.ENotFound:
			return u.note("waiting for the report to reach the server: " + detail(err))
		case cd == fieldsync.EInvalid || permanent(cd):
			return u.fail(ctx, cd, detail(err))
		default:
			return err
		}
	}

	chunk := c.opts.PhotoChunkSize
	needHead := e.UploadURL != "" // resume: the server's offset, not ours, says where
	stalls := 0
	for {
		if stalls > maxPhotoStalls {
			return errors.New("the upload makes no progress")
		}
		if e.UploadURL == "" {
			loc, err := c.tusCreate(ctx, e)
			switch cd := code(err); {
			case err == nil:
			case cd == fieldsync.ENotFound:
				return u.note("waiting for the report to reach the server: " + detail(err))
			case cd == fieldsync.EInvalid || permanent(cd):
				return u.fail(ctx, cd, detail(err))
			default:
				return err
			}
			e.UploadURL, e.Sent, e.State, e.Detail = loc, 0, PhotoUploading, ""
			if err := u.save(); err != nil {
				return err
			}
			needHead = false
		}
		if needHead {
			off, err := c.tusOffset(ctx, e.UploadURL)
			switch cd := code(err); {
			case err == nil && off <= e.Size:
			case err == nil || cd == fieldsync.ENotFound || cd == fieldsync.EUploadExpired || cd == fieldsync.EForbidden:
				// Gone (expired, dropped after a refusal, the server lost
				// it) or nonsense: start a new one.
				c.log.Info("photo upload lost; starting again", "photo", u.id, "err", err)
				e.UploadURL, e.Sent, e.State = "", 0, PhotoQueued
				if err := u.save(); err != nil {
					return err
				}
				stalls++
				continue
			default:
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
		n := min(chunk, e.Size-e.Sent)
		h, err := c.tusPatch(ctx, e.UploadURL, u.f, e.Sent, n)
		switch cd := code(err); {
		case err == nil:
			off, perr := strconv.ParseInt(h.Get("Upload-Offset"), 10, 64)
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
		case cd == fieldsync.EOffsetMismatch:
			needHead, stalls = true, stalls+1
		case cd == fieldsync.EChecksumMismatch || cd == fieldsync.EInvalid:
			// The chunk was refused (corrupted on the way, or cut): nothing
			// of it was kept. A refusal of the whole photo's hash at the end
			// is the device's copy gone bad, or the server's.
			if cd == fieldsync.EChecksumMismatch && e.Sent+n == e.Size {
				if ok, herr := u.intact(); herr != nil {
					return herr
				} else if !ok {
					return u.fail(ctx, codeFileCorrupt, "the device's copy of the photo no longer matches its hash")
				}
			}
			e.Attempts++
			if e.Attempts >= maxPhotoAttempts {
				return u.fail(ctx, cd, detail(err))
			}
			c.log.Info("photo chunk refused; sending it again", "photo", u.id, "offset", e.Sent, "code", cd)
			if err := u.save(); err != nil {
				return err
			}
			needHead = true
		case cd == fieldsync.ENotFound || cd == fieldsync.EUploadExpired:
			e.UploadURL, e.Sent, e.State = "", 0, PhotoQueued
			if err := u.save(); err != nil {
				return err
			}
			stalls++
		case permanent(cd):
			return u.fail(ctx, cd, detail(err))
		default:
			return err
		}
	}
}

// permanent lists the server's refusals of a photo that sending it again
// cannot change.
func permanent(code string) bool {
	switch code {
	case fieldsync.ENotAnImage, fieldsync.EImageTooLarge, fieldsync.ETooLarge, fieldsync.EUnsupported, fieldsync.EForbidden:
		return true
	}
	return false
}

// detail is the server's word on an error, or the error itself.
func detail(err error) string {
	var e *fieldsync.Error
	if errors.As(err, &e) && e.Detail != "" {
		return e.Detail
	}
	return err.Error()
}

func (u *photoUpload) save() error {
	return u.c.db.Update(func(tx *bbolt.Tx) error { return putPhoto(tx, u.id, u.e) })
}

func (u *photoUpload) emit(kind EventKind) {
	s := u.c.status(u.id, u.e)
	u.c.emit(Event{Kind: kind, Photo: &s})
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
	now := u.c.opts.Now().UTC()
	e.State, e.Sent, e.UploadURL, e.Code, e.Detail, e.Attempts, e.VerifiedAt = PhotoVerified, e.Size, "", "", "", 0, &now
	if err := u.save(); err != nil {
		return err
	}
	u.c.log.Info("photo verified", "photo", u.id, "report_id", e.ReportID, "slot", e.Slot, "sha256", e.SHA256)
	u.emit(EventPhotoVerified)
	return nil
}

// fail marks the photo refused for good, keeps its file, and lets the
// server drop what it holds of it.
func (u *photoUpload) fail(ctx context.Context, code, why string) error {
	e := u.e
	if e.UploadURL != "" {
		_, _ = u.c.tusCall(ctx, http.MethodDelete, e.UploadURL, nil, nil, 0, 0, u.c.opts.RequestTimeout)
	}
	e.State, e.Code, e.Detail, e.UploadURL, e.Sent = PhotoFailed, code, why, "", 0
	if err := u.save(); err != nil {
		return err
	}
	u.c.log.Warn("photo refused", "photo", u.id, "report_id", e.ReportID, "slot", e.Slot, "code", code, "detail", why)
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

// attach puts bytes the server has on the photo's report and slot
// (POST /v1/media/{sha}/attach). It reports false when the server will not
// attach them — it lets only those who may already see a photo attach it
// (a hash is no proof of holding it), or it has no such call — and then
// only an upload attaches them.
func (c *Client) attach(ctx context.Context, e *photoEntry) (bool, error) {
	req := struct {
		ReportID string `json:"report_id"`
		Slot     string `json:"slot"`
	}{e.ReportID, e.Slot}
	err := c.authed(ctx, http.MethodPost, "/v1/media/"+e.SHA256+"/attach", nil, c.opts.RequestTimeout, req, nil)
	switch code(err) {
	case "":
		return true, nil
	case fieldsync.ENotFound, fieldsync.ERouteNotFound, fieldsync.EMethod:
		return false, nil
	}
	return false, err
}

// photoStored asks whether the server holds verified bytes of this hash.
func (c *Client) photoStored(ctx context.Context, sha string) (bool, error) {
	_, err := c.tusCall(ctx, http.MethodHead, "/v1/media/"+sha, nil, nil, 0, 0, c.opts.RequestTimeout)
	switch {
	case err == nil:
		return true, nil
	case code(err) == fieldsync.ENotFound:
		return false, nil
	}
	return false, err
}

// tusCreate starts an upload of the photo and returns its path.
func (c *Client) tusCreate(ctx context.Context, e *photoEntry) (string, error) {
	meta := []string{"sha256", e.SHA256, "report_id", e.ReportID, "slot", e.Slot}
	if e.Filename != "" {
		meta = append(meta, "filename", e.Filename)
	}
	if e.Type != "" {
		meta = append(meta, "filetype", e.Type)
	}
	if !e.CapturedAt.IsZero() {
		meta = append(meta, "captured_at", e.CapturedAt.UTC().Format(time.RFC3339))
	}
	pairs := make([]string, 0, len(meta)/2)
	for i := 0; i < len(meta); i += 2 {
		pairs = append(pairs, meta[i]+" "+base64.StdEncoding.EncodeToString([]byte(meta[i+1])))
	}
	hdr := http.Header{}
	hdr.Set("Upload-Length", strconv.FormatInt(e.Size, 10))
	hdr.Set("Upload-Metadata", strings.Join(pairs, ","))
	h, err := c.tusCall(ctx, http.MethodPost, uploadsPath, hdr, nil, 0, 0, c.opts.RequestTimeout)
	if err != nil {
		return "", err
	}
	return uploadPath(c.opts.ServerURL, h.Get("Location"))
}

// tusOffset asks how many bytes an upload holds.
func (c *Client) tusOffset(ctx context.Context, path string) (int64, error) {
	h, err := c.tusCall(ctx, http.MethodHead, path, nil, nil, 0, 0, c.opts.RequestTimeout)
	if err != nil {
		return 0, err
	}
	off, err := strconv.ParseInt(h.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("HEAD %s: the server sent no Upload-Offset", path)
	}
	return off, nil
}

// tusPatch sends n bytes of f from off, with their checksum: the server
// keeps none of them unless all arrived intact.
func (c *Client) tusPatch(ctx context.Context, path string, f *os.File, off, n int64) (http.Header, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, off, n)); err != nil {
		return nil, err
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/offset+octet-stream")
	hdr.Set("Upload-Offset", strconv.FormatInt(off, 10))
	hdr.Set("Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(h.Sum(nil)))
	return c.tusCall(ctx, http.MethodPatch, path, hdr, f, off, n, c.photoTimeout)
}

// tusCall sends one tus request with the access token. A 401 renews the
// token and tries once more: answers to HEAD have no body to say whether
// the token expired or the device was revoked, and the refresh finds out.
func (c *Client) tusCall(ctx context.Context, method, path string, hdr http.Header, body io.ReaderAt, off, n int64, timeout time.Duration) (http.Header, error) {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	h, status, err := c.api.tus(ctx, method, path, tok, hdr, body, off, n, timeout)
	if status == http.StatusUnauthorized && code(err) != fieldsync.EDeviceRevoked {
		if tok, err = c.refresh(ctx, tok); err != nil {
			return nil, err
		}
		h, _, err = c.api.tus(ctx, method, path, tok, hdr, body, off, n, timeout)
	}
	return h, c.authFailed(err)
}

// tus sends one request of the tus protocol; body, when not nil, is the
// section [off, off+n) of it, read as the request goes out. It returns the
// answer's headers and status; an error answer is a *fieldsync.Error.
func (a *api) tus(ctx context.Context, method, path, token string, hdr http.Header, body io.ReaderAt, off, n int64, timeout time.Duration) (http.Header, int, error) {
	if a.base == "" {
		return nil, 0, fieldsync.Errorf(fieldsync.EInvalid, "clientsdk: no ServerURL: the client is offline only")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.ContentLength = n
		req.Body = http.NoBody
		if n > 0 {
			req.Body = io.NopCloser(io.NewSectionReader(body, off, n))
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(body, off, n)), nil }
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.t.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
	}()
	if resp.StatusCode >= 400 {
		return resp.Header, resp.StatusCode, fmt.Errorf("%s %s: %d: %w", method, path, resp.StatusCode, problemWith(resp, tusCodeOf))
	}
	return resp.Header, resp.StatusCode, nil
}

// tusCodeOf names an error answer without a body (HEAD) by its status, as
// the server's tus endpoints use them.
func tusCodeOf(status int) string {
	switch status {
	case http.StatusForbidden:
		return fieldsync.EForbidden
	case http.StatusNotFound:
		return fieldsync.ENotFound
	case http.StatusConflict:
		return fieldsync.EOffsetMismatch
	case http.StatusGone:
		return fieldsync.EUploadExpired
	case http.StatusPreconditionFailed:
		return fieldsync.ETusVersion
	case http.StatusRequestEntityTooLarge:
		return fieldsync.ETooLarge
	case http.StatusUnprocessableEntity:
		return fieldsync.EImageTooLarge
	case 460:
		return fieldsync.EChecksumMismatch
	}
	return codeOfStatus(status)
}

// uploadPath turns the Location of a new upload into a path under the
// server's base URL. The token goes to no other origin and no other route.
func uploadPath(base, loc string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u, err := b.Parse(loc)
	if err != nil || loc == "" {
		return "", fmt.Errorf("the server gave the upload no usable Location (%q)", loc)
	}
	if u.Scheme != b.Scheme || u.Host != b.Host {
		return "", fmt.Errorf("the server sent the upload to another origin (%s)", u.Redacted())
	}
	p := strings.TrimPrefix(u.EscapedPath(), strings.TrimRight(b.EscapedPath(), "/"))
	if !strings.HasPrefix(p, uploadsPath+"/") || len(p) == len(uploadsPath)+1 || strings.Contains(p, "/../") {
		return "", fmt.Errorf("the server's Location %q is not an upload", loc)
	}
	return p, nil
}
