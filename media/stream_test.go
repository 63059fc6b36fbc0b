package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/tus"
)

// finishSpy records how Finish was given an upload's last bytes and can
// fail the first streamed Finish halfway through its bytes, as S3 giving
// up on a slow client does.
type finishSpy struct {
	media.BlobStore
	mu         sync.Mutex
	failStream bool
	// existsEarly answers a streamed Finish with ErrExists before reading
	// a byte, as S3 may when the object is there.
	existsEarly bool
	calls       []string // "streamed" or "spooled", one per Finish
}

func (f *finishSpy) Finish(ctx context.Context, id string, st tus.State, last io.Reader, sha string) error {
	_, spooled := last.(*io.SectionReader)
	f.mu.Lock()
	kind := map[bool]string{true: "spooled", false: "streamed"}[spooled]
	f.calls = append(f.calls, kind)
	fail := f.failStream && !spooled
	f.failStream = f.failStream && !fail
	early := f.existsEarly && !spooled
	f.mu.Unlock()
	if early {
		return media.ErrExists
	}
	if fail {
		io.CopyN(io.Discard, last, (st.Size-st.Offset)/2)
		return errStoreDown
	}
	return f.BlobStore.Finish(ctx, id, st, last, sha)
}

func (f *finishSpy) finishes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func TestWriteStreamsAWholePhoto(t *testing.T) {
	tests := []struct {
		name       string
		length     func(n int) int64 // the request's declared length
		failStream bool
		stored     bool // the server has the photo already
		want       []string
	}{
		{"a photo in one request is stored while it arrives", func(n int) int64 { return int64(n) }, false, false, []string{"streamed"}},
		{"a store failing mid-stream is tried again from the spool", func(n int) int64 { return int64(n) }, true, false, []string{"streamed", "spooled"}},
		{"a body of unknown length is spooled first", func(int) int64 { return -1 }, false, false, []string{"spooled"}},
		{"a photo the server has is not written again", func(n int) int64 { return int64(n) }, false, true, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newThumbWorld(t)
			data := testJPEG(t, 640+i, 480)
			if tt.stored {
				w.upload(t, data, "serial_plate")
			}
			spy := &finishSpy{BlobStore: w.svc.Blobs, failStream: tt.failStream}
			w.configure(func(c *media.Config) { c.Blobs = spy })
			ctx := t.Context()
			u, err := w.svc.Create(ctx, tech, int64(len(data)), map[string]string{"sha256": hexSHA(data), "report_id": "r1", "slot": "fault"})
			if err != nil {
				t.Fatal(err)
			}
			got, p, err := w.svc.Write(ctx, tech, u.ID, 0, bytes.NewReader(data), tt.length(len(data)), nil)
			if err != nil || p == nil || got.Offset() != int64(len(data)) {
				t.Fatalf("Write: %+v offset %d, %v; want the photo published", p, got.Offset(), err)
			}
			if calls := spy.finishes(); !equal(calls, tt.want) {
				t.Errorf("Finish calls %q, want %q", calls, tt.want)
			}
			r, err := spy.Open(ctx, media.EvidenceKey(hexSHA(data)), 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if stored, _ := io.ReadAll(r); !bytes.Equal(stored, data) {
				t.Errorf("stored %d bytes, not the %d sent", len(stored), len(data))
			}
			if _, err := w.store.Upload(ctx, u.ID); err == nil {
				t.Error("the upload is still open after its photo was published")
			}
		})
	}
}

// A streamed photo whose bytes fail a check is refused before its last
// bytes reach the store: nothing is published.
func TestWriteStreamRefusals(t *testing.T) {
	w := newThumbWorld(t)
	ctx := t.Context()
	data := testJPEG(t, 320, 240)
	for _, tt := range []struct {
		name string
		sha  string
		sum  *tus.Checksum
		open bool // the upload stays open for the chunk to be sent again
	}{
		{"bytes that do not hash to the declared photo", hexSHA(append([]byte("x"), data...)), nil, false},
		{"a chunk that fails its Upload-Checksum", hexSHA(data), &tus.Checksum{Algorithm: "sha256", Sum: make([]byte, 32)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, err := w.svc.Create(ctx, tech, int64(len(data)), map[string]string{"sha256": tt.sha, "report_id": "r1", "slot": "fault"})
			if err != nil {
				t.Fatal(err)
			}
			_, p, err := w.svc.Write(ctx, tech, u.ID, 0, bytes.NewReader(data), int64(len(data)), tt.sum)
			if p != nil || err == nil {
				t.Fatalf("Write: %+v, %v; want a refusal", p, err)
			}
			for _, sha := range []string{tt.sha, hexSHA(data)} {
				if _, err := w.svc.Blobs.Stat(ctx, media.EvidenceKey(sha)); !errors.Is(err, media.ErrNotFound) {
					t.Errorf("Stat of %s after a refusal: %v, want ErrNotFound", sha, err)
				}
			}
			if _, err := w.store.Upload(ctx, u.ID); (err == nil) != tt.open {
				t.Errorf("the upload open after the refusal: %v, want %v", err == nil, tt.open)
			}
		})
	}
}

// A store that reports the photo stored before reading the streamed bytes
// proves nothing about them: a stranger who knows a stored photo's hash
// must not get it attached by sending other bytes.
func TestWriteStreamExistsIsNoProof(t *testing.T) {
	w := newThumbWorld(t)
	ctx := t.Context()
	spy := &finishSpy{BlobStore: w.svc.Blobs, existsEarly: true}
	w.configure(func(c *media.Config) { c.Blobs = spy })
	data := testJPEG(t, 320, 240)
	claimed := hexSHA(testJPEG(t, 321, 240)) // another photo's hash
	u, err := w.svc.Create(ctx, tech, int64(len(data)), map[string]string{"sha256": claimed, "report_id": "r1", "slot": "fault"})
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := w.svc.Write(ctx, tech, u.ID, 0, bytes.NewReader(data), int64(len(data)), nil)
	if p != nil || fieldsync.ErrorCode(err) != fieldsync.EChecksumMismatch {
		t.Fatalf("Write: %+v, %v; want checksum_mismatch", p, err)
	}
	if _, err := w.store.Photo(ctx, claimed); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("the claimed photo was recorded: %v", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A server killed after the blob store finished an upload's object but
// before the upload was recorded as done leaves the upload open with its
// parts gone: the device's retry of the last chunk publishes the photo.
func TestWriteAfterACrashBetweenFinishAndRecord(t *testing.T) {
	w := newThumbWorld(t)
	ctx := t.Context()
	data := testJPEG(t, 320, 240)
	sha := hexSHA(data)
	u, err := w.svc.Create(ctx, tech, int64(len(data)), map[string]string{"sha256": sha, "report_id": "r1", "slot": "serial_plate"})
	if err != nil {
		t.Fatal(err)
	}
	// What the killed process did: the object is stored, the record not.
	if err := w.svc.Blobs.Finish(ctx, u.ID, u.Blob, bytes.NewReader(data), sha); err != nil {
		t.Fatal(err)
	}
	got, p, err := w.svc.Write(ctx, tech, u.ID, 0, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil || p == nil || got.Offset() != int64(len(data)) {
		t.Fatalf("Write: %+v, %v; want the photo published", p, err)
	}
	if _, err := w.store.Upload(ctx, u.ID); err == nil {
		t.Error("the upload is still open after its photo was published")
	}
}
