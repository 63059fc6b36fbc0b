package media

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A PATCH body waits in the spool as spoolPrefix<upload id>-<random>: a
// file that a killed process leaves is known by the upload it served.
const spoolPrefix = "patch-"

// Sweeper is a BlobStore that a killed process can leave files in
// (localstore's temporary files, an upload begun but never recorded).
// Sweep removes them: every temporary file, and each upload for which
// live reports false. It runs before the store is used.
type Sweeper interface {
	Sweep(ctx context.Context, live func(uploadID string) (bool, error)) (int, error)
}

// Sweep removes what a killed server process left behind and returns how
// many files it removed: spool files of uploads that no longer exist (a
// spool file of an upload that does is kept: dropping the upload removes
// it), and, from a Sweeper blob store, its leftovers. Call it at start,
// before any request is served.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	dir := s.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		id, ok := spoolUpload(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		switch live, err := s.live(ctx, id); {
		case err != nil:
			return n, err
		case live:
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	if sw, ok := s.Blobs.(Sweeper); ok {
		m, err := sw.Sweep(ctx, func(id string) (bool, error) { return s.live(ctx, id) })
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// live reports whether the upload id is recorded.
func (s *Service) live(ctx context.Context, id string) (bool, error) {
	_, err := s.Store.Upload(ctx, id)
	return found(err)
}

// spoolUpload returns the upload a spool file's name is of.
func spoolUpload(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, spoolPrefix)
	i := strings.LastIndexByte(rest, '-')
	if !ok || i <= 0 || !ValidUploadID(rest[:i]) {
		return "", false
	}
	return rest[:i], true
}

// removeSpools removes the spool files of the upload id, which has
// ended: what a killed write left. The caller holds the upload's lock, so
// none is in use.
func (s *Service) removeSpools(id string) {
	dir := s.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	// Upload ids hold no pattern characters (ValidUploadID).
	left, _ := filepath.Glob(filepath.Join(dir, spoolPrefix+id+"-*"))
	for _, f := range left {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Logger.Warn("removing a spool file failed", "file", f, "error", err.Error())
		}
	}
}
