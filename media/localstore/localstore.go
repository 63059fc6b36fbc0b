// Package localstore keeps photo evidence in a local directory: the
// embedded default behind media.BlobStore when no S3 endpoint is set.
//
// Layout under the directory given to New:
//
//	uploads/<id>    an upload in progress; its first State.Offset bytes count
//	objects/<key>   finished objects: objects/photos/<sha256>, objects/thumbs/<sha256>.jpg
//	tmp/            Put's temporary files, renamed into objects/ when whole
//
// Every directory is on one file system, so publishing is a hard link
// (which fails rather than replace an existing object) and Put is a
// rename. The store keeps nothing in memory; one writer per upload at a
// time is the caller's job (media.Service locks each upload).
package localstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/tus"
)

// Store is a media.BlobStore on a directory.
type Store struct {
	uploads, objects, tmp string
}

var _ media.BlobStore = (*Store)(nil)

// Photos are evidence with customers' homes in them: only the server's
// user reads them, as only it reads the database.
const (
	dirPerm  = 0o700
	filePerm = 0o600
	// copyBuf bounds what an Append or Put holds of its reader at once.
	copyBuf = 64 << 10
)

// New opens (creating as needed) a store in dir. Its directories are made
// private (dirPerm) if they were not.
func New(dir string) (*Store, error) {
	s := &Store{
		uploads: filepath.Join(dir, "uploads"),
		objects: filepath.Join(dir, "objects"),
		tmp:     filepath.Join(dir, "tmp"),
	}
	dirs := []string{dir, s.uploads, s.objects, s.tmp}
	for _, d := range dirs[1:] {
		if err := os.MkdirAll(d, dirPerm); err != nil {
			return nil, fmt.Errorf("localstore: %w", err)
		}
	}
	kinds, err := os.ReadDir(s.objects) // photos/, thumbs/
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	for _, k := range kinds {
		if k.IsDir() {
			dirs = append(dirs, filepath.Join(s.objects, k.Name()))
		}
	}
	for _, d := range dirs {
		if err := os.Chmod(d, dirPerm); err != nil {
			return nil, fmt.Errorf("localstore: %w", err)
		}
	}
	return s, nil
}

// Begin creates the upload's file. An id in use is refused.
func (s *Store) Begin(ctx context.Context, uploadID string, size int64) (tus.State, error) {
	path, err := s.uploadPath(uploadID)
	if err != nil {
		return tus.State{}, err
	}
	if size < 0 {
		return tus.State{}, fmt.Errorf("localstore: upload %s: negative size %d", uploadID, size)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return tus.State{}, fmt.Errorf("localstore: begin upload %s: %w", uploadID, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(s.uploads)
	}
	if err != nil {
		os.Remove(path)
		return tus.State{}, fmt.Errorf("localstore: begin upload %s: %w", uploadID, err)
	}
	return tus.State{Size: size}, nil
}

// Append writes r at st.Offset. Bytes past st.Offset, left by a crash in
// the middle of an earlier Append whose state was never saved, are cut
// off first. The bytes are fsynced before the new State is returned, so a
// State never counts a byte that a crash could lose.
func (s *Store) Append(ctx context.Context, uploadID string, st tus.State, r io.Reader) (tus.State, error) {
	path, err := s.uploadPath(uploadID)
	if err != nil {
		return st, err
	}
	if st.Offset < 0 || st.Offset > st.Size {
		return st, fmt.Errorf("localstore: upload %s: offset %d outside size %d", uploadID, st.Offset, st.Size)
	}
	f, err := openUpload(path, uploadID)
	if err != nil {
		return st, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return st, fmt.Errorf("localstore: upload %s: %w", uploadID, err)
	}
	if fi.Size() < st.Offset {
		return st, fmt.Errorf("localstore: upload %s holds %d bytes, its state says %d", uploadID, fi.Size(), st.Offset)
	}
	if err := f.Truncate(st.Offset); err != nil {
		return st, fmt.Errorf("localstore: upload %s: %w", uploadID, err)
	}
	if _, err := f.Seek(st.Offset, io.SeekStart); err != nil {
		return st, fmt.Errorf("localstore: upload %s: %w", uploadID, err)
	}

	missing := st.Size - st.Offset
	n, copyErr := io.CopyBuffer(onlyWriter{f}, io.LimitReader(r, missing), make([]byte, copyBuf))
	if copyErr == nil && n == missing && hasMore(r) {
		copyErr = fmt.Errorf("localstore: upload %s: more than its %d bytes", uploadID, st.Size)
	}
	if copyErr != nil {
		copyErr = fmt.Errorf("localstore: upload %s: %w", uploadID, copyErr)
	}
	if n == 0 {
		return st, copyErr
	}
	if err := f.Sync(); err != nil {
		// What reached the disk is unknown: keep the old state, whose
		// offset the next Append truncates back to.
		return st, fmt.Errorf("localstore: upload %s: %w", uploadID, err)
	}
	st.Offset += n
	return st, copyErr
}

// Finish appends last and links the upload to objects/photos/<sha256>.
// The link fails if that name exists, so an object is never replaced, also
// by two uploads of the same photo finishing at once.
func (s *Store) Finish(ctx context.Context, uploadID string, st tus.State, last io.Reader, sha256 string) error {
	path, err := s.uploadPath(uploadID)
	if err != nil {
		return err
	}
	if !fieldsync.ValidSHA256(sha256) {
		return fmt.Errorf("localstore: not a lower-case hex SHA-256: %q", sha256)
	}
	if last != nil && st.Offset < st.Size {
		// The file is cut back to st.Offset first, so a retry after a
		// failure below starts from the same bytes.
		if st, err = s.Append(ctx, uploadID, st, last); err != nil {
			return err
		}
	}
	if st.Offset != st.Size {
		return fmt.Errorf("localstore: upload %s holds %d of %d bytes", uploadID, st.Offset, st.Size)
	}
	f, err := openUpload(path, uploadID)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("localstore: upload %s: %w", uploadID, err)
	}
	if fi.Size() < st.Size {
		return fmt.Errorf("localstore: upload %s holds %d bytes, its state says %d", uploadID, fi.Size(), st.Size)
	}
	if err := f.Truncate(st.Size); err != nil {
		return fmt.Errorf("localstore: upload %s: %w", uploadID, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("localstore: upload %s: %w", uploadID, err)
	}

	dst := s.objectPath(media.EvidenceKey(sha256))
	if err := os.MkdirAll(filepath.Dir(dst), dirPerm); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	if err := os.Link(path, dst); errors.Is(err, fs.ErrExist) {
		if err := s.removeUpload(path); err != nil {
			return err
		}
		return media.ErrExists
	} else if err != nil {
		return fmt.Errorf("localstore: publish upload %s: %w", uploadID, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("localstore: publish upload %s: %w", uploadID, err)
	}
	return s.removeUpload(path)
}

// Abort removes the upload's file, or returns media.ErrNotFound.
func (s *Store) Abort(ctx context.Context, uploadID string, st tus.State) error {
	path, err := s.uploadPath(uploadID)
	if err != nil {
		return err
	}
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localstore: upload %s: %w", uploadID, media.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("localstore: abort upload %s: %w", uploadID, err)
	}
	return nil
}

// Stat returns the size of the object key.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if err := media.ValidKey(key); err != nil {
		return 0, err
	}
	fi, err := os.Stat(s.objectPath(key))
	if err != nil || !fi.Mode().IsRegular() {
		return 0, notFound(key, err)
	}
	return fi.Size(), nil
}

// Open reads length bytes of the object key from offset (length < 0: to
// the end; past the end: what there is). An offset past the end is an
// error.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := media.ValidKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("localstore: open %s: negative offset %d", key, offset)
	}
	f, err := os.Open(s.objectPath(key))
	if err != nil {
		return nil, notFound(key, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, notFound(key, err)
	}
	if offset > fi.Size() {
		f.Close()
		return nil, fmt.Errorf("localstore: open %s: offset %d past its %d bytes", key, offset, fi.Size())
	}
	if length < 0 {
		length = fi.Size() - offset
	}
	return section{io.NewSectionReader(f, offset, length), f}, nil
}

// Put stores a derived object, replacing it: the bytes go to a temporary
// file that is renamed over key only when exactly size bytes arrived.
// Evidence (media.EvidenceKey) is never written this way.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := media.ValidKey(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, media.EvidenceKey("")) {
		return fmt.Errorf("localstore: put %s: evidence is only stored by Finish", key)
	}
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return fmt.Errorf("localstore: put %s: %w", key, err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	defer f.Close()
	n, err := io.CopyBuffer(onlyWriter{f}, io.LimitReader(r, size), make([]byte, copyBuf))
	switch {
	case err != nil:
		return fmt.Errorf("localstore: put %s: %w", key, err)
	case n < size:
		return fmt.Errorf("localstore: put %s: %d of %d bytes: %w", key, n, size, io.ErrUnexpectedEOF)
	case hasMore(r):
		return fmt.Errorf("localstore: put %s: more than %d bytes", key, size)
	}
	if err := f.Chmod(filePerm); err != nil {
		return fmt.Errorf("localstore: put %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("localstore: put %s: %w", key, err)
	}
	dst := s.objectPath(key)
	if err := os.MkdirAll(filepath.Dir(dst), dirPerm); err != nil {
		return fmt.Errorf("localstore: put %s: %w", key, err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("localstore: put %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("localstore: put %s: %w", key, err)
	}
	return nil
}

var _ media.Sweeper = (*Store)(nil)

// Sweep removes what a killed process left: every file in tmp/ (a Put
// cut short) and each file in uploads/ whose upload live reports false
// (begun but never recorded, or forgotten while its file was being
// removed). It returns how many files it removed; the store must not be
// in use meanwhile.
func (s *Store) Sweep(ctx context.Context, live func(uploadID string) (bool, error)) (int, error) {
	n := 0
	tmp, err := os.ReadDir(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("localstore: %w", err)
	}
	for _, e := range tmp {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return n, fmt.Errorf("localstore: %w", err)
		}
		n++
	}
	uploads, err := os.ReadDir(s.uploads)
	if err != nil {
		return n, fmt.Errorf("localstore: %w", err)
	}
	for _, e := range uploads {
		if !e.Type().IsRegular() || !media.ValidUploadID(e.Name()) {
			continue // not a file this store made
		}
		ok, err := live(e.Name())
		if err != nil {
			return n, err
		}
		if ok {
			continue
		}
		if err := os.Remove(filepath.Join(s.uploads, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("localstore: %w", err)
		}
		n++
	}
	return n, nil
}

func (s *Store) uploadPath(id string) (string, error) {
	if !media.ValidUploadID(id) {
		return "", fmt.Errorf("localstore: invalid upload id %q", id)
	}
	return filepath.Join(s.uploads, id), nil
}

func (s *Store) objectPath(key string) string {
	return filepath.Join(s.objects, filepath.FromSlash(key))
}

func (s *Store) removeUpload(path string) error {
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	if err := syncDir(s.uploads); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	return nil
}

func openUpload(path, id string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("localstore: upload %s: %w", id, media.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("localstore: upload %s: %w", id, err)
	}
	return f, nil
}

// notFound maps a missing file, a directory, or a path through a file
// (ENOTDIR: "photos/x/y" where photos/x is an object) to ErrNotFound.
func notFound(key string, err error) error {
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("localstore: %s: %w", key, media.ErrNotFound)
	}
	return fmt.Errorf("localstore: %s: %w", key, err)
}

// syncDir makes a directory's entries (a new, linked, renamed or removed
// file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// hasMore reports whether r holds another byte; it is asked only after
// exactly the expected count, so the byte read is one too many anyway.
func hasMore(r io.Reader) bool {
	var one [1]byte
	n, _ := io.ReadFull(r, one[:])
	return n > 0
}

// onlyWriter hides *os.File's ReadFrom, so io.CopyBuffer uses the bounded
// buffer it is given and counts exactly the bytes written.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

type section struct {
	*io.SectionReader
	f *os.File
}

func (s section) Close() error { return s.f.Close() }
