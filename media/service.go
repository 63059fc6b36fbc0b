package media

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
)

// Upload is a tus upload in progress, as the server's store keeps it.
type Upload struct {
	ID        string            `json:"id"`
	UserID    string            `json:"user_id"`
	DeviceID  string            `json:"device_id,omitempty"`
	Length    int64             `json:"length"`
	Metadata  map[string]string `json:"metadata"`
	SHA256    string            `json:"sha256"` // declared by the client; checked at the end
	ReportID  string            `json:"report_id"`
	Slot      string            `json:"slot"`
	Blob      State             `json:"blob"`
	HashState []byte            `json:"hash_state"` // SHA-256 of the bytes so far, marshalled
	Head      []byte            `json:"-"`          // the first bytes, to inspect before publishing; the store keeps them apart
	CreatedAt time.Time         `json:"created_at"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// Offset is how many bytes the upload holds.
func (u *Upload) Offset() int64 { return u.Blob.Offset }

// Store is what the media service needs of the server's store.
type Store interface {
	CreateUpload(ctx context.Context, u *Upload) error
	Upload(ctx context.Context, id string) (*Upload, error) // ENotFound
	SaveUpload(ctx context.Context, u *Upload) error
	DeleteUpload(ctx context.Context, id string) error
	CountUploads(ctx context.Context, userID string) (int, error)
	ExpiredUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error)
	// AddPhoto records a verified photo on its report, in one transaction
	// with what the report needs to show it. A new photo without a
	// thumbnail joins PendingThumbnails.
	AddPhoto(ctx context.Context, p *fieldsync.Photo) error
	// FinishUpload is AddPhoto and DeleteUpload of the upload the photo
	// came from, in one transaction.
	FinishUpload(ctx context.Context, uploadID string, p *fieldsync.Photo) error
	// PendingThumbnails lists up to limit photos awaiting a thumbnail, by
	// hash.
	PendingThumbnails(ctx context.Context, limit int) ([]fieldsync.Photo, error)
	// SetThumbnail takes a photo off PendingThumbnails; made records that
	// it has a thumbnail, on the photo and on each report it is on.
	SetThumbnail(ctx context.Context, sha256 string, made bool) error
	Photo(ctx context.Context, sha256 string) (*fieldsync.Photo, error) // ENotFound
	// PhotoReports lists the reports a photo is attached to.
	PhotoReports(ctx context.Context, sha256 string) ([]string, error)
}

// ReportChecker tells whether a user may attach photos to a report.
type ReportChecker func(ctx context.Context, userID, reportID string) error

// Service runs uploads. It holds no upload in memory: every step reads the
// upload's record, works, and writes it back.
type Service struct {
	Blobs      BlobStore
	Store      Store
	CanAttach  ReportChecker
	Now        func() time.Time
	MaxSize    int64         // largest photo accepted
	MaxPerUser int           // uploads in progress per user
	Expiry     time.Duration // an unfinished upload is dropped after this
	ThumbSide  int           // longest side of thumbnails, pixels
	SpoolDir   string        // where a PATCH body waits while it is checked
	Metrics    *Metrics
	Logger     *slog.Logger  // nil: slog.Default()
	locks      sync.Map      // upload id -> *sync.Mutex: one writer per upload
	thumbWake  chan struct{} // a photo joined the thumbnail queue
	thumbMu    sync.Mutex    // one thumbnailer at a time: uploads keep the other cores
	// ThumbQuiet and ThumbPatience make thumbnails yield to uploads (see
	// yieldToUploads); zero: DefaultThumbQuiet and DefaultThumbPatience.
	ThumbQuiet, ThumbPatience time.Duration
	writes                    atomic.Int64 // Writes in progress
	lastWrite                 atomic.Int64 // when the last Write ended, as time since started
	started                   time.Time
	initOnce                  sync.Once
}

// Defaults.
const (
	DefaultMaxSize    = 32 << 20
	DefaultMaxPerUser = 50
	DefaultExpiry     = 24 * time.Hour
	DefaultThumbSide  = 320
	headLen           = 256 << 10 // enough for JPEG, PNG, WebP and HEIC headers with EXIF
	writeTimeout      = 2 * time.Minute
)

func (s *Service) init() {
	s.initOnce.Do(func() {
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.MaxSize <= 0 {
			s.MaxSize = DefaultMaxSize
		}
		if s.MaxPerUser <= 0 {
			s.MaxPerUser = DefaultMaxPerUser
		}
		if s.Expiry <= 0 {
			s.Expiry = DefaultExpiry
		}
		if s.ThumbSide <= 0 {
			s.ThumbSide = DefaultThumbSide
		}
		if s.Metrics == nil {
			s.Metrics = NewMetrics(nil)
		}
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		s.thumbWake = make(chan struct{}, 1)
		if s.ThumbQuiet <= 0 {
			s.ThumbQuiet = DefaultThumbQuiet
		}
		if s.ThumbPatience <= 0 {
			s.ThumbPatience = DefaultThumbPatience
		}
		s.started = time.Now()
	})
}

// MaxUpload is the largest photo this service accepts (Tus-Max-Size).
func (s *Service) MaxUpload() int64 {
	s.init()
	return s.MaxSize
}

// Attach puts a photo the server already has on another report's slot, so
// a device that learns (HEAD /v1/media/{sha256}) the server has its photo
// never sends the bytes again.
func (s *Service) Attach(ctx context.Context, a fieldsync.Actor, sha, reportID, slot string) (*fieldsync.Photo, error) {
	s.init()
	if reportID == "" || slot == "" || len(slot) > 64 {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "report_id and slot are required")
	}
	p, err := s.Exists(ctx, sha)
	if err != nil {
		return nil, err
	}
	if err := s.CanAttach(ctx, a.UserID, reportID); err != nil {
		return nil, err
	}
	att := *p
	att.ReportID, att.Slot, att.UploadedBy, att.DeviceID, att.CreatedAt = reportID, slot, a.UserID, a.DeviceID, s.Now().UTC()
	if err := s.Store.AddPhoto(ctx, &att); err != nil {
		return nil, err
	}
	return &att, nil
}

// Create starts an upload of length bytes. Metadata must name sha256,
// report_id and slot; filename, filetype and captured_at are optional.
func (s *Service) Create(ctx context.Context, a fieldsync.Actor, length int64, meta map[string]string) (*Upload, error) {
	s.init()
	switch {
	case length <= 0:
		return nil, s.refuse("length", fieldsync.Errorf(fieldsync.EInvalid, "Upload-Length must be a positive number of bytes"))
	case length > s.MaxSize:
		return nil, s.refuse("size", fieldsync.Errorf(fieldsync.ETooLarge, "a photo may hold at most %d bytes", s.MaxSize))
	}
	sha := strings.ToLower(meta["sha256"])
	if !fieldsync.ValidSHA256(sha) {
		return nil, s.refuse("metadata", fieldsync.Errorf(fieldsync.EInvalid, "Upload-Metadata must carry sha256, the hex SHA-256 of the photo"))
	}
	if meta["report_id"] == "" || meta["slot"] == "" || len(meta["slot"]) > 64 {
		return nil, s.refuse("metadata", fieldsync.Errorf(fieldsync.EInvalid, "Upload-Metadata must carry report_id and slot"))
	}
	if err := s.CanAttach(ctx, a.UserID, meta["report_id"]); err != nil {
		return nil, s.refuse("forbidden", err)
	}
	if n, err := s.Store.CountUploads(ctx, a.UserID); err != nil {
		return nil, err
	} else if n >= s.MaxPerUser {
		return nil, s.refuse("too_many", fieldsync.Errorf(fieldsync.ETooMany, "at most %d uploads may be open at once; finish or delete some", s.MaxPerUser))
	}
	now := s.Now().UTC()
	id := uuid.Must(uuid.NewV7()).String()
	st, err := s.Blobs.Begin(ctx, id, length)
	if err != nil {
		return nil, err
	}
	hs, err := marshalHash(sha256.New())
	if err != nil {
		return nil, err
	}
	u := &Upload{ID: id, UserID: a.UserID, DeviceID: a.DeviceID, Length: length, Metadata: meta, SHA256: sha,
		ReportID: meta["report_id"], Slot: meta["slot"], Blob: st, HashState: hs, CreatedAt: now, ExpiresAt: now.Add(s.Expiry)}
	if err := s.Store.CreateUpload(ctx, u); err != nil {
		s.Blobs.Abort(ctx, id, st)
		return nil, err
	}
	return u, nil
}

// Get returns the caller's upload (ENotFound for another user's).
func (s *Service) Get(ctx context.Context, a fieldsync.Actor, id string) (*Upload, error) {
	s.init()
	u, err := s.Store.Upload(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.UserID != a.UserID {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "upload %q not found", id)
	}
	if !s.Now().Before(u.ExpiresAt) {
		return nil, fieldsync.Errorf(fieldsync.EUploadExpired, "upload %q expired; start again", id)
	}
	return u, nil
}

// Checksum is a tus Upload-Checksum: the chunk must hash to Sum.
type Checksum struct {
	Algorithm string // sha1, sha256 or md5
	Sum       []byte
}

// ParseChecksum reads an Upload-Checksum header value.
func ParseChecksum(v string) (*Checksum, error) {
	alg, sum, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "Upload-Checksum must be \"<algorithm> <base64>\"")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sum))
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "Upload-Checksum is not base64")
	}
	if newChecksumHash(alg) == nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "unsupported checksum algorithm %q (sha1, sha256, md5)", alg)
	}
	return &Checksum{Algorithm: alg, Sum: raw}, nil
}

// ChecksumAlgorithms lists what Upload-Checksum may use.
const ChecksumAlgorithms = "sha1,sha256,md5"

func newChecksumHash(alg string) hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "md5":
		return md5.New()
	}
	return nil
}

// Write appends body to the upload at offset. It returns the upload and,
// when this write completed it, the published photo. A cut body keeps the
// bytes that arrived (with no checksum to check), so the client resumes
// at the returned offset. A body that completes the upload is checked
// with everything before it (the photo's SHA-256, its type and size)
// before any of it is stored, and goes to the blob store's Finish: a
// photo sent in one request is written once, under its name, while it
// arrives (stream). length is the body's declared length, -1 if unknown.
func (s *Service) Write(ctx context.Context, a fieldsync.Actor, id string, offset int64, body io.Reader, length int64, sum *Checksum) (*Upload, *fieldsync.Photo, error) {
	s.init()
	s.writes.Add(1)
	defer func() {
		s.lastWrite.Store(int64(time.Since(s.started)))
		s.writes.Add(-1)
	}()
	mu, _ := s.locks.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

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
	// The body waits in a spool file: then a checksum can be checked before
	// anything is kept, and exactly the bytes the blob store kept are hashed.
	// Both hashes are taken as the bytes arrive, while the network is the
	// slower.
	in, err := s.receive(u, body, sum)
	if err != nil {
		return u, nil, err
	}
	defer in.close()
	if offset == 0 && length == u.Length {
		if p, ok, err := s.stream(ctx, u, in, sum); ok {
			return u, p, err
		}
	}
	n := in.drain()
	spool, readErr, photoHash, chunkHash := in.spool, in.err, in.photo, in.chunk
	// What arrived is on local disk now. A cut connection cancels the
	// request's context, but its bytes must still be kept: the rest of the
	// write runs on a context of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if sum != nil {
		if readErr != nil {
			return u, nil, fieldsync.Errorf(fieldsync.EInvalid, "the chunk did not arrive whole; send it again")
		}
		if !bytes.Equal(chunkHash.Sum(nil), sum.Sum) {
			s.Metrics.Refused.WithLabelValues("checksum").Inc()
			return u, nil, fieldsync.Errorf(fieldsync.EChecksumMismatch, "the chunk does not match its Upload-Checksum; nothing of it was kept")
		}
	}
	if offset == 0 && n >= 16 {
		head := make([]byte, 16)
		spool.ReadAt(head, 0)
		if _, err := photo.Sniff(head); err != nil {
			s.Metrics.Refused.WithLabelValues("type").Inc()
			s.drop(ctx, u)
			return nil, nil, fieldsync.Errorf(fieldsync.ENotAnImage, "only JPEG, PNG, HEIC and WebP photos are accepted")
		}
	}
	if readErr == nil && offset+n == u.Length {
		p, err := s.finish(ctx, u, spool, n, photoHash)
		return u, p, err
	}
	st, appendErr := s.Blobs.Append(ctx, u.ID, u.Blob, io.NewSectionReader(spool, 0, n))
	kept := st.Offset - u.Offset()
	if kept < 0 || kept > n {
		return u, nil, fmt.Errorf("media: blob store kept %d of %d bytes", kept, n)
	}
	if kept > 0 {
		if kept < n {
			photoHash = nil // it holds bytes the store did not keep
		}
		if err := s.absorb(u, spool, kept, photoHash); err != nil {
			return u, nil, err
		}
		u.Blob = st
		if err := s.Store.SaveUpload(ctx, u); err != nil {
			return u, nil, err
		}
		s.Metrics.Bytes.Add(float64(kept))
	}
	if appendErr != nil {
		return u, nil, appendErr
	}
	return u, nil, readErr
}

// hash is the SHA-256 of the bytes the upload holds, to go on with.
func (u *Upload) hash() (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(u.HashState); err != nil {
		return nil, fmt.Errorf("media: upload %s hash state: %w", u.ID, err)
	}
	return h, nil
}

// absorb folds the kept bytes into the upload's hash and head. withKept
// is the upload's hash with the kept bytes in it already, or nil to hash
// them here.
func (s *Service) absorb(u *Upload, spool *os.File, kept int64, withKept hash.Hash) error {
	h := withKept
	if h == nil {
		var err error
		if h, err = u.hash(); err != nil {
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

// finish publishes an upload with its last n bytes, waiting in spool;
// withLast is the upload's hash with them in it.
// With them the bytes must hash to the declared SHA-256 and be an image of
// sane size, or nothing is stored or published and the upload is dropped.
// On success u holds all its bytes; after any other failure it is as it
// was, so the same request may be sent again.
func (s *Service) finish(ctx context.Context, u *Upload, spool *os.File, n int64, withLast hash.Hash) (*fieldsync.Photo, error) {
	done := *u
	done.Head = append([]byte(nil), u.Head...)
	if err := s.absorb(&done, spool, n, withLast); err != nil {
		return nil, err
	}
	p, err := s.verify(ctx, &done)
	if err != nil {
		return nil, err
	}
	switch _, err := s.Store.Photo(ctx, u.SHA256); {
	case err == nil:
		// Stored already, whoever sent it first: these bytes are not needed.
		if err := s.Blobs.Abort(ctx, u.ID, u.Blob); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	case fieldsync.ErrorCode(err) != fieldsync.ENotFound:
		return nil, err
	default:
		switch err := s.Blobs.Finish(ctx, u.ID, u.Blob, io.NewSectionReader(spool, 0, n), u.SHA256); {
		case errors.Is(err, ErrExists): // stored once, whoever sent it first
		case err != nil:
			return nil, err
		}
	}
	return s.record(ctx, u, &done, p, n)
}

// record makes a published photo part of its report and forgets the
// upload, done, that holds all its bytes; n of them came with this
// request.
func (s *Service) record(ctx context.Context, u, done *Upload, p *fieldsync.Photo, n int64) (*fieldsync.Photo, error) {
	s.Metrics.Bytes.Add(float64(n))
	// The thumbnail is made by RunThumbnails, after this request: decoding
	// a photo costs more than all of receiving it.
	p.Thumbnail = false
	if err := s.Store.FinishUpload(ctx, u.ID, p); err != nil {
		return nil, err
	}
	*u = *done
	u.Blob.Offset = u.Length
	s.locks.Delete(u.ID)
	s.Metrics.Completed.Inc()
	select {
	case s.thumbWake <- struct{}{}:
	default: // the worker is woken already
	}
	return p, nil
}

// verify checks a complete upload's hash and image and describes the
// photo; a refusal drops the upload.
func (s *Service) verify(ctx context.Context, u *Upload) (*fieldsync.Photo, error) {
	h, err := u.hash()
	if err != nil {
		return nil, err
	}
	if err := s.checkHash(ctx, u, h); err != nil {
		return nil, err
	}
	return s.describe(ctx, u, u.Head)
}

// checkHash refuses an upload whose bytes, hashed in h, are not the photo
// it declared, and drops it.
func (s *Service) checkHash(ctx context.Context, u *Upload, h hash.Hash) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != u.SHA256 {
		s.Metrics.Refused.WithLabelValues("checksum").Inc()
		s.drop(ctx, u)
		return fieldsync.Errorf(fieldsync.EChecksumMismatch, "the photo's bytes hash to %s, not the declared %s; nothing was published", got, u.SHA256)
	}
	return nil
}

// describe reads the photo's type, dimensions and EXIF from its first
// bytes. An image of a type not accepted, or too large to decode, is
// refused and its upload dropped.
func (s *Service) describe(ctx context.Context, u *Upload, head []byte) (*fieldsync.Photo, error) {
	info, err := photo.Inspect(bytes.NewReader(head), int64(len(head)))
	switch {
	case errors.Is(err, photo.ErrTooLarge):
		s.Metrics.Refused.WithLabelValues("dimensions").Inc()
		s.drop(ctx, u)
		return nil, fieldsync.Errorf(fieldsync.EImageTooLarge, "the image's dimensions are too large to accept")
	case err != nil:
		s.Metrics.Refused.WithLabelValues("type").Inc()
		s.drop(ctx, u)
		return nil, fieldsync.Errorf(fieldsync.ENotAnImage, "the upload is not a JPEG, PNG, HEIC or WebP photo")
	}
	return s.photoOf(u, info), nil
}

// photoOf describes the photo an upload holds.
func (s *Service) photoOf(u *Upload, info photo.Info) *fieldsync.Photo {
	p := &fieldsync.Photo{SHA256: u.SHA256, Size: u.Length, Type: string(info.Type), Width: info.Width, Height: info.Height,
		CapturedAt: info.CapturedAt, ReportID: u.ReportID, Slot: u.Slot, Filename: u.Metadata["filename"],
		UploadedBy: u.UserID, DeviceID: u.DeviceID, CreatedAt: s.Now().UTC()}
	if info.GPS != nil {
		p.GPS = &fieldsync.GPS{Lat: info.GPS.Lat, Lng: info.GPS.Lng}
	}
	if p.CapturedAt == nil {
		if t, err := time.Parse(time.RFC3339, u.Metadata["captured_at"]); err == nil {
			t = t.UTC()
			p.CapturedAt = &t
		}
	}
	return p
}

// Terminate deletes the caller's upload and every part of it.
func (s *Service) Terminate(ctx context.Context, a fieldsync.Actor, id string) error {
	s.init()
	u, err := s.Store.Upload(ctx, id)
	if err != nil {
		return err
	}
	if u.UserID != a.UserID {
		return fieldsync.Errorf(fieldsync.ENotFound, "upload %q not found", id)
	}
	return s.drop(ctx, u)
}

func (s *Service) drop(ctx context.Context, u *Upload) error {
	if err := s.Blobs.Abort(ctx, u.ID, u.Blob); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.locks.Delete(u.ID)
	return s.Store.DeleteUpload(ctx, u.ID)
}

// Expire drops uploads past their expiry, parts included. It returns how
// many it dropped.
func (s *Service) Expire(ctx context.Context) (int, error) {
	s.init()
	n := 0
	for {
		old, err := s.Store.ExpiredUploads(ctx, s.Now(), 100)
		if err != nil || len(old) == 0 {
			return n, err
		}
		for i := range old {
			if err := s.drop(ctx, &old[i]); err != nil {
				return n, err
			}
			n++
		}
	}
}

// Run expires uploads every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Expire(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Exists reports whether a photo with this hash is stored and verified.
func (s *Service) Exists(ctx context.Context, sha string) (*fieldsync.Photo, error) {
	if !fieldsync.ValidSHA256(sha) {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "not a SHA-256: %q", sha)
	}
	return s.Store.Photo(ctx, sha)
}

// Open returns a stored photo or its thumbnail as a seekable reader, so
// that HTTP range requests read only the bytes they ask for.
func (s *Service) Open(ctx context.Context, p *fieldsync.Photo, thumb bool) (io.ReadSeekCloser, error) {
	key, size := EvidenceKey(p.SHA256), p.Size
	if thumb {
		if !p.Thumbnail {
			return nil, fieldsync.Errorf(fieldsync.ENotFound, "photo %s has no thumbnail", p.SHA256)
		}
		key = ThumbKey(p.SHA256)
		n, err := s.Blobs.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		size = n
	}
	return &blobReader{ctx: ctx, blobs: s.Blobs, key: key, size: size}, nil
}

// blobReader reads an object from the offset it was sought to: the store
// is asked for the bytes only when they are read.
type blobReader struct {
	ctx       context.Context
	blobs     BlobStore
	key       string
	size, off int64
	rc        io.ReadCloser
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	if b.rc == nil {
		rc, err := b.blobs.Open(b.ctx, b.key, b.off, -1)
		if err != nil {
			return 0, err
		}
		b.rc = rc
	}
	n, err := b.rc.Read(p)
	b.off += int64(n)
	return n, err
}

func (b *blobReader) Seek(offset int64, whence int) (int64, error) {
	var to int64
	switch whence {
	case io.SeekStart:
		to = offset
	case io.SeekCurrent:
		to = b.off + offset
	case io.SeekEnd:
		to = b.size + offset
	}
	if to < 0 {
		return b.off, errors.New("media: seek before the start")
	}
	if to != b.off && b.rc != nil {
		b.rc.Close()
		b.rc = nil
	}
	b.off = to
	return to, nil
}

func (b *blobReader) Close() error {
	if b.rc != nil {
		return b.rc.Close()
	}
	return nil
}

func (s *Service) refuse(reason string, err error) error {
	s.init()
	s.Metrics.Refused.WithLabelValues(reason).Inc()
	return err
}

func marshalHash(h hash.Hash) ([]byte, error) {
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}
