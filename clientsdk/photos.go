package clientsdk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
)

// Photos: evidence taken on the device, offline or not. AttachPhoto copies
// the picture into the SDK's own directory (<db file>.photos/<sha256>) and,
// in one transaction, queues it and records it on its report. Sync and
// Start upload the queue by tus (upload.go) after the text records; the
// app follows each photo by Photos, ReportPhotos and the photo events.

// PhotoState is where a photo stands on its way to the server.
type PhotoState string

const (
	PhotoQueued    PhotoState = "queued"    // on the device; no upload started (or the last one was lost)
	PhotoUploading PhotoState = "uploading" // an upload holds Sent of Size bytes on the server
	PhotoVerified  PhotoState = "verified"  // the server verified its hash and attached it to the report
	PhotoFailed    PhotoState = "failed"    // refused for good; Error and Detail say why; the file is kept
)

// DefaultPhotoChunkSize is Options.PhotoChunkSize when unset.
const DefaultPhotoChunkSize = 1 << 20

const (
	minPhotoChunkSize = 16 << 10
	maxSlotLen        = 64 // the server's limit on a slot name
	maxFilenameLen    = 255
	// LocalPhotosKey is the key of Report.Extra under which Report and
	// Bundle list the photos attached on this device (a JSON array of
	// LocalPhoto). It is laid over on reads only: never sent, never
	// stored with the report, and not part of what the server keeps.
	LocalPhotosKey = "local_photos"
)

// Codes the device gives a photo itself (the server's codes pass through).
const (
	codeFileMissing = "file_missing" // the device's copy of the photo is gone
	codeFileCorrupt = "file_corrupt" // the device's copy no longer hashes to its name
)

// PhotoRef names an attached photo.
type PhotoRef struct {
	ID       int64  // the photo's number on this device, in the order attached
	SHA256   string // lower-case hex of its bytes
	ReportID string
	Slot     string
	Size     int64
}

// PhotoStatus is one photo of the queue, for the app to show: its state,
// and Sent of Size bytes for a progress bar.
type PhotoStatus struct {
	PhotoRef
	Status     PhotoState
	Sent       int64  // bytes the server has acknowledged
	Error      string // a failed photo's code: the server's (not_an_image, image_too_large…) or the device's (file_missing)
	Detail     string // what the server or the device said; for a queued photo, why it waits
	Attempts   int    // refused chunks in a row (checksum_mismatch…); at maxPhotoAttempts the photo fails
	Filename   string // the name of the file it was attached from
	Type       string // sniffed on the device: image/jpeg…
	Path       string // the device's copy
	CapturedAt time.Time
	QueuedAt   time.Time
	VerifiedAt *time.Time
}

// LocalPhoto is an entry of Report.Extra[LocalPhotosKey].
type LocalPhoto struct {
	SHA256   string     `json:"sha256"`
	Slot     string     `json:"slot"`
	Size     int64      `json:"size"`
	Filename string     `json:"filename,omitempty"`
	Status   PhotoState `json:"status"`
}

// photoEntry is a photo as the queue keeps it.
type photoEntry struct {
	SHA256     string     `json:"sha256"`
	ReportID   string     `json:"report_id"`
	Slot       string     `json:"slot"`
	Size       int64      `json:"size"`
	Filename   string     `json:"filename,omitempty"`
	Type       string     `json:"type,omitempty"`
	CapturedAt time.Time  `json:"captured_at"`
	QueuedAt   time.Time  `json:"queued_at"`
	State      PhotoState `json:"status"`
	Sent       int64      `json:"sent"`                 // acknowledged by the server
	UploadURL  string     `json:"upload_url,omitempty"` // the tus upload holding Sent bytes
	Code       string     `json:"error,omitempty"`
	Detail     string     `json:"detail,omitempty"`
	Attempts   int        `json:"attempts,omitempty"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
}

func (e *photoEntry) done() bool { return e.State == PhotoVerified || e.State == PhotoFailed }

// listing is the photo as its report lists it.
func (e *photoEntry) listing() LocalPhoto {
	return LocalPhoto{SHA256: e.SHA256, Slot: e.Slot, Size: e.Size, Filename: e.Filename, Status: e.State}
}

// photoFiles is the device's copies of attached photos, in
// <db file>.photos named by SHA-256, with the queue entries that name
// them.
type photoFiles struct {
	dir  string
	db   *bbolt.DB
	refs *refCache

	mu sync.Mutex // an attachment's file and its queue entry settle together
}

func (p *photoFiles) path(sha string) string { return filepath.Join(p.dir, sha) }

func (p *photoFiles) status(id int64, e *photoEntry) PhotoStatus {
	return PhotoStatus{
		PhotoRef: PhotoRef{ID: id, SHA256: e.SHA256, ReportID: e.ReportID, Slot: e.Slot, Size: e.Size},
		Status:   e.State, Sent: e.Sent, Error: e.Code, Detail: e.Detail, Attempts: e.Attempts,
		Filename: e.Filename, Type: e.Type, Path: p.path(e.SHA256),
		CapturedAt: e.CapturedAt, QueuedAt: e.QueuedAt, VerifiedAt: e.VerifiedAt,
	}
}

func photoKey(id int64) []byte { return u64(uint64(id)) }

func photoIndexKey(reportID, slot, sha string) []byte {
	return []byte(reportID + "\x00" + slot + "\x00" + sha)
}

func getPhoto(tx *bbolt.Tx, id int64) (*photoEntry, error) {
	var e photoEntry
	if ok, err := getJSON(tx, bucketPhotos, photoKey(id), &e); !ok {
		return nil, err
	}
	return &e, nil
}

func putPhoto(tx *bbolt.Tx, id int64, e *photoEntry) error {
	return putJSON(tx, bucketPhotos, photoKey(id), e)
}

// eachPhoto calls fn for every photo of the queue, oldest first.
func eachPhoto(tx *bbolt.Tx, fn func(id int64, e *photoEntry) error) error {
	return eachJSON(tx, bucketPhotos, nil, func(k []byte, e *photoEntry) error {
		return fn(int64(binary.BigEndian.Uint64(k)), e)
	})
}

// reportPhotos returns the photos attached to a report on this device,
// by slot, then hash.
func reportPhotos(tx *bbolt.Tx, reportID string) ([]int64, []*photoEntry, error) {
	var (
		ids     []int64
		entries []*photoEntry
	)
	prefix := []byte(reportID + "\x00")
	cur := tx.Bucket(bucketPhotosByReport).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		if len(v) != 8 {
			return nil, nil, fmt.Errorf("photo index %q: malformed id", k)
		}
		id := int64(binary.BigEndian.Uint64(v))
		e, err := getPhoto(tx, id)
		if err != nil {
			return nil, nil, err
		}
		if e == nil {
			return nil, nil, fmt.Errorf("photo index %q names photo %d, which is not in the queue", k, id)
		}
		ids, entries = append(ids, id), append(entries, e)
	}
	return ids, entries, nil
}

// AttachPhoto attaches the picture at path to a slot of a report (one the
// device knows: pulled, or created here and not yet synced). It works
// offline: the file is copied into the SDK's directory — streamed and
// hashed on the way, never read whole into memory — and then, in one
// transaction, queued for upload and listed on the report (Report and
// Bundle show it under Report.Extra[LocalPhotosKey]). The same picture
// attached again to the same slot returns the first attachment. Signed
// reports take photos too: the server accepts evidence for any report of
// the technician's visits.
//
// What the server would refuse for good is refused here, before anything
// is queued: the file must be a photo the server takes (JPEG, PNG, HEIC or
// WebP by its first bytes, as the server sniffs it) of at most
// photo.MaxBytes, on a slot of the report's template.
//
// Errors: EInvalid for an empty or too long slot or one the report's
// template does not have, ENotAnImage for a file that is not a photo,
// ETooLarge for one larger than photo.MaxBytes, ENotFound for a report the
// device does not have, EReportSealed for a signed one (its signature
// named the photos it takes), and whatever reading the file returns.
func (c *Client) AttachPhoto(reportID, slot, path string) (PhotoRef, error) {
	if c.isClosed() {
		return PhotoRef{}, ErrClosed
	}
	switch {
	case reportID == "":
		return PhotoRef{}, fieldsync.Errorf(fieldsync.EInvalid, "report id is required")
	case slot == "" || len(slot) > maxSlotLen || !utf8.ValidString(slot):
		return PhotoRef{}, fieldsync.Errorf(fieldsync.EInvalid, "slot takes UTF-8 text of 1 to %d bytes", maxSlotLen)
	}
	// Refuse an unknown report, or a slot its template has no place for,
	// before copying megabytes for nothing; the transaction checks the
	// report again.
	if err := c.view(func(rd *reader) error {
		r, err := rd.report(reportID)
		if err != nil {
			return err
		}
		t, err := rd.template(r.TemplateID)
		if err != nil || t == nil {
			return err // a template the device lacks: the server judges the slot
		}
		return t.CheckSlot(slot)
	}); err != nil {
		return PhotoRef{}, err
	}
	src, err := os.Open(path)
	if err != nil {
		return PhotoRef{}, fmt.Errorf("clientsdk: attach photo: %w", err)
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return PhotoRef{}, fmt.Errorf("clientsdk: attach photo: %w", err)
	}
	if !info.Mode().IsRegular() {
		return PhotoRef{}, fieldsync.Errorf(fieldsync.EInvalid, "%s is not a regular file", filepath.Base(path))
	}
	if info.Size() > photo.MaxBytes {
		return PhotoRef{}, fieldsync.Errorf(fieldsync.ETooLarge, "%s holds %d bytes; a photo may hold at most %d", filepath.Base(path), info.Size(), photo.MaxBytes)
	}
	return c.attach(reportID, slot, filepath.Base(path), src, info.ModTime())
}

// attach copies src into the photo directory and queues it on the
// report's slot, as AttachPhoto describes; the caller checked the report
// and slot.
func (c *Client) attach(reportID, slot, filename string, src io.Reader, capturedAt time.Time) (PhotoRef, error) {
	tmp, sha, size, ctype, err := c.files.copy(src)
	if err != nil {
		return PhotoRef{}, fmt.Errorf("clientsdk: attach photo: %w", err)
	}
	e := &photoEntry{
		SHA256: sha, ReportID: reportID, Slot: slot, Size: size,
		Filename: clip(filename, maxFilenameLen), Type: ctype,
		CapturedAt: capturedAt.UTC(), QueuedAt: c.opts.Now().UTC(), State: PhotoQueued,
	}
	ref, err := c.files.settle(tmp, e)
	if err != nil {
		return PhotoRef{}, err
	}
	c.log.Info("photo attached", "photo", ref.ID, "report_id", reportID, "slot", slot, "sha256", sha, "size", size)
	c.poke(c.changed) // a round brings the report to the server if need be, then the photos
	return ref, nil
}

// copy streams src into a temporary file of the photo directory, hashing
// it on the way, and makes it durable.
func (p *photoFiles) copy(src io.Reader) (tmp, sha string, size int64, ctype string, err error) {
	f, err := os.CreateTemp(p.dir, tmpPhotoPrefix+"*")
	if err != nil {
		return "", "", 0, "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var head []byte
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if head == nil {
				head = append([]byte(nil), buf[:min(n, 512)]...)
			}
			h.Write(buf[:n])
			if _, err := f.Write(buf[:n]); err != nil {
				return "", "", 0, "", err
			}
			size += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", "", 0, "", rerr
		}
	}
	if size == 0 {
		return "", "", 0, "", fieldsync.Errorf(fieldsync.EInvalid, "the file is empty")
	}
	if _, err := photo.Sniff(head); err != nil {
		return "", "", 0, "", fieldsync.Errorf(fieldsync.ENotAnImage, "the file is not a JPEG, PNG, HEIC or WebP photo (%v)", err)
	}
	if size > photo.MaxBytes {
		return "", "", 0, "", fieldsync.Errorf(fieldsync.ETooLarge, "the file holds %d bytes; a photo may hold at most %d", size, photo.MaxBytes)
	}
	if err := f.Sync(); err != nil {
		return "", "", 0, "", err
	}
	if err := f.Close(); err != nil {
		return "", "", 0, "", err
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), size, http.DetectContentType(head), nil
}

// settle moves the copy under its hash (unless the device has that photo
// already) and commits the queue entry and the report's index in one
// transaction. If the transaction fails, the file goes unless an entry
// references it. One at a time: two attachments of one picture must not
// remove the file from under each other.
func (p *photoFiles) settle(tmp string, e *photoEntry) (PhotoRef, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	dst := p.path(e.SHA256)
	if _, err := os.Stat(dst); err == nil {
		os.Remove(tmp) // the device has these bytes already
	} else {
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return PhotoRef{}, fmt.Errorf("clientsdk: attach photo: %w", err)
		}
		if err := syncDir(p.dir); err != nil {
			return PhotoRef{}, fmt.Errorf("clientsdk: attach photo: %w", err)
		}
	}
	var ref PhotoRef
	err := p.db.Update(func(tx *bbolt.Tx) error {
		rd := &reader{tx: tx, refs: p.refs}
		r, err := rd.report(e.ReportID)
		if err != nil {
			return err
		}
		if err := rd.ownWork(fieldsync.EntityReport, r.ID, nil); err != nil {
			return err
		}
		index := tx.Bucket(bucketPhotosByReport)
		ikey := photoIndexKey(e.ReportID, e.Slot, e.SHA256)
		if raw := index.Get(ikey); len(raw) == 8 {
			id := int64(binary.BigEndian.Uint64(raw))
			ref = PhotoRef{ID: id, SHA256: e.SHA256, ReportID: e.ReportID, Slot: e.Slot, Size: e.Size}
			return nil // attached before: that attachment stands
		}
		if err := r.TakesPhoto(e.Slot, e.SHA256); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		id := int64(getU64(meta, keyNextPhoto))
		if id < 1 {
			return fmt.Errorf("corrupt photo counter")
		}
		if err := putPhoto(tx, id, e); err != nil {
			return err
		}
		if err := index.Put(ikey, photoKey(id)); err != nil {
			return err
		}
		ref = PhotoRef{ID: id, SHA256: e.SHA256, ReportID: e.ReportID, Slot: e.Slot, Size: e.Size}
		return meta.Put(keyNextPhoto, u64(uint64(id+1)))
	})
	if err != nil {
		if used, uerr := p.referenced(e.SHA256); uerr == nil && !used {
			os.Remove(dst)
		}
		return PhotoRef{}, err
	}
	return ref, nil
}

// referenced reports whether a queue entry names the hash.
func (p *photoFiles) referenced(sha string) (bool, error) {
	used := false
	err := p.db.View(func(tx *bbolt.Tx) error {
		return eachPhoto(tx, func(_ int64, e *photoEntry) error {
			if e.SHA256 == sha {
				used = true
				return errStopScan
			}
			return nil
		})
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return used, err
}

// Photos lists every photo attached on this device, in the order attached,
// with its state and progress.
func (c *Client) Photos() ([]PhotoStatus, error) {
	var out []PhotoStatus
	err := c.view(func(rd *reader) error {
		return eachPhoto(rd.tx, func(id int64, e *photoEntry) error {
			out = append(out, c.files.status(id, e))
			return nil
		})
	})
	return out, err
}

// ReportPhotos lists the photos attached on this device to one report, by
// slot.
func (c *Client) ReportPhotos(reportID string) ([]PhotoStatus, error) {
	var out []PhotoStatus
	err := c.view(func(rd *reader) error {
		ids, entries, err := reportPhotos(rd.tx, reportID)
		for i := range ids {
			out = append(out, c.files.status(ids[i], entries[i]))
		}
		return err
	})
	return out, err
}

// knownPhoto returns a photo of the queue, ENotFound for an unknown id.
func knownPhoto(tx *bbolt.Tx, id int64) (*photoEntry, error) {
	e, err := getPhoto(tx, id)
	if err == nil && e == nil {
		err = fieldsync.Errorf(fieldsync.ENotFound, "no photo %d on this device", id)
	}
	return e, err
}

// RetryPhoto queues a failed photo again (after the technician fixed what
// the server refused, or to try a photo that failed on corrupt chunks once
// more). ENotFound for an unknown id; a photo that has not failed is left
// as it is.
func (c *Client) RetryPhoto(id int64) error {
	if c.isClosed() {
		return ErrClosed
	}
	err := c.db.Update(func(tx *bbolt.Tx) error {
		e, err := knownPhoto(tx, id)
		if err != nil || e.State != PhotoFailed {
			return err
		}
		e.State, e.Code, e.Detail, e.Attempts, e.Sent, e.UploadURL = PhotoQueued, "", "", 0, 0, ""
		return putPhoto(tx, id, e)
	})
	if err == nil {
		c.poke(c.changed)
	}
	return err
}

// RefusedPhotos lists the photos refused for good (failed), in the order
// attached: refused work, beside the refused mutations of Conflicts. Each
// says its slot, file name, and the code and detail of the refusal; the
// technician retries one (RetryPhoto, for a refusal that may pass now) or
// removes it (RemovePhoto), attaching a fixed file in its place.
func (c *Client) RefusedPhotos() ([]PhotoStatus, error) {
	var out []PhotoStatus
	err := c.view(func(rd *reader) error {
		return eachPhoto(rd.tx, func(id int64, e *photoEntry) error {
			if e.State == PhotoFailed {
				out = append(out, c.files.status(id, e))
			}
			return nil
		})
	})
	return out, err
}

// RemovePhoto takes a failed photo off the device: its queue entry, its
// place on its report and, unless another entry names the same bytes, its
// file. Only a failed photo is removed (EConflict for another: an upload
// may be under way, and a verified photo is on the server's report).
// ENotFound for an unknown id.
func (c *Client) RemovePhoto(id int64) error {
	if c.isClosed() {
		return ErrClosed
	}
	p := c.files
	p.mu.Lock() // no attachment of the same bytes settles meanwhile
	defer p.mu.Unlock()
	var sha string
	err := p.db.Update(func(tx *bbolt.Tx) error {
		e, err := knownPhoto(tx, id)
		if err != nil {
			return err
		}
		if e.State != PhotoFailed {
			return fieldsync.Errorf(fieldsync.EConflict, "photo %d is %s: only a refused photo is removed", id, e.State)
		}
		sha = e.SHA256
		if err := tx.Bucket(bucketPhotosByReport).Delete(photoIndexKey(e.ReportID, e.Slot, e.SHA256)); err != nil {
			return err
		}
		return tx.Bucket(bucketPhotos).Delete(photoKey(id))
	})
	if err != nil {
		return err
	}
	used, err := p.referenced(sha)
	if err != nil {
		return err
	}
	if !used {
		if err := os.Remove(p.path(sha)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clientsdk: remove photo: %w", err)
		}
	}
	c.log.Info("photo removed", "photo", id, "sha256", sha)
	return nil
}

// layPhotos lists the device's photos of a report under
// Extra[LocalPhotosKey]: a read-only view, never sent.
func layPhotos(tx *bbolt.Tx, r *fieldsync.Report) error {
	_, entries, err := reportPhotos(tx, r.ID)
	if err != nil || len(entries) == 0 {
		return err
	}
	list := make([]LocalPhoto, len(entries))
	for i, e := range entries {
		list[i] = e.listing()
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return err
	}
	extra := make(map[string]json.RawMessage, len(r.Extra)+1)
	for k, v := range r.Extra {
		extra[k] = v
	}
	extra[LocalPhotosKey] = raw
	r.Extra = extra
	return nil
}

const tmpPhotoPrefix = ".tmp-"

// preparePhotoDir makes the photo directory and clears what a crash may
// have left in it: copies not finished, and copies whose transaction never
// committed (no queue entry names them).
func preparePhotoDir(db *bbolt.DB, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	known := map[string]bool{}
	if err := db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketPhotos) == nil {
			return nil
		}
		return eachPhoto(tx, func(_ int64, e *photoEntry) error {
			known[e.SHA256] = true
			return nil
		})
	}); err != nil {
		return err
	}
	for _, d := range names {
		name := d.Name()
		if strings.HasPrefix(name, tmpPhotoPrefix) || fieldsync.ValidSHA256(name) && !known[name] {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// photosUnsent reports whether photos wait to be uploaded.
func photosUnsent(tx *bbolt.Tx) bool {
	unsent := false
	_ = eachPhoto(tx, func(_ int64, e *photoEntry) error {
		if !e.done() {
			unsent = true
			return errStopScan
		}
		return nil
	})
	return unsent
}
