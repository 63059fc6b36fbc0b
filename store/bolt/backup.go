package bolt

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the store file, taken in one read
// transaction, to the writer that open returns for the copy's size in
// bytes; writes go on while it runs. It returns the bytes written, which
// are size unless writing failed. A done ctx stops the copy at its next
// write.
func (s *DB) Backup(ctx context.Context, open func(size int64) io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		w := ctxWriter{ctx: ctx, w: open(tx.Size())}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// CheckBackup tells whether the file at path is a whole Fieldsync store
// this binary can open: a bbolt file whose pages check out, with a meta
// bucket and a schema version from 1 to SchemaVersion(), which it returns.
// It only reads the file.
func CheckBackup(path string) (int, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() || st.Size() == 0 {
		return 0, fmt.Errorf("%s is not a backup: not a bbolt file", path)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("%s is not a backup: %v", path, err)
	}
	defer db.Close()
	version := 0
	err = db.View(func(tx *bbolt.Tx) error {
		// A cut copy keeps its meta pages but not the pages they point
		// to; reading those would fault, so the length is checked first.
		if tx.Size() > st.Size() {
			return fmt.Errorf("cut short: %d of its %d bytes", st.Size(), tx.Size())
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("not a Fieldsync store (no meta bucket)")
		}
		raw := meta.Get(keySchemaVersion)
		if len(raw) != 8 {
			return errors.New("not a Fieldsync store (no schema version)")
		}
		version = int(binary.BigEndian.Uint64(raw))
		if version < 1 || version > SchemaVersion() {
			return fmt.Errorf("schema version %d, this binary knows 1 to %d", version, SchemaVersion())
		}
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("inconsistent file: %w", errors.Join(errs...))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%s is not a backup: %w", path, err)
	}
	return version, nil
}

// Restore puts the backup at src in place of the store file at path and
// returns where it kept the file it replaced ("" when there was none).
// It refuses while another process holds path (a running server), and
// refuses a src that CheckBackup refuses. The restored file gets a new
// epoch: a device's sync cursor from before the restore may point past
// what the backup holds, so it must answer cursor_reset, not skip what
// is written from now on.
func Restore(path, src string) (string, error) {
	if _, err := CheckBackup(src); err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	// Holding the current file's lock keeps a server from starting on it
	// while it is replaced.
	var current *bbolt.DB
	if _, err := os.Stat(path); err == nil {
		current, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
		if errors.Is(err, bbolt.ErrTimeout) {
			return "", fmt.Errorf("%s is in use by another process: stop `fieldsync serve` before restoring", path)
		}
		if err != nil {
			return "", fmt.Errorf("open %s: %w", path, err)
		}
		defer current.Close()
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}

	tmp, err := copyToTemp(src, dir, filepath.Base(path)+".*.restoring")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp) // after the rename, there is nothing there
	if err := newEpoch(tmp); err != nil {
		return "", err
	}
	aside := ""
	if current != nil {
		aside = path + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, aside); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return aside, syncDir(dir)
}

// copyToTemp copies src into a new file of dir, synced to disk, and
// returns its name.
func copyToTemp(src, dir, pattern string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

func newEpoch(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		epoch := make([]byte, 8)
		if _, err := rand.Read(epoch); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyEpoch, epoch)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
