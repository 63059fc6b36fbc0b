package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/localstore"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/templates"
)

// thumbWorld is a media service over a bbolt store and a directory, as
// `fieldsync serve` wires it, with its blob store wrapped to count and
// fail calls.
type thumbWorld struct {
	svc             *media.Service
	store           *bolt.DB
	blobs           *countingBlobs
	dbPath, blobDir string
	logs            *testenv.Buffer
}

var tech = fieldsync.Actor{UserID: "tech-a", DeviceID: "tab-a"}

func newThumbWorld(t *testing.T) *thumbWorld {
	t.Helper()
	dir := t.TempDir()
	w := &thumbWorld{dbPath: filepath.Join(dir, "fieldsync.db"), blobDir: filepath.Join(dir, "media")}
	w.open(t)
	w.draft(t, "r1")
	return w
}

// draft stores a draft report of the TV template (slots serial_plate,
// fault, packaging…) on a visit of tech's, the rest of what it needs
// with it.
func (w *thumbWorld) draft(t *testing.T, id string) {
	t.Helper()
	ctx, admin, now := t.Context(), fieldsync.Actor{UserID: "admin"}, time.Now().UTC()
	steps := []error{
		w.store.PublishTemplates(ctx, templates.All()),
		w.store.CreateUser(ctx, fieldsync.User{ID: tech.UserID, Login: tech.UserID, Role: fieldsync.RoleTechnician, CreatedAt: now}),
		w.store.CreateCustomer(ctx, &fieldsync.Customer{ID: "c1", Name: "n", Phone: "1", CreatedAt: now}, admin),
		w.store.CreateSite(ctx, &fieldsync.Site{ID: "s1", CustomerID: "c1", Address: "a", Zone: fieldsync.ZoneCity, CreatedAt: now}, admin),
		w.store.CreateAsset(ctx, &fieldsync.Asset{ID: "a1", CustomerID: "c1", Category: fieldsync.CategoryTV, Model: "m", Serial: "s", CreatedAt: now}, admin),
		w.store.CreateTicket(ctx, &fieldsync.Ticket{ID: "t1", CustomerID: "c1", SiteID: "s1", AssetID: "a1", Channel: fieldsync.ChannelWeb, Kind: fieldsync.KindRepair, Description: "d", CreatedAt: now}, admin),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.store.CreateVisit(ctx, "t1", admin, func(*fieldsync.Ticket, *fieldsync.Site, []fieldsync.Visit) (*fieldsync.Visit, error) {
		return &fieldsync.Visit{ID: "v1", TicketID: "t1", TechnicianID: tech.UserID, Status: fieldsync.VisitScheduled, CreatedAt: now}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.CreateReport(ctx, &fieldsync.Report{ID: id, VisitID: "v1", TemplateID: "tv-v1", Status: fieldsync.ReportDraft, CreatedAt: now}, admin); err != nil {
		t.Fatal(err)
	}
}

// open starts the service, as a server process does, on the world's files.
func (w *thumbWorld) open(t *testing.T) {
	t.Helper()
	store, err := bolt.Open(w.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	local, err := localstore.New(w.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	w.store, w.blobs, w.logs = store, &countingBlobs{BlobStore: local}, &testenv.Buffer{}
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	w.svc = media.New(media.Config{Blobs: w.blobs, Store: store, SpoolDir: t.TempDir(),
		CanAttach: func(context.Context, string, string) error { return nil },
		Logger:    slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{ReplaceAttr: noTime}))})
}

// configure makes the world's service again, on the same store and blobs,
// with its config changed by change.
func (w *thumbWorld) configure(change func(*media.Config)) {
	c := w.svc.Config
	change(&c)
	w.svc = media.New(c)
}

// upload sends a photo through the service in one write, as the last
// PATCH of a tus upload does.
func (w *thumbWorld) upload(t *testing.T, data []byte, slot string) string {
	t.Helper()
	sha := hexSHA(data)
	u, err := w.svc.Create(t.Context(), tech, int64(len(data)), map[string]string{"sha256": sha, "report_id": "r1", "slot": slot})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, p, err := w.svc.Write(t.Context(), tech, u.ID, 0, bytes.NewReader(data), int64(len(data)), nil); err != nil || p == nil || p.Thumbnail {
		t.Fatalf("Write: %+v, %v; want the photo published without a thumbnail yet", p, err)
	}
	return sha
}

// stored puts a photo in the store and its bytes (unless nil) in the blob
// store, as a finished upload leaves them.
func (w *thumbWorld) stored(t *testing.T, sha string, data []byte, typ string) {
	t.Helper()
	ctx := t.Context()
	if data != nil {
		st, err := w.blobs.Begin(ctx, "up-"+sha[:8], int64(len(data)))
		if err == nil {
			err = w.blobs.Finish(ctx, "up-"+sha[:8], st, bytes.NewReader(data), sha)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p := &fieldsync.Photo{SHA256: sha, Size: int64(len(data)), Type: typ, ReportID: "r1", Slot: "fault", UploadedBy: tech.UserID, CreatedAt: time.Now()}
	if err := w.store.AddPhoto(ctx, p); err != nil {
		t.Fatal(err)
	}
}

func (w *thumbWorld) pending(t *testing.T) []string {
	t.Helper()
	ps, err := w.store.PendingThumbnails(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.SHA256)
	}
	return out
}

func (w *thumbWorld) hasThumbnail(t *testing.T, sha string) bool {
	t.Helper()
	p, err := w.store.Photo(t.Context(), sha)
	if err != nil {
		t.Fatal(err)
	}
	return p.Thumbnail
}

// thumbSide decodes the stored thumbnail and returns its longer side.
func (w *thumbWorld) thumbSide(t *testing.T, sha string) int {
	t.Helper()
	r, err := w.blobs.BlobStore.Open(t.Context(), media.ThumbKey(sha), 0, -1)
	if err != nil {
		t.Fatalf("the thumbnail: %v", err)
	}
	defer r.Close()
	cfg, err := jpeg.DecodeConfig(r)
	if err != nil {
		t.Fatalf("the thumbnail is not a JPEG: %v", err)
	}
	return max(cfg.Width, cfg.Height)
}

func (w *thumbWorld) make(t *testing.T) int {
	t.Helper()
	n, err := w.svc.MakeThumbnails(t.Context())
	if err != nil {
		t.Fatalf("MakeThumbnails: %v", err)
	}
	return n
}

func TestMakeThumbnails(t *testing.T) {
	jpg := testJPEG(t, 800, 600)
	heic := readPhotoTestdata(t, "exif.heic")
	tests := []struct {
		name       string
		setup      func(t *testing.T, w *thumbWorld) string
		wantMade   int
		wantThumb  bool
		wantOpened int // evidence reads
		wantPut    int
	}{
		{"an uploaded JPEG gets its thumbnail", func(t *testing.T, w *thumbWorld) string {
			return w.upload(t, jpg, "serial_plate")
		}, 1, true, 1, 1},
		{"an uploaded HEIC is marked without one, its bytes unread", func(t *testing.T, w *thumbWorld) string {
			return w.upload(t, heic, "serial_plate")
		}, 0, false, 0, 0},
		{"a thumbnail stored already is taken as it is", func(t *testing.T, w *thumbWorld) string {
			sha := hexSHA(jpg)
			thumb := testJPEG(t, 320, 240)
			if err := w.blobs.BlobStore.Put(t.Context(), media.ThumbKey(sha), bytes.NewReader(thumb), int64(len(thumb))); err != nil {
				t.Fatal(err)
			}
			return w.upload(t, jpg, "serial_plate")
		}, 1, true, 0, 0},
		{"a photo whose evidence is missing is given up", func(t *testing.T, w *thumbWorld) string {
			sha := strings.Repeat("c", 64)
			w.stored(t, sha, nil, "image/jpeg")
			return sha
		}, 0, false, 1, 0},
		{"a photo whose pixels do not decode is given up", func(t *testing.T, w *thumbWorld) string {
			cut := jpg[:len(jpg)/2]
			sha := hexSHA(cut)
			w.stored(t, sha, cut, "image/jpeg")
			return sha
		}, 0, false, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newThumbWorld(t)
			sha := tt.setup(t, w)
			if got := w.pending(t); len(got) != 1 || got[0] != sha {
				t.Fatalf("pending before: %q, want %s", got, sha)
			}
			w.blobs.reset()
			if n := w.make(t); n != tt.wantMade {
				t.Errorf("MakeThumbnails made %d, want %d", n, tt.wantMade)
			}
			if got := w.pending(t); len(got) != 0 {
				t.Errorf("pending after: %q", got)
			}
			if got := w.hasThumbnail(t, sha); got != tt.wantThumb {
				t.Errorf("thumbnail %v, want %v", got, tt.wantThumb)
			}
			if tt.wantThumb && tt.wantPut > 0 {
				if side := w.thumbSide(t, sha); side != media.DefaultThumbSide {
					t.Errorf("the thumbnail's longer side is %d, want %d", side, media.DefaultThumbSide)
				}
			}
			if c := w.blobs.snapshot(); c.opens != tt.wantOpened || c.puts != tt.wantPut {
				t.Errorf("%d evidence reads and %d puts, want %d and %d", c.opens, c.puts, tt.wantOpened, tt.wantPut)
			}
			if n := w.make(t); n != 0 {
				t.Errorf("a second MakeThumbnails made %d", n)
			}
		})
	}
}

func TestMakeThumbnailsLeavesATransientFailureQueued(t *testing.T) {
	w := newThumbWorld(t)
	plate := readPhotoTestdata(t, "exif.jpg") // has a GPS position
	first, second := w.upload(t, plate, "serial_plate"), w.upload(t, testJPEG(t, 400, 300), "fault")
	failing := min(first, second) // the queue is in hash order
	w.blobs.failPuts(1)

	n, err := w.svc.MakeThumbnails(t.Context())
	if n != 1 || err == nil || !errors.Is(err, errStoreDown) {
		t.Fatalf("MakeThumbnails with the blob store failing once = %d, %v; want 1 made and the failure", n, err)
	}
	if got := w.pending(t); len(got) != 1 || got[0] != failing {
		t.Fatalf("pending %q, want %s, whose Put failed", got, failing)
	}
	if w.hasThumbnail(t, failing) {
		t.Fatal("a photo whose thumbnail was not stored says it has one")
	}
	logs := w.logs.String()
	if !strings.Contains(logs, failing) || !strings.Contains(logs, errStoreDown.Error()) {
		t.Errorf("the log does not name the photo and the error:\n%s", logs)
	}
	if strings.Contains(logs, "31.2") || strings.Contains(logs, "121.4") {
		t.Errorf("the log shows where a photo was taken:\n%s", logs)
	}

	if n := w.make(t); n != 1 {
		t.Fatalf("the next MakeThumbnails made %d, want the one left", n)
	}
	if !w.hasThumbnail(t, first) || !w.hasThumbnail(t, second) || len(w.pending(t)) != 0 {
		t.Fatal("the photos do not both have their thumbnails")
	}
}

func TestMakeThumbnailsEndsWhileTheBlobStoreIsDown(t *testing.T) {
	w := newThumbWorld(t)
	for i := range 3 {
		w.upload(t, testJPEG(t, 64+i, 48), "fault")
	}
	w.blobs.failPuts(1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if n, err := w.svc.MakeThumbnails(context.Background()); n != 0 || err == nil {
			t.Errorf("MakeThumbnails with the blob store down = %d, %v", n, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("MakeThumbnails keeps retrying within one call")
	}
	if c := w.blobs.snapshot(); c.puts != 3 {
		t.Errorf("%d puts, want each photo tried once", c.puts)
	}
	if got := w.pending(t); len(got) != 3 {
		t.Errorf("pending %q, want the three photos", got)
	}
}

func TestRunThumbnailsAfterAnUploadAndARestart(t *testing.T) {
	w := newThumbWorld(t)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	// The interval is long: only the upload's wake-up can make it.
	wg.Go(func() { w.svc.RunThumbnails(ctx, time.Hour) })
	woken := w.upload(t, testJPEG(t, 640, 480), "serial_plate")
	waitFor(t, "the worker to make the thumbnail of a new upload", func() bool { return w.hasThumbnail(t, woken) })
	cancel()
	wg.Wait()

	// Queued while no worker runs, then the process stops.
	left := w.upload(t, testJPEG(t, 480, 640), "fault")
	w.store.Close()

	w.open(t)
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	wg.Go(func() { w.svc.RunThumbnails(ctx, time.Hour) })
	waitFor(t, "the restarted worker to make the queued thumbnail", func() bool { return w.hasThumbnail(t, left) })
	if side := w.thumbSide(t, left); side != media.DefaultThumbSide {
		t.Errorf("the thumbnail's longer side is %d", side)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var errStoreDown = errors.New("blob store unreachable (test)")

// countingBlobs counts evidence reads and puts, and fails the next n puts.
type countingBlobs struct {
	media.BlobStore
	mu     sync.Mutex
	failN  int
	counts blobCounts
}

type blobCounts struct{ opens, puts int }

func (b *countingBlobs) failPuts(n int) { b.mu.Lock(); b.failN = n; b.mu.Unlock() }
func (b *countingBlobs) reset()         { b.mu.Lock(); b.counts = blobCounts{}; b.mu.Unlock() }

func (b *countingBlobs) snapshot() blobCounts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts
}

func (b *countingBlobs) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	b.mu.Lock()
	if strings.HasPrefix(key, "photos/") {
		b.counts.opens++
	}
	b.mu.Unlock()
	return b.BlobStore.Open(ctx, key, offset, length)
}

func (b *countingBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	b.mu.Lock()
	b.counts.puts++
	fail := b.failN > 0
	if fail {
		b.failN--
	}
	b.mu.Unlock()
	if fail {
		return errStoreDown
	}
	return b.BlobStore.Put(ctx, key, r, size)
}

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readPhotoTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("photo", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Thumbnails wait for a moment without uploads, and no longer than the
// service's patience.
func TestThumbnailsYieldToUploads(t *testing.T) {
	tests := []struct {
		name             string
		quiet, patience  time.Duration
		madeDuringUpload bool
	}{
		{"while an upload is in progress, none is made", 20 * time.Millisecond, time.Hour, false},
		{"patience runs out under a steady stream of uploads", time.Hour, 50 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newThumbWorld(t)
			w.configure(func(c *media.Config) { c.ThumbQuiet, c.ThumbPatience = tt.quiet, tt.patience })
			ctx := t.Context()
			first := w.upload(t, testJPEG(t, 400, 300), "serial_plate")

			// A second upload, its body half sent.
			data := testJPEG(t, 300, 400)
			u, err := w.svc.Create(ctx, tech, int64(len(data)), map[string]string{"sha256": hexSHA(data), "report_id": "r1", "slot": "packaging"})
			if err != nil {
				t.Fatal(err)
			}
			pr, pw := io.Pipe()
			wrote := make(chan error, 1)
			go func() {
				_, _, err := w.svc.Write(ctx, tech, u.ID, 0, pr, int64(len(data)), nil)
				wrote <- err
			}()
			if _, err := pw.Write(data[:len(data)/2]); err != nil {
				t.Fatal(err)
			}

			// Long enough to see none made, and for one made after the
			// patience on a loaded machine.
			wait := 300 * time.Millisecond
			if tt.madeDuringUpload {
				wait = 5 * time.Second
			}
			made := make(chan int, 1)
			go func() {
				n, _ := w.svc.MakeThumbnails(ctx)
				made <- n
			}()
			select {
			case n := <-made:
				if !tt.madeDuringUpload {
					t.Fatalf("MakeThumbnails made %d while an upload was in progress", n)
				}
				if !w.hasThumbnail(t, first) {
					t.Fatal("patience ran out, but the first photo has no thumbnail")
				}
			case <-time.After(wait):
				if tt.madeDuringUpload {
					t.Fatal("no thumbnail after the patience ran out")
				}
				if w.hasThumbnail(t, first) {
					t.Fatal("a thumbnail was made while an upload was in progress")
				}
			}

			if _, err := pw.Write(data[len(data)/2:]); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			if err := <-wrote; err != nil {
				t.Fatalf("the second upload: %v", err)
			}
			if !tt.madeDuringUpload {
				if n := <-made; n < 1 || !w.hasThumbnail(t, first) {
					t.Fatalf("after the upload ended: made %d, first has a thumbnail: %v", n, w.hasThumbnail(t, first))
				}
			}
		})
	}
}
