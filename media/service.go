package media

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
	"github.com/fieldsync/fieldsync/media/tus"
)

// Store is what the media service needs of the server's store.
type Store interface {
	// CreateUpload records a new upload unless its user has maxOpen
	// uploads open already (ETooMany), counted in the same transaction.
	CreateUpload(ctx context.Context, u *tus.Upload, maxOpen int) error
	Upload(ctx context.Context, id string) (*tus.Upload, error) // ENotFound
	SaveUpload(ctx context.Context, u *tus.Upload) error
	DeleteUpload(ctx context.Context, id string) error
	ExpiredUploads(ctx context.Context, before time.Time, limit int) ([]tus.Upload, error)
	// Attachable returns ENotFound for a report not stored, EReportSealed
	// for a signed one whose signature does not name photo sha on slot,
	// EInvalid for a slot its template does not have: a draft's own slots
	// take photos, a signed report only those it was signed with.
	Attachable(ctx context.Context, reportID, slot, sha string) error
	// AddPhoto records a verified photo on its report, in one transaction
	// with what the report needs to show it, refusing what Attachable
	// refuses, as of that transaction. A new photo without a thumbnail
	// joins PendingThumbnails.
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
	// RefuseUpload keeps a refused upload on its report, audited; a
	// report not stored keeps nothing.
	RefuseUpload(ctx context.Context, r *fieldsync.RefusedUpload) error
}

// ReportChecker tells whether a user may attach photos to a report.
type ReportChecker func(ctx context.Context, userID, reportID string) error

// Config is what a Service is made of. New fills in the zero fields but
// CanAttach; none may change once the service is in use.
type Config struct {
	Blobs BlobStore
	Store Store
	// CanAttach is required; server.New puts the server's rule (the
	// technician of the report's visit) in a Config without one.
	CanAttach  ReportChecker
	SpoolDir   string        // where a PATCH body waits while it is checked; "": os.TempDir()
	MaxSize    int64         // largest photo accepted
	MaxPerUser int           // uploads in progress per user
	Expiry     time.Duration // an unfinished upload is dropped after this
	ThumbSide  int           // longest side of thumbnails, pixels
	// ThumbQuiet and ThumbPatience make thumbnails yield to uploads (see
	// yieldToUploads).
	ThumbQuiet, ThumbPatience time.Duration
	Metrics                   *Metrics // nil: new counters, registered nowhere (server.New registers them)
	Logger                    *slog.Logger
	Now                       func() time.Time
}

// Defaults of Config.
const (
	DefaultMaxSize       = photo.MaxBytes
	DefaultMaxPerUser    = 50
	DefaultExpiry        = 24 * time.Hour
	DefaultThumbSide     = 320
	DefaultThumbQuiet    = 250 * time.Millisecond
	DefaultThumbPatience = 2 * time.Second
)

// Service runs uploads. It holds no upload in memory: every step reads the
// upload's record, works, and writes it back.
type Service struct {
	Config
	locks     uploadLocks   // one writer per upload: Write, Terminate, Expire
	thumbWake chan struct{} // a photo joined the thumbnail queue
	thumbMu   sync.Mutex    // one thumbnailer at a time: uploads keep the other cores
	writes    atomic.Int64  // Writes in progress
	lastWrite atomic.Int64  // when the last Write ended, as time since started
	started   time.Time
}

// New makes a service of c, its zero fields set to their defaults.
func New(c Config) *Service {
	orDefault(&c.MaxSize, DefaultMaxSize)
	orDefault(&c.MaxPerUser, DefaultMaxPerUser)
	orDefault(&c.Expiry, DefaultExpiry)
	orDefault(&c.ThumbSide, DefaultThumbSide)
	orDefault(&c.ThumbQuiet, DefaultThumbQuiet)
	orDefault(&c.ThumbPatience, DefaultThumbPatience)
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{Config: c, thumbWake: make(chan struct{}, 1), started: time.Now()}
}

// orDefault sets *v to def unless it is positive.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Attach puts a photo the server already has on another report's slot, so
// a device that learns (HEAD /v1/media/{sha256}) the server has its photo
// never sends the bytes again.
func (s *Service) Attach(ctx context.Context, a fieldsync.Actor, sha, reportID, slot string) (*fieldsync.Photo, error) {
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
	if err := s.Store.Attachable(ctx, reportID, slot, sha); err != nil {
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
func (s *Service) Create(ctx context.Context, a fieldsync.Actor, length int64, meta map[string]string) (*tus.Upload, error) {
	switch {
	case length <= 0:
		return nil, s.refuse("length", fieldsync.Errorf(fieldsync.EInvalid, "Upload-Length must be a positive number of bytes"))
	case length > s.MaxSize:
		err := s.refuse("size", fieldsync.Errorf(fieldsync.ETooLarge, "a photo may hold at most %d bytes", s.MaxSize))
		s.keepRefusal(ctx, a, meta, length, err)
		return nil, err
	}
	sha := strings.ToLower(meta[tus.MetaSHA256])
	if !fieldsync.ValidSHA256(sha) {
		return nil, s.refuse("metadata", fieldsync.Errorf(fieldsync.EInvalid, "Upload-Metadata must carry sha256, the hex SHA-256 of the photo"))
	}
	reportID, slot := meta[tus.MetaReportID], meta[tus.MetaSlot]
	if reportID == "" || slot == "" || len(slot) > 64 {
		return nil, s.refuse("metadata", fieldsync.Errorf(fieldsync.EInvalid, "Upload-Metadata must carry report_id and slot"))
	}
	if err := s.CanAttach(ctx, a.UserID, reportID); err != nil {
		return nil, s.refuse("forbidden", err)
	}
	if err := s.Store.Attachable(ctx, reportID, slot, sha); err != nil {
		s.keepRefusal(ctx, a, meta, length, err)
		return nil, s.refuse("report", err)
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
	u := &tus.Upload{ID: id, UserID: a.UserID, DeviceID: a.DeviceID, Length: length, Metadata: meta, SHA256: sha,
		ReportID: reportID, Slot: slot, Blob: st, HashState: hs, CreatedAt: now, ExpiresAt: now.Add(s.Expiry)}
	if err := s.Store.CreateUpload(ctx, u, s.MaxPerUser); err != nil {
		if aerr := s.Blobs.Abort(ctx, id, st); aerr != nil {
			// No record names these parts, so Expire never finds them.
			s.Logger.Warn("discarding the parts of an upload not recorded failed", "upload", id, "error", aerr.Error())
		}
		if fieldsync.ErrorCode(err) == fieldsync.ETooMany {
			return nil, s.refuse("too_many", err)
		}
		return nil, err
	}
	return u, nil
}

// Get returns the caller's upload (ENotFound for another user's).
func (s *Service) Get(ctx context.Context, a fieldsync.Actor, id string) (*tus.Upload, error) {
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

// Terminate deletes the caller's upload and every part of it, once no
// write to it is in progress.
func (s *Service) Terminate(ctx context.Context, a fieldsync.Actor, id string) error {
	defer s.locks.lock(id)()
	u, err := s.Store.Upload(ctx, id)
	if err != nil {
		return err
	}
	if u.UserID != a.UserID {
		return fieldsync.Errorf(fieldsync.ENotFound, "upload %q not found", id)
	}
	return s.drop(ctx, u)
}

// drop discards an upload: its parts, then its record, then what a
// crashed write left of it in the spool. The caller holds its lock.
func (s *Service) drop(ctx context.Context, u *tus.Upload) error {
	if err := s.Blobs.Abort(ctx, u.ID, u.Blob); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := s.Store.DeleteUpload(ctx, u.ID); err != nil {
		return err
	}
	s.removeSpools(u.ID)
	return nil
}

// Expire drops uploads past their expiry, parts included, each under its
// lock, so a write in progress finishes first. It returns how many it
// dropped.
func (s *Service) Expire(ctx context.Context) (int, error) {
	n := 0
	for {
		old, err := s.Store.ExpiredUploads(ctx, s.Now(), 100)
		if err != nil || len(old) == 0 {
			return n, err
		}
		before := n
		for i := range old {
			dropped, err := s.expire(ctx, old[i].ID)
			if err != nil {
				return n, err
			}
			if dropped {
				n++
			}
		}
		if n == before {
			return n, nil // none of these is left to drop: no loop on them
		}
	}
}

// expire drops the upload id if, under its lock, it is still there and
// expired: a write that held the lock may have finished it.
func (s *Service) expire(ctx context.Context, id string) (bool, error) {
	defer s.locks.lock(id)()
	u, err := s.Store.Upload(ctx, id)
	if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if s.Now().Before(u.ExpiresAt) {
		return false, nil
	}
	return true, s.drop(ctx, u)
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

// Exists returns a stored, verified photo by its hash, or ENotFound.
func (s *Service) Exists(ctx context.Context, sha string) (*fieldsync.Photo, error) {
	if !fieldsync.ValidSHA256(sha) {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "not a SHA-256: %q", sha)
	}
	return s.Store.Photo(ctx, sha)
}

// stored reports whether the photo sha is stored already, whoever sent it.
func (s *Service) stored(ctx context.Context, sha string) (bool, error) {
	_, err := s.Store.Photo(ctx, sha)
	return found(err)
}

// found turns a lookup's error into whether the record exists: ENotFound
// is false, any other error is returned.
func found(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case fieldsync.ErrorCode(err) == fieldsync.ENotFound:
		return false, nil
	default:
		return false, err
	}
}

// refuse counts a refusal by reason and returns err, the answer.
func (s *Service) refuse(reason string, err error) error {
	s.Metrics.Refused.WithLabelValues(reason).Inc()
	return err
}

// reject is refuse for a refusal that ends the upload u: it is dropped.
// A refusal of the photo itself (not of bytes spoilt on the way, which
// the device sends again) is kept on its report for the dispatcher.
func (s *Service) reject(ctx context.Context, u *tus.Upload, reason string, err error) error {
	// The refusal is the answer; an upload that stays after a failed drop
	// is dropped again by Expire.
	_ = s.drop(ctx, u)
	if reason != "checksum" {
		s.keepRefusal(ctx, fieldsync.Actor{UserID: u.UserID, DeviceID: u.DeviceID}, u.Metadata, u.Length, err)
	}
	return s.refuse(reason, err)
}

// keepRefusal keeps a refusal of the photo an upload's metadata describes
// on the report it names, when the user may attach photos to that report:
// what reaches a report's record of refusals is the work of its own
// technicians. Keeping it is best effort: the refusal is the answer
// either way.
func (s *Service) keepRefusal(ctx context.Context, a fieldsync.Actor, meta map[string]string, length int64, refusal error) {
	reportID, slot := meta[tus.MetaReportID], meta[tus.MetaSlot]
	code := fieldsync.ErrorCode(refusal)
	switch {
	case reportID == "" || slot == "" || len(slot) > 64, code == fieldsync.ENotFound:
		return
	case s.CanAttach(ctx, a.UserID, reportID) != nil:
		return
	}
	filename, sha := meta[tus.MetaFilename], strings.ToLower(meta[tus.MetaSHA256])
	if len(filename) > 255 {
		filename = strings.ToValidUTF8(filename[:255], "")
	}
	if !fieldsync.ValidSHA256(sha) {
		sha = ""
	}
	r := &fieldsync.RefusedUpload{
		ReportID: reportID, Slot: slot, Filename: filename, SHA256: sha,
		Size: length, Code: code, Detail: fieldsync.ErrorDetail(refusal),
		UploadedBy: a.UserID, DeviceID: a.DeviceID, At: s.Now().UTC(),
	}
	if err := s.Store.RefuseUpload(context.WithoutCancel(ctx), r); err != nil {
		s.Logger.Warn("keeping a refused upload on its report failed", "report_id", reportID, "slot", slot, "error", err.Error())
	}
}
