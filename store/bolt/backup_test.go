package bolt_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// backupFile writes a backup of db to a file and returns its path.
func backupFile(t *testing.T, db *bolt.DB) string {
	t.Helper()
	var buf bytes.Buffer
	size := int64(-1)
	n, err := db.Backup(t.Context(), func(s int64) io.Writer { size = s; return &buf })
	must(t, err)
	if n != size || int64(buf.Len()) != size {
		t.Fatalf("backup announced %d bytes, wrote %d (%d buffered)", size, n, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	must(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

// TestRestoreResetsSyncCursors restores a backup over a store that went on
// after it: a device's cursor from the later store would skip what the
// restored one writes at the same feed positions, so it must be refused.
func TestRestoreResetsSyncCursors(t *testing.T) {
	w := newWorld(t)
	backup := backupFile(t, w.db)
	if v, err := bolt.CheckBackup(backup); err != nil || v != bolt.SchemaVersion() {
		t.Fatalf("CheckBackup = %d, %v", v, err)
	}
	// After the backup, the store goes on and a tablet pulls past it.
	_, err := w.db.UpdateVisit(t.Context(), w.visit, fieldsync.Actor{UserID: "disp"}, "visit.assign", w.now, func(v *fieldsync.Visit) error {
		return v.Assign(w.techB, w.now)
	})
	must(t, err)
	_, cursor := w.pull(t, w.techA, "")
	must(t, w.db.Close())

	dir := t.TempDir()
	path := filepath.Join(dir, "fieldsync.db")
	aside, err := bolt.Restore(path, backup)
	if err != nil || aside != "" {
		t.Fatalf("Restore into an empty directory = %q, %v", aside, err)
	}
	restored := dbOpen(t, path)
	// The restored store writes as much as the lost one did.
	_, err = restored.UpdateVisit(t.Context(), w.visit, fieldsync.Actor{UserID: "disp"}, "visit.assign", w.now, func(v *fieldsync.Visit) error {
		return v.Assign(w.techB, w.now)
	})
	must(t, err)
	_, _, _, err = restored.Pull(t.Context(), []string{"staff"}, cursor, 10)
	if fieldsync.ErrorCode(err) != fieldsync.ECursorReset {
		t.Fatalf("a cursor from before the restore answers %v, want cursor_reset", err)
	}
}

func TestRestoreKeepsTheReplacedFileAndRefusesWhatIsNoBackup(t *testing.T) {
	src := dbPath(t)
	db := dbOpen(t, src)
	backup := backupFile(t, db)

	target := dbPath(t)
	held := dbOpen(t, target)
	if _, err := bolt.Restore(target, backup); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Restore over a file a server holds = %v", err)
	}
	must(t, held.Close())
	before, err := os.ReadFile(target)
	must(t, err)

	junk := filepath.Join(t.TempDir(), "junk.db")
	must(t, os.WriteFile(junk, []byte("<html>not a database</html>"), 0o600))
	whole, err := os.ReadFile(backup)
	must(t, err)
	cut := filepath.Join(t.TempDir(), "cut.db")
	must(t, os.WriteFile(cut, whole[:len(whole)/2], 0o600))
	for name, file := range map[string]string{"junk": junk, "a cut copy": cut, "no file": filepath.Join(t.TempDir(), "none")} {
		if _, err := bolt.Restore(target, file); err == nil {
			t.Errorf("Restore took %s", name)
		}
	}
	if after, _ := os.ReadFile(target); !bytes.Equal(after, before) {
		t.Fatal("a refused restore changed the store file")
	}

	aside, err := bolt.Restore(target, backup)
	must(t, err)
	if kept, _ := os.ReadFile(aside); !bytes.Equal(kept, before) {
		t.Fatalf("the replaced file is not kept at %q", aside)
	}
	if _, err := bolt.CheckBackup(target); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(target), "*.restoring"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// blockingWriter holds the first write until release is closed.
type blockingWriter struct {
	started chan struct{}
	release chan struct{}
	once    bool
	buf     bytes.Buffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	if !b.once {
		b.once = true
		close(b.started)
		<-b.release
	}
	return b.buf.Write(p)
}

// TestWritesGoOnDuringABackup holds a backup's copy open while the store
// grows many times over: the writes must not wait for the backup, and the
// backup is the store as it was when the copy began.
func TestWritesGoOnDuringABackup(t *testing.T) {
	w := newWorld(t)
	bw := &blockingWriter{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := w.db.Backup(t.Context(), func(int64) io.Writer { return bw })
		done <- err
	}()
	<-bw.started

	wrote := make(chan error, 1)
	go func() {
		big := strings.Repeat("x", 8<<10)
		for i := range 400 { // about 3 MB: the file's mapping must grow
			c := &fieldsync.Customer{ID: "grow-" + strconv.Itoa(i), Name: big, Phone: "1", CreatedAt: w.now}
			if err := w.db.CreateCustomer(t.Context(), c, fieldsync.Actor{UserID: "admin"}); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		must(t, err)
	case <-time.After(60 * time.Second):
		close(bw.release)
		t.Fatal("writes waited for a backup in progress")
	}
	close(bw.release)
	must(t, <-done)

	backup := filepath.Join(t.TempDir(), "backup.db")
	must(t, os.WriteFile(backup, bw.buf.Bytes(), 0o600))
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	if _, err := bolt.Restore(path, backup); err != nil {
		t.Fatal(err)
	}
	back := dbOpen(t, path)
	if c, err := back.Customer(t.Context(), "grow-0"); err == nil || c != nil {
		t.Fatalf("the backup holds a write made after it began: %v %v", c, err)
	}
	if _, err := back.Customer(t.Context(), w.cus); err != nil {
		t.Fatalf("the backup lacks what was there before it: %v", err)
	}
}
