package media_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/localstore"
	"github.com/fieldsync/fieldsync/media/tus"
)

// withLocalBlobs makes the world's service use its directory store
// directly, as `fieldsync serve` does, rather than through the counting
// wrapper.
func (w *thumbWorld) withLocalBlobs(t *testing.T) *localstore.Store {
	t.Helper()
	local, err := localstore.New(w.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	w.configure(func(c *media.Config) { c.Blobs = local })
	return local
}

// begin starts an upload of data for tech.
func (w *thumbWorld) begin(t *testing.T, who fieldsync.Actor, data []byte) *tus.Upload {
	t.Helper()
	u, err := w.svc.Create(t.Context(), who, int64(len(data)), map[string]string{"sha256": hexSHA(data), "report_id": "r1", "slot": "fault"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return u
}

func plant(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("left by a killed process"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestSweepRemovesWhatAKilledProcessLeft(t *testing.T) {
	w := newThumbWorld(t)
	w.withLocalBlobs(t)
	live := w.begin(t, tech, testJPEG(t, 64, 48))
	spool := w.svc.SpoolDir
	gone := uuid.Must(uuid.NewV7()).String()
	files := map[string]bool{ // path: kept
		filepath.Join(spool, "patch-"+live.ID+"-123"): true,  // its upload may still be written to
		filepath.Join(spool, "patch-"+gone+"-456"):    false, // its upload ended
		filepath.Join(spool, "notes.txt"):             true,  // not the service's
		filepath.Join(w.blobDir, "tmp", "put-789"):    false, // a Put cut short
		filepath.Join(w.blobDir, "uploads", gone):     false, // begun, never recorded
	}
	for f := range files {
		plant(t, f)
	}
	n, err := w.svc.Sweep(t.Context())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	for f, kept := range files {
		if exists(f) != kept {
			t.Errorf("%s: exists %v after Sweep, want %v", f, exists(f), kept)
		}
	}
	if n != 3 {
		t.Errorf("Sweep removed %d files, want 3", n)
	}
	if !exists(filepath.Join(w.blobDir, "uploads", live.ID)) {
		t.Error("Sweep removed the file of a live upload")
	}

	// Its upload's end takes the live upload's leftover spool with it.
	if err := w.svc.Terminate(t.Context(), tech, live.ID); err != nil {
		t.Fatal(err)
	}
	if f := filepath.Join(spool, "patch-"+live.ID+"-123"); exists(f) {
		t.Errorf("%s outlived its upload's termination", f)
	}
}

func TestConcurrentCreatesStopAtTheLimit(t *testing.T) {
	w := newThumbWorld(t)
	w.configure(func(c *media.Config) { c.MaxPerUser = 3 })
	w.begin(t, tech, testJPEG(t, 10, 10))
	w.begin(t, tech, testJPEG(t, 11, 10))
	const racers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := testJPEG(t, 20+i, 10)
			_, err := w.svc.Create(t.Context(), tech, int64(len(data)), map[string]string{"sha256": hexSHA(data), "report_id": "r1", "slot": "fault"})
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, fieldsync.ErrorCode(err))
		}()
	}
	wg.Wait()
	slices.Sort(errs)
	want := append([]string{""}, slices.Repeat([]string{fieldsync.ETooMany}, racers-1)...)
	if !slices.Equal(errs, want) {
		t.Fatalf("%d creates at a limit one short: codes %q, want one success and the rest %s", racers, errs, fieldsync.ETooMany)
	}
	if n, err := w.store.CountUploads(t.Context(), tech.UserID); err != nil || n != 3 {
		t.Fatalf("open uploads = %d, %v; want the limit, 3", n, err)
	}
}

func TestRefusedRequestsLeaveNoLock(t *testing.T) {
	w := newThumbWorld(t)
	ctx := t.Context()
	data := testJPEG(t, 64, 48)
	mine := w.begin(t, tech, data)
	other := w.begin(t, fieldsync.Actor{UserID: "tech-b", DeviceID: "tab-b"}, data)
	refused := []struct {
		name string
		call func() error
	}{
		{"a write to an upload that never was", func() error {
			_, _, err := w.svc.Write(ctx, tech, uuid.Must(uuid.NewV7()).String(), 0, bytes.NewReader(data), int64(len(data)), nil)
			return err
		}},
		{"a write to another user's upload", func() error {
			_, _, err := w.svc.Write(ctx, tech, other.ID, 0, bytes.NewReader(data), int64(len(data)), nil)
			return err
		}},
		{"a write at the wrong offset", func() error {
			_, _, err := w.svc.Write(ctx, tech, mine.ID, 7, bytes.NewReader(data), int64(len(data)), nil)
			return err
		}},
		{"a termination of an upload that never was", func() error {
			return w.svc.Terminate(ctx, tech, uuid.Must(uuid.NewV7()).String())
		}},
		{"a termination of another user's upload", func() error { return w.svc.Terminate(ctx, tech, other.ID) }},
	}
	for _, r := range refused {
		if err := r.call(); err == nil {
			t.Fatalf("%s was not refused", r.name)
		}
	}
	if n := w.svc.OpenLocks(); n != 0 {
		t.Fatalf("%d upload locks left after refused requests, want 0", n)
	}
	// Expired uploads are refused and dropped alike.
	w.configure(func(c *media.Config) { c.Now = func() time.Time { return time.Now().Add(48 * time.Hour) } })
	if _, _, err := w.svc.Write(ctx, tech, mine.ID, 0, bytes.NewReader(data), int64(len(data)), nil); fieldsync.ErrorCode(err) != fieldsync.EUploadExpired {
		t.Fatalf("write to an expired upload: %v", err)
	}
	if n, err := w.svc.Expire(ctx); err != nil || n != 2 {
		t.Fatalf("Expire = %d, %v; want both uploads dropped", n, err)
	}
	if n := w.svc.OpenLocks(); n != 0 {
		t.Fatalf("%d upload locks left after expiry, want 0", n)
	}
}

// blockingBody hands out its first bytes, then waits for release.
type blockingBody struct {
	first   []byte
	read    chan struct{} // closed once the first bytes are read
	release chan struct{}
	once    sync.Once
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		if len(b.first) == 0 {
			b.once.Do(func() { close(b.read) })
		}
		return n, nil
	}
	<-b.release
	return 0, errors.New("connection cut")
}

func TestTerminationWaitsForTheWriteInProgress(t *testing.T) {
	w := newThumbWorld(t)
	w.withLocalBlobs(t)
	ctx := t.Context()
	data := testJPEG(t, 64, 48)
	u := w.begin(t, tech, data)
	body := &blockingBody{first: data[:100], read: make(chan struct{}), release: make(chan struct{})}
	type result struct {
		u   *tus.Upload
		err error
	}
	wrote := make(chan result, 1)
	go func() {
		got, _, err := w.svc.Write(ctx, tech, u.ID, 0, body, -1, nil)
		wrote <- result{got, err}
	}()
	<-body.read // the write holds the upload's lock
	terminated := make(chan error, 1)
	go func() { terminated <- w.svc.Terminate(ctx, tech, u.ID) }()
	waitFor(t, "the termination to wait for the upload's lock", func() bool { return w.svc.LockWaiters(u.ID) == 2 })
	close(body.release)
	r := <-wrote
	if r.u == nil || r.u.Offset() != 100 {
		t.Fatalf("the cut write kept %v (%v); want its 100 bytes kept before the termination", r.u, r.err)
	}
	if err := <-terminated; err != nil {
		t.Fatalf("Terminate after the write: %v", err)
	}
	if _, err := w.store.Upload(ctx, u.ID); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("upload after termination: %v", err)
	}
	if exists(filepath.Join(w.blobDir, "uploads", u.ID)) {
		t.Fatal("the upload's file outlived its termination")
	}
	if n := w.svc.OpenLocks(); n != 0 {
		t.Fatalf("%d upload locks left, want 0", n)
	}
}
