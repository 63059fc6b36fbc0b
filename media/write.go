package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
	"github.com/fieldsync/fieldsync/media/tus"
)

// The write path: Write takes a body in (incoming.go), stores a photo
// sent whole while it arrives (stream.go), checks what arrived, and
// either keeps the bytes for the next request or completes the upload.

const (
	headLen      = 256 << 10       // enough for JPEG, PNG, WebP and HEIC headers with EXIF
	writeTimeout = 2 * time.Minute // storing what a request brought, once it arrived
)

// Write appends body to the upload at offset. It returns the upload and,
// when this write completed it, the published photo. A cut body keeps the
// bytes that arrived (with no checksum to check), so the client resumes
// at the returned offset. A body that completes the upload is checked
// with everything before it (the photo's SHA-256, its type and size)
// before any of it is published, and goes to the blob store's Finish: a
// photo sent in one request is written once, under its name, while it
// arrives (stream). length is the body's declared length, -1 if unknown.
func (s *Service) Write(ctx context.Context, a fieldsync.Actor, id string, offset int64, body io.Reader, length int64, sum *tus.Checksum) (*tus.Upload, *fieldsync.Photo, error) {
	s.writes.Add(1)
	defer func() {
		s.lastWrite.Store(int64(time.Since(s.started)))
		s.writes.Add(-1)
	}()
	defer s.locks.lock(id)()

	u, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if offset != u.Offset() {
		return u, nil, fieldsync.Errorf(fieldsync.EOffsetMismatch, "the upload holds %d bytes; send from there", u.Offset())
	}
	if offset > 0 {
		s.Metrics.Resumed.Inc()
	}
	in, err := s.receive(u, body, sum)
	if err != nil {
		return u, nil, err
	}
	defer s.discard(in)
	var streamed *fieldsync.Photo
	if offset == 0 && length == u.Length {
		if streamed, err = s.stream(ctx, u, in); err != nil {
			return u, nil, err
		}
	}
	n := in.drain()
	// What arrived is on local disk now. A cut connection cancels the
	// request's context, but its bytes must still be kept: the rest of the
	// write runs on a context of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if streamed != nil {
		p, err := s.complete(ctx, u, in, streamed)
		return u, p, err
	}
	if sum != nil {
		if in.err != nil {
			return u, nil, fieldsync.Errorf(fieldsync.EInvalid, "the chunk did not arrive whole; send it again")
		}
		if !in.chunkOK() {
			return u, nil, s.refuse("checksum", fieldsync.Errorf(fieldsync.EChecksumMismatch, "the chunk does not match its Upload-Checksum; nothing of it was kept"))
		}
	}
	if offset == 0 && n >= 16 {
		head := make([]byte, 16)
		if _, err := in.spool.ReadAt(head, 0); err != nil {
			return u, nil, err
		}
		if _, err := photo.Sniff(head); err != nil {
			return nil, nil, s.reject(ctx, u, "type", fieldsync.Errorf(fieldsync.ENotAnImage, "only JPEG, PNG, HEIC and WebP photos are accepted"))
		}
	}
	if in.err == nil && offset+n == u.Length {
		p, err := s.complete(ctx, u, in, nil)
		return u, p, err
	}
	if err := s.keep(ctx, u, in); err != nil {
		return u, nil, err
	}
	return u, nil, in.err
}

// keep appends the bytes in the spool to the upload u, which does not
// hold all its bytes with them. The blob store may keep fewer (a failure
// midway): u then holds those, and the store's error is returned.
func (s *Service) keep(ctx context.Context, u *tus.Upload, in *incoming) error {
	st, appendErr := s.Blobs.Append(ctx, u.ID, u.Blob, io.NewSectionReader(in.spool, 0, in.n))
	kept := st.Offset - u.Offset()
	if kept < 0 || kept > in.n {
		return fmt.Errorf("media: blob store kept %d of %d bytes", kept, in.n)
	}
	if kept > 0 {
		withKept := in.photo
		if kept < in.n {
			withKept = nil // it holds bytes the store did not keep
		}
		if err := absorb(u, in.spool, kept, withKept); err != nil {
			return err
		}
		u.Blob = st
		if err := s.Store.SaveUpload(ctx, u); err != nil {
			return err
		}
		s.Metrics.Bytes.Add(float64(kept))
	}
	return appendErr
}

// complete ends the upload u with its last bytes, waiting in the spool
// of in: unless streamed is the photo stream published already, the bytes
// are checked and the photo published (publish). Then the photo joins its
// report and the upload is forgotten. On success u holds all its bytes;
// after any other failure than a refusal it is as it was, so the same
// request may be sent again.
func (s *Service) complete(ctx context.Context, u *tus.Upload, in *incoming, streamed *fieldsync.Photo) (*fieldsync.Photo, error) {
	// A report signed since the upload began takes no photo: the upload
	// ends, and FinishUpload checks again as it records the photo.
	if err := s.Store.Attachable(ctx, u.ReportID, u.Slot, u.SHA256); err != nil {
		return nil, s.notAttachable(ctx, u, err)
	}
	done, p := *u, streamed
	var err error
	if p == nil {
		p, err = s.publish(ctx, &done, in)
	} else {
		done.HashState, err = marshalHash(in.photo)
	}
	if err != nil {
		return nil, err
	}
	s.Metrics.Bytes.Add(float64(u.Length - u.Offset()))
	// The thumbnail is made by RunThumbnails, after this request: decoding
	// a photo costs more than all of receiving it.
	p.Thumbnail = false
	if err := s.Store.FinishUpload(ctx, u.ID, p); err != nil {
		return nil, s.notAttachable(ctx, u, err)
	}
	*u = done
	u.Blob.Offset = u.Length
	s.Metrics.Completed.Inc()
	select {
	case s.thumbWake <- struct{}{}:
	default: // the worker is woken already
	}
	return p, nil
}

// notAttachable ends the upload u when err says its report takes no
// photo on its slot (Store.Attachable), and returns err.
func (s *Service) notAttachable(ctx context.Context, u *tus.Upload, err error) error {
	switch fieldsync.ErrorCode(err) {
	case fieldsync.EReportSealed, fieldsync.EInvalid, fieldsync.ENotFound:
		return s.reject(ctx, u, "report", err)
	}
	return err
}

// publish checks that done, an upload with its last bytes (in the spool
// of in) added, hashes to the declared SHA-256 and is an image of sane
// size, then stores it under its hash, unless the photo is stored
// already. A refusal drops the upload; nothing is stored or published.
func (s *Service) publish(ctx context.Context, done *tus.Upload, in *incoming) (*fieldsync.Photo, error) {
	done.Head = append([]byte(nil), done.Head...)
	if err := absorb(done, in.spool, in.n, in.photo); err != nil {
		return nil, err
	}
	p, err := s.verify(ctx, done)
	if err != nil {
		return nil, err
	}
	stored, err := s.stored(ctx, done.SHA256)
	if err != nil {
		return nil, err
	}
	if stored {
		// Whoever sent it first, these bytes are not needed.
		if err := s.Blobs.Abort(ctx, done.ID, done.Blob); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return p, nil
	}
	last := io.NewSectionReader(in.spool, 0, in.n)
	if err := s.Blobs.Finish(ctx, done.ID, done.Blob, last, done.SHA256); err != nil && !errors.Is(err, ErrExists) && !s.finishedBefore(ctx, done, err) {
		return nil, err // ErrExists: stored once, whoever sent it first
	}
	return p, nil
}

// finishedBefore says whether an upload whose parts the blob store no
// longer has (ErrNotFound) was finished by a process that died before
// recording it: its object is then stored under its hash, whole. Objects
// are stored only once verified, and done's bytes hash to the same name.
func (s *Service) finishedBefore(ctx context.Context, done *tus.Upload, err error) bool {
	if !errors.Is(err, ErrNotFound) {
		return false
	}
	size, serr := s.Blobs.Stat(ctx, EvidenceKey(done.SHA256))
	return serr == nil && size == done.Length
}

// absorb folds the first kept bytes of spool into the upload's hash and
// head. withKept is the upload's hash with those bytes in it already, or
// nil to hash them here.
func absorb(u *tus.Upload, spool *os.File, kept int64, withKept hash.Hash) error {
	h := withKept
	if h == nil {
		var err error
		if h, err = uploadHash(u); err != nil {
			return err
		}
		if _, err := io.Copy(h, io.NewSectionReader(spool, 0, kept)); err != nil {
			return err
		}
	}
	hs, err := marshalHash(h)
	if err != nil {
		return err
	}
	u.HashState = hs
	if missing := headLen - len(u.Head); missing > 0 {
		take := min(int64(missing), kept)
		buf := make([]byte, take)
		if _, err := spool.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		u.Head = append(u.Head, buf...)
	}
	return nil
}

// verify checks a complete upload's hash and image and describes the
// photo; a refusal drops the upload.
func (s *Service) verify(ctx context.Context, u *tus.Upload) (*fieldsync.Photo, error) {
	h, err := uploadHash(u)
	if err != nil {
		return nil, err
	}
	if got := hexSum(h); got != u.SHA256 {
		return nil, s.reject(ctx, u, "checksum", fieldsync.Errorf(fieldsync.EChecksumMismatch,
			"the photo's bytes hash to %s, not the declared %s; nothing was published", got, u.SHA256))
	}
	info, err := photo.Inspect(bytes.NewReader(u.Head), int64(len(u.Head)))
	switch {
	case errors.Is(err, photo.ErrTooLarge):
		return nil, s.reject(ctx, u, "dimensions", fieldsync.Errorf(fieldsync.EImageTooLarge, "the image's dimensions are too large to accept"))
	case err != nil:
		return nil, s.reject(ctx, u, "type", fieldsync.Errorf(fieldsync.ENotAnImage, "the upload is not a JPEG, PNG, HEIC or WebP photo"))
	}
	return s.photoOf(u, info), nil
}

// photoOf describes the photo an upload holds.
func (s *Service) photoOf(u *tus.Upload, info photo.Info) *fieldsync.Photo {
	p := &fieldsync.Photo{SHA256: u.SHA256, Size: u.Length, Type: string(info.Type), Width: info.Width, Height: info.Height,
		CapturedAt: info.CapturedAt, ReportID: u.ReportID, Slot: u.Slot, Filename: u.Metadata[tus.MetaFilename],
		UploadedBy: u.UserID, DeviceID: u.DeviceID, CreatedAt: s.Now().UTC()}
	if info.GPS != nil {
		p.GPS = &fieldsync.GPS{Lat: info.GPS.Lat, Lng: info.GPS.Lng}
	}
	if p.CapturedAt == nil {
		if t, err := time.Parse(time.RFC3339, u.Metadata[tus.MetaCapturedAt]); err == nil {
			t = t.UTC()
			p.CapturedAt = &t
		}
	}
	return p
}
