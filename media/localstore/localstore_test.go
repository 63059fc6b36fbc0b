package localstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/blobtest"
	"github.com/fieldsync/fieldsync/media/localstore"
)

func TestStore(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blobtest.Backend {
		root := t.TempDir()
		dir := filepath.Join(root, "media")
		return blobtest.Backend{
			Open: func(t *testing.T) media.BlobStore {
				s, err := localstore.New(dir)
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return s
			},
			Leftovers: func(t *testing.T) []string {
				var left []string
				for _, sub := range []string{"uploads", "tmp"} {
					entries, err := os.ReadDir(filepath.Join(dir, sub))
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range entries {
						left = append(left, sub+"/"+e.Name())
					}
				}
				// Nothing may be written beside the store's directory.
				entries, err := os.ReadDir(root)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if e.Name() != "media" {
						left = append(left, "../"+e.Name())
					}
				}
				return left
			},
			ReadRaw: func(t *testing.T, key string) io.ReadCloser {
				f, err := os.Open(filepath.Join(dir, "objects", filepath.FromSlash(key)))
				if err != nil {
					t.Fatalf("reading %s around the store: %v", key, err)
				}
				return f
			},
		}
	})
}

// TestCrashTail checks what the shared suite cannot see: bytes past the
// recorded offset, left by a crash in the middle of an Append, are cut off
// before the next Append writes.
func TestCrashTail(t *testing.T) {
	dir := t.TempDir()
	s, err := localstore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := s.Begin(ctx, "u1", 6)
	if err != nil {
		t.Fatal(err)
	}
	if st, err = s.Append(ctx, "u1", st, strings.NewReader("abc")); err != nil {
		t.Fatal(err)
	}
	// A crash wrote bytes after the 3 the state counts.
	f, err := os.OpenFile(filepath.Join(dir, "uploads", "u1"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("garbage"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if st, err = s.Append(ctx, "u1", st, strings.NewReader("def")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "uploads", "u1")); err != nil || fi.Size() != 6 {
		t.Fatalf("upload file after the Append: %v, %v; want 6 bytes", fi.Size(), err)
	}
	h := sha256.Sum256([]byte("abcdef"))
	sha := hex.EncodeToString(h[:])
	if err := s.Finish(ctx, "u1", st, nil, sha); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "objects", "photos", sha))
	if err != nil || string(got) != "abcdef" {
		t.Fatalf("object = %q, %v; want \"abcdef\"", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "uploads", "u1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("upload file after Finish: %v, want it gone", err)
	}
}

// Photos show customers' homes and papers: like the database, they are
// the server user's alone.
func TestFilesAndDirectoriesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "media")
	// A store made by an older version, its directories open to all.
	for _, d := range []string{"uploads", "objects/photos", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s, err := localstore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	data := []byte("evidence bytes")
	sum := sha256.Sum256(data)
	st, err := s.Begin(ctx, "up-1", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if st, err = s.Append(ctx, "up-1", st, strings.NewReader(string(data[:5]))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(ctx, "up-2", 10); err != nil { // left in progress
		t.Fatal(err)
	}
	if err := s.Finish(ctx, "up-1", st, strings.NewReader(string(data[5:])), hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, media.ThumbKey(hex.EncodeToString(sum[:])), strings.NewReader("thumb"), 5); err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 9 { // media, uploads, up-2, objects, photos, the photo, thumbs, the thumbnail, tmp
		t.Fatalf("saw %d entries; the store wrote less than expected", seen)
	}
}
