package clientsdk

// Photos end to end: the SDK's photo queue against the REAL server with
// photo storage in a local directory (media.Service over localstore and
// the server's bbolt store). Only the tablet's network is wrapped: to cut
// it, cut a PATCH mid-body, lose an answer, corrupt a chunk, or hold the
// uploads while text records go through.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/localstore"
	"github.com/fieldsync/fieldsync/media/photo"
	"github.com/fieldsync/fieldsync/media/tus"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// newPhotoWorld is an e2e world whose server stores photos in a directory.
// maxSize 0 keeps the server's default limit.
func newPhotoWorld(t *testing.T, maxSize int64) *e2eWorld {
	t.Helper()
	blobs, err := localstore.New(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	return newPhotoWorldOn(t, maxSize, blobs)
}

// newPhotoWorldOn is newPhotoWorld with the blob store given. Its server
// makes thumbnails in the background, as `fieldsync serve` does.
func newPhotoWorldOn(t *testing.T, maxSize int64, blobs media.BlobStore) *e2eWorld {
	t.Helper()
	spool := t.TempDir()
	var photos *media.Service
	w := newE2EWorld(t, func(d *server.Deps) {
		photos = media.New(media.Config{Blobs: blobs, SpoolDir: spool, Store: d.Store.(*bolt.DB), MaxSize: maxSize, Logger: d.Logger})
		d.Media = photos
	})
	ctx, stop := context.WithCancel(context.Background())
	var worker sync.WaitGroup
	worker.Go(func() { photos.RunThumbnails(ctx, time.Minute) })
	t.Cleanup(func() { stop(); worker.Wait() }) // before the store closes
	return w
}

// heldThumbnails is a blob store whose thumbnails wait to be stored until
// release is closed, so a test sees a photo before its thumbnail.
type heldThumbnails struct {
	media.BlobStore
	release chan struct{}
}

func (h *heldThumbnails) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.BlobStore.Put(ctx, key, r, size)
}

var (
	bigOnce, smallOnce sync.Once
	bigJPEG, smallJPEG []byte
)

// noiseJPEG encodes a w×h picture of random noise: it does not compress.
func noiseJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// variant gives other bytes for each n, so another photo: a trailer after
// the end of the image, which decoders ignore.
func variant(jpg []byte, n int) []byte {
	return append(append([]byte(nil), jpg...), []byte("photo #"+strconv.Itoa(n))...)
}

// testPhoto is a photo-sized JPEG (about 2.5 MB, made once): big enough
// that chunks matter. It is a picture of noise followed by 2 MiB of noise
// after the end of the image, which decoders skip: the server checks,
// inspects and thumbnails it as any JPEG, without the race detector making
// a minute of decoding megapixels of noise.
func testPhoto(t *testing.T, n int) []byte {
	t.Helper()
	bigOnce.Do(func() {
		bigJPEG = noiseJPEG(600, 450)
		tail := make([]byte, 2<<20)
		r := rand.New(rand.NewPCG(3, 5))
		for i := range tail {
			tail[i] = byte(r.Uint32())
		}
		bigJPEG = append(bigJPEG, tail...)
	})
	if len(bigJPEG) < 2<<20 {
		t.Fatalf("the test photo is only %d bytes", len(bigJPEG))
	}
	return variant(bigJPEG, n)
}

// smallPhoto is a JPEG of noise of about 240 KB, for tests where the size
// does not matter (the race detector makes every byte costly).
func smallPhoto(t *testing.T, n int) []byte {
	t.Helper()
	smallOnce.Do(func() { smallJPEG = noiseJPEG(400, 300) })
	return variant(smallJPEG, n)
}

func writeTestFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// photoNet wraps a tablet's network for the photo requests: it counts
// them, and can cut, lose, corrupt, hold or refuse them.
type photoNet struct {
	next Transport

	mu         sync.Mutex
	mediaDown  bool          // every /v1/media request fails
	cutAt      int64         // > 0: the PATCH body byte number cutAt (in all) is not sent: the connection drops there, once
	loseAnswer int           // > 0: the PATCH of this number reaches the server, its answer is lost
	corrupt    int           // the next n PATCHes have a byte flipped on the way
	gate       chan struct{} // not nil: PATCHes wait until it is closed
	photoCounts
}

// photoCounts is what a photoNet saw.
type photoCounts struct {
	held        int     // PATCHes waiting at the gate
	patches     int     // PATCH requests sent
	patchBytes  int64   // PATCH body bytes sent
	offsets     []int64 // the Upload-Offset of each PATCH
	creates     int     // POST /v1/media/uploads
	attaches    int     // POST /v1/media/{sha}/attach
	mediaFailed int     // /v1/media requests refused by mediaDown
}

var errCut = errors.New("connection dropped mid-body (test)")

func (n *photoNet) Do(req *http.Request) (*http.Response, error) {
	path := req.URL.Path
	if !strings.HasPrefix(path, "/v1/media") {
		return n.next.Do(req)
	}
	n.mu.Lock()
	if n.mediaDown {
		n.mediaFailed++
		n.mu.Unlock()
		return nil, errNetDown
	}
	switch {
	case req.Method == http.MethodPost && path == tus.UploadsPath:
		n.creates++
	case req.Method == http.MethodPost && strings.HasSuffix(path, "/attach"):
		n.attaches++
	}
	if req.Method != http.MethodPatch {
		n.mu.Unlock()
		return n.next.Do(req)
	}
	n.patches++
	number := n.patches
	off, _ := strconv.ParseInt(req.Header.Get("Upload-Offset"), 10, 64)
	n.offsets = append(n.offsets, off)
	corrupt := n.corrupt > 0
	if corrupt {
		n.corrupt--
	}
	gate := n.gate
	if gate != nil {
		n.held++
	}
	n.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		n.mu.Lock()
		n.held--
		n.mu.Unlock()
	}
	req = req.Clone(req.Context())
	req.Body = &patchBody{r: req.Body, n: n, corrupt: corrupt}
	resp, err := n.next.Do(req)
	n.mu.Lock()
	lose := number == n.loseAnswer
	n.mu.Unlock()
	if err == nil && lose {
		resp.Body.Close()
		return nil, errors.New("connection reset after the chunk went out (test)")
	}
	return resp, err
}

func (n *photoNet) set(fn func(n *photoNet)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fn(n)
}

func (n *photoNet) snapshot() photoCounts {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.photoCounts
	c.offsets = append([]int64(nil), n.offsets...)
	return c
}

// patchBody counts what a PATCH sends, and cuts or corrupts it.
type patchBody struct {
	r       io.ReadCloser
	n       *photoNet
	corrupt bool
}

func (b *patchBody) Read(p []byte) (int, error) {
	k, err := b.r.Read(p)
	if k > 0 && b.corrupt {
		p[0] ^= 0xff
		b.corrupt = false
	}
	b.n.mu.Lock()
	defer b.n.mu.Unlock()
	if cut := b.n.cutAt; cut > 0 && b.n.patchBytes+int64(k) >= cut {
		k = int(cut - 1 - b.n.patchBytes)
		b.n.patchBytes += int64(k)
		b.n.cutAt = 0
		return k, errCut
	}
	b.n.patchBytes += int64(k)
	return k, err
}

func (b *patchBody) Close() error { return b.r.Close() }

// photoTablet is a tablet of tech A with its photo network, signed in and
// bootstrapped, with a draft report on the world's visit.
func photoTablet(t *testing.T, w *e2eWorld, device string, chunk int64, opts ...func(*Options)) (*tablet, *photoNet, string) {
	t.Helper()
	pn := &photoNet{}
	tab := w.tablet(t, device, append([]func(*Options){func(o *Options) {
		pn.next = o.Transport
		o.Transport = pn
		o.PhotoChunkSize = chunk
	}}, opts...)...)
	tab.login(t, e2eTechA)
	tab.sync(t)
	report, err := tab.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	return tab, pn, report
}

func photoOf(t *testing.T, c *Client, id int64) PhotoStatus {
	t.Helper()
	all, err := c.Photos()
	must(t, err)
	for _, p := range all {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no photo %d on the device: %+v", id, all)
	return PhotoStatus{}
}

func attach(t *testing.T, c *Client, report, slot, path string) PhotoRef {
	t.Helper()
	ref, err := c.AttachPhoto(report, slot, path)
	if err != nil {
		t.Fatalf("attach %s: %v", slot, err)
	}
	return ref
}

// drainEvents returns the events waiting on the channel.
func drainEvents(c *Client) []Event {
	var out []Event
	for {
		select {
		case e := <-c.Events():
			out = append(out, e)
		default:
			return out
		}
	}
}

func countEvents(events []Event, kind EventKind) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// e2eReportPhotos is the dispatcher's view of a visit's reports with their
// photos.
type e2eReportPhotos struct {
	Reports []struct {
		ID     string `json:"id"`
		Photos []struct {
			fieldsync.Photo
			URL      string `json:"url"`
			ThumbURL string `json:"thumb_url"`
		} `json:"photos"`
	} `json:"reports"`
}

// get fetches raw bytes as the holder of token.
func (w *e2eWorld) get(token, path string) (int, []byte) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return res.StatusCode, raw
}

// Photos taken offline wait on the device, listed on their report and
// counted as queued; back online, one Sync uploads them in chunks, the
// server verifies them, the dispatcher sees them on the report, with
// thumbnails once the server has made them, and the bytes it serves are
// the technician's file. The tablet's copy of the photos' records gains
// the thumbnails too.
func TestE2EPhotosTakenOfflineUploadOnReconnect(t *testing.T) {
	dir, err := localstore.New(filepath.Join(t.TempDir(), "media"))
	must(t, err)
	blobs := &heldThumbnails{BlobStore: dir, release: make(chan struct{})}
	w := newPhotoWorldOn(t, 0, blobs)
	const chunk = 512 << 10
	tab, pn, report := photoTablet(t, w, "tab-a", chunk)
	drainEvents(tab.c)

	tab.offline(true)
	plate, damage := testPhoto(t, 1), testPhoto(t, 2)
	platePath, damagePath := writeTestFile(t, "plate.jpg", plate), writeTestFile(t, "damage.jpg", damage)
	p1 := attach(t, tab.c, report, "serial_plate", platePath)
	p2 := attach(t, tab.c, report, "fault", damagePath)
	if p1.SHA256 != hexSHA(plate) || p1.Size != int64(len(plate)) || p2.SHA256 != hexSHA(damage) || p1.ID == p2.ID {
		t.Fatalf("refs %+v %+v", p1, p2)
	}
	if again := attach(t, tab.c, report, "serial_plate", platePath); again != p1 {
		t.Fatalf("attaching the same photo to the same slot again gave %+v, want %+v", again, p1)
	}
	copyOf, err := os.ReadFile(photoOf(t, tab.c, p1.ID).Path)
	must(t, err)
	if !bytes.Equal(copyOf, plate) {
		t.Fatal("the device's copy differs from the file")
	}
	if s := status(t, tab.c); s.PhotosQueued != 2 || s.PhotosUploading != 0 || s.PhotoBytesPending != int64(len(plate)+len(damage)) {
		t.Fatalf("offline status %+v, want 2 photos queued", s)
	}
	r, err := tab.c.Report(report)
	must(t, err)
	var local []LocalPhoto
	must(t, json.Unmarshal(r.Extra[LocalPhotosKey], &local))
	if len(local) != 2 || local[0].Slot != "fault" || local[1].SHA256 != p1.SHA256 || local[1].Status != PhotoQueued {
		t.Fatalf("the report lists %+v", local)
	}
	b, err := tab.c.Bundle(w.visit)
	must(t, err)
	if len(b.Reports) != 1 || b.Reports[0].Extra[LocalPhotosKey] == nil {
		t.Fatalf("the bundle's report does not list the photos: %+v", b.Reports)
	}
	if outbox := outboxOf(t, tab.c); len(outbox) != 1 || outbox[0].Fields[LocalPhotosKey] != nil {
		t.Fatalf("the photos reached the outbox: %+v", outbox)
	}
	if _, err := tab.c.Sync(context.Background()); err == nil {
		t.Fatal("a sync without network succeeded")
	}

	tab.offline(false)
	if rep := tab.sync(t); rep.Applied != 1 {
		t.Fatalf("sync %+v, want the report's creation applied", rep)
	}
	for _, ref := range []PhotoRef{p1, p2} {
		if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoVerified || p.Sent != p.Size || p.Error != "" || p.VerifiedAt == nil {
			t.Fatalf("photo %d after the sync: %+v", ref.ID, p)
		}
	}
	if s := status(t, tab.c); s.PhotosQueued+s.PhotosUploading+s.PhotosFailed != 0 || s.PhotoBytesPending != 0 || s.PhotoError != "" || s.Pending != 0 {
		t.Fatalf("status after the sync %+v", s)
	}
	net := pn.snapshot()
	if want := int64(len(plate) + len(damage)); net.patchBytes != want {
		t.Errorf("%d bytes sent, want %d", net.patchBytes, want)
	}
	if want := (len(plate)+chunk-1)/chunk + (len(damage)+chunk-1)/chunk; net.patches != want {
		t.Errorf("%d PATCHes, want %d chunks", net.patches, want)
	}
	events := drainEvents(tab.c)
	if countEvents(events, EventPhotoVerified) != 2 || countEvents(events, EventPhotoProgress) < 4 {
		t.Errorf("events: %d verified, %d progress", countEvents(events, EventPhotoVerified), countEvents(events, EventPhotoProgress))
	}
	r, err = tab.c.Report(report)
	must(t, err)
	must(t, json.Unmarshal(r.Extra[LocalPhotosKey], &local))
	if len(local) != 2 || local[0].Status != PhotoVerified || local[1].Status != PhotoVerified {
		t.Fatalf("the report lists %+v", local)
	}

	// The tablet learns of the photos on the server, not yet with their
	// thumbnails: they are held.
	thumbnailOnTablet := func(ref PhotoRef, slot string) bool {
		t.Helper()
		rec := recordOf(t, tab.c, "photo", report+":"+slot+":"+ref.SHA256)
		if rec == nil {
			t.Fatalf("the tablet has no record of photo %s on %s", ref.SHA256, slot)
		}
		var p fieldsync.Photo
		must(t, json.Unmarshal(rec.Data, &p))
		return p.Thumbnail
	}
	tab.sync(t)
	if a, b := thumbnailOnTablet(p1, "serial_plate"), thumbnailOnTablet(p2, "fault"); a || b {
		t.Fatalf("before the thumbnails are stored, the tablet's records say thumbnail %v and %v", a, b)
	}
	var v e2eReportPhotos
	w.call(w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &v)
	if len(v.Reports) != 1 || len(v.Reports[0].Photos) != 2 || v.Reports[0].Photos[0].ThumbURL != "" {
		t.Fatalf("the dispatcher sees %+v", v.Reports)
	}
	close(blobs.release)
	for deadline := time.Now().Add(30 * time.Second); v.Reports[0].Photos[0].ThumbURL == "" || v.Reports[0].Photos[1].ThumbURL == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("no thumbnails after 30 s: %+v", v.Reports)
		}
		time.Sleep(10 * time.Millisecond)
		v = e2eReportPhotos{}
		w.call(w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &v)
	}
	for _, p := range v.Reports[0].Photos {
		want := map[string][]byte{"serial_plate": plate, "fault": damage}[p.Slot]
		if want == nil || p.SHA256 != hexSHA(want) || p.Size != int64(len(want)) || p.Type != "image/jpeg" || p.ThumbURL == "" ||
			p.Filename == "" || p.DeviceID != "tab-a" || p.CapturedAt == nil {
			t.Errorf("photo on the report %+v", p)
		}
		code, got := w.get(w.disp, p.URL)
		if code != 200 || !bytes.Equal(got, want) {
			t.Errorf("GET %s: %d, %d bytes; the server's bytes differ from the file", p.URL, code, len(got))
		}
		if code, thumb := w.get(w.disp, p.ThumbURL); code != 200 || !bytes.HasPrefix(thumb, []byte{0xff, 0xd8}) {
			t.Errorf("GET %s: %d", p.ThumbURL, code)
		}
	}
	// Nothing is sent twice, and the tablet's records converge.
	tab.sync(t)
	if again := pn.snapshot(); again.patches != net.patches || again.creates != net.creates {
		t.Errorf("a second sync sent photos again: %+v", again)
	}
	if a, b := thumbnailOnTablet(p1, "serial_plate"), thumbnailOnTablet(p2, "fault"); !a || !b {
		t.Errorf("after the thumbnails were made, the tablet's records say thumbnail %v and %v", a, b)
	}
}

// A connection cut in the middle of a chunk: the text sync succeeds, the
// photo waits at the last acknowledged chunk, and the next Sync resumes
// there, sending again only the chunk that was cut.
func TestE2EPhotoUploadCutMidChunkResumes(t *testing.T) {
	w := newPhotoWorld(t, 0)
	const chunk = 256 << 10
	tab, pn, report := photoTablet(t, w, "tab-a", chunk)
	photo := testPhoto(t, 3)
	ref := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", photo))
	pn.set(func(n *photoNet) { n.cutAt = 5*chunk + chunk/2 })

	rep, err := tab.c.Sync(context.Background())
	if err != nil || rep.Applied != 1 {
		t.Fatalf("a cut photo failed the text sync: %+v, %v", rep, err)
	}
	p := photoOf(t, tab.c, ref.ID)
	if p.Status != PhotoUploading || p.Sent != 5*chunk {
		t.Fatalf("after the cut: %+v, want uploading with 5 chunks acknowledged", p)
	}
	if s := status(t, tab.c); s.PhotosUploading != 1 || s.PhotoError == "" || s.LastError != "" {
		t.Fatalf("status after the cut %+v", s)
	}
	if countEvents(drainEvents(tab.c), EventPhotoError) != 1 {
		t.Error("no photo_error event for the cut")
	}
	before := pn.snapshot()

	tab.sync(t)
	if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoVerified {
		t.Fatalf("after the resume: %+v", p)
	}
	after := pn.snapshot()
	if after.offsets[before.patches] != 5*chunk {
		t.Errorf("the resume started at %d, want %d", after.offsets[before.patches], 5*chunk)
	}
	if after.creates != 1 {
		t.Errorf("%d uploads created, want the one resumed", after.creates)
	}
	if sent := after.patchBytes; sent > int64(len(photo))+chunk {
		t.Errorf("%d bytes sent for a %d-byte photo: more than one chunk sent again", sent, len(photo))
	}
	if s := status(t, tab.c); s.PhotoError != "" {
		t.Errorf("status %+v", s)
	}
	var v e2eReportPhotos
	w.call(w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &v)
	if len(v.Reports[0].Photos) != 1 || v.Reports[0].Photos[0].SHA256 != hexSHA(photo) {
		t.Fatalf("the dispatcher sees %+v", v.Reports[0].Photos)
	}
}

// The app is closed mid-upload, after a chunk reached the server but
// before its answer reached the tablet. Reopened, the tablet asks the
// server where the upload stands and sends from there: not a byte twice.
func TestE2EPhotoUploadResumesAfterAppRestart(t *testing.T) {
	w := newPhotoWorld(t, 0)
	const chunk = 256 << 10
	tab, pn, report := photoTablet(t, w, "tab-a", chunk)
	photo := testPhoto(t, 4)
	ref := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", photo))
	pn.set(func(n *photoNet) { n.loseAnswer = 4 })
	tab.sync(t)
	if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoUploading || p.Sent != 3*chunk {
		t.Fatalf("before the restart: %+v, want 3 chunks acknowledged", p)
	}

	must(t, tab.c.Close())
	tab.open(t)
	if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoUploading || p.Sent != 3*chunk {
		t.Fatalf("reopened: %+v", p)
	}
	before := pn.snapshot()
	tab.sync(t)
	if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoVerified {
		t.Fatalf("after the restart: %+v", p)
	}
	after := pn.snapshot()
	if after.offsets[before.patches] != 4*chunk {
		t.Errorf("resumed at %d, want the server's offset %d", after.offsets[before.patches], 4*chunk)
	}
	if after.patchBytes != int64(len(photo)) || after.creates != 1 {
		t.Errorf("%d bytes sent in %d uploads for a %d-byte photo, want each byte once in one upload", after.patchBytes, after.creates, len(photo))
	}
}

// A photo the server has (another tablet of the technician sent it) is
// not sent again: verified at once, and attached without its bytes to
// another slot too.
func TestE2EPhotoTheServerHasIsNotSentAgain(t *testing.T) {
	w := newPhotoWorld(t, 0)
	const chunk = 1 << 20
	one, _, report := photoTablet(t, w, "tab-1", chunk)
	photo := smallPhoto(t, 5)
	path := writeTestFile(t, "plate.jpg", photo)
	attach(t, one.c, report, "serial_plate", path)
	one.sync(t)

	pn := &photoNet{}
	two := w.tablet(t, "tab-2", func(o *Options) { pn.next, o.Transport = o.Transport, pn })
	two.login(t, e2eTechA)
	two.sync(t)
	same := attach(t, two.c, report, "serial_plate", path)
	other := attach(t, two.c, report, "packaging", path)
	two.sync(t)
	for _, ref := range []PhotoRef{same, other} {
		if p := photoOf(t, two.c, ref.ID); p.Status != PhotoVerified || p.Sent != p.Size {
			t.Fatalf("%s on the second tablet: %+v", ref.Slot, p)
		}
	}
	if net := pn.snapshot(); net.patches != 0 || net.creates != 0 || net.attaches != 2 {
		t.Fatalf("the second tablet sent %d chunks in %d uploads (%d attaches), want none", net.patches, net.creates, net.attaches)
	}
	var v e2eReportPhotos
	w.call(w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &v)
	slots := map[string]bool{}
	for _, p := range v.Reports[0].Photos {
		if p.SHA256 == hexSHA(photo) {
			slots[p.Slot] = true
		}
	}
	if !slots["serial_plate"] || !slots["packaging"] {
		t.Fatalf("the report shows the photo on %v, want serial_plate and packaging", slots)
	}
}

// A photo the server has on a report another technician's tablet may not
// see: HEAD says 404 to that tablet, as GET does, so it sends the bytes;
// the server stores them once and attaches them to its report.
func TestE2EPhotoTheServerHasButTheTabletMayNotSeeIsSent(t *testing.T) {
	w := newPhotoWorld(t, 0)
	one, _, reportA := photoTablet(t, w, "tab-a", 1<<20)
	photo := smallPhoto(t, 6)
	path := writeTestFile(t, "plate.jpg", photo)
	attach(t, one.c, reportA, "serial_plate", path)
	one.sync(t)

	visitB := w.newVisit(w.intake(), w.techB)
	pn := &photoNet{}
	two := w.tablet(t, "tab-b", func(o *Options) { pn.next, o.Transport = o.Transport, pn })
	two.login(t, e2eTechB)
	two.sync(t)
	reportB, err := two.c.CreateReport(visitB, "tv-v1")
	must(t, err)
	ref := attach(t, two.c, reportB, "fault", path)
	two.sync(t)
	if p := photoOf(t, two.c, ref.ID); p.Status != PhotoVerified || p.Sent != p.Size {
		t.Fatalf("technician B's photo: %+v", p)
	}
	if net := pn.snapshot(); net.creates != 1 || net.patches == 0 || net.attaches != 0 {
		t.Fatalf("technician B's tablet made %d uploads, %d chunks, %d attaches; want the bytes sent in one upload", net.creates, net.patches, net.attaches)
	}
	var v e2eReportPhotos
	w.call(w.disp, "GET", "/v1/visits/"+visitB, nil, 200, &v)
	found := false
	for _, r := range v.Reports {
		for _, p := range r.Photos {
			found = found || p.SHA256 == hexSHA(photo) && p.Slot == "fault"
		}
	}
	if !found {
		t.Fatalf("technician B's report does not show the photo: %+v", v.Reports)
	}
}

// A file that is not an image, and a photo larger than the server takes,
// fail with the server's reasons and keep their files; they hold up
// neither the good photo queued after them nor the text records.
func TestE2EPhotoNotAnImageFailsWithoutBlockingOthers(t *testing.T) {
	w := newPhotoWorld(t, 1<<20)
	tab, pn, report := photoTablet(t, w, "tab-a", 256<<10)
	tab.sync(t)
	// A JPEG's first bytes pass the device's check; the server reads on
	// and refuses it.
	text := append([]byte("\xff\xd8\xff"), bytes.Repeat([]byte("this is the invoice as text, not a picture\n"), 20000)...)
	bad := attach(t, tab.c, report, "invoice", writeTestFile(t, "invoice.txt", text))
	huge := attach(t, tab.c, report, "fault", writeTestFile(t, "damage.jpg", testPhoto(t, 12)))
	photo := smallPhoto(t, 6)
	good := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", photo))
	must(t, tab.c.SetAnswer(report, "power_on", false))
	drainEvents(tab.c)

	rep := tab.sync(t)
	if rep.Applied != 1 {
		t.Fatalf("sync %+v, want the answer applied", rep)
	}
	p := photoOf(t, tab.c, bad.ID)
	if p.Status != PhotoFailed || p.Error != fieldsync.ENotAnImage || p.Detail == "" {
		t.Fatalf("the text file: %+v, want failed with not_an_image", p)
	}
	if _, err := os.Stat(p.Path); err != nil {
		t.Errorf("the failed photo's file is gone: %v", err)
	}
	if p := photoOf(t, tab.c, huge.ID); p.Status != PhotoFailed || p.Error != fieldsync.ETooLarge || p.Sent != 0 {
		t.Fatalf("the photo larger than the server takes: %+v, want failed with body_too_large", p)
	}
	if p := photoOf(t, tab.c, good.ID); p.Status != PhotoVerified {
		t.Fatalf("the good photo after bad ones: %+v", p)
	}
	if net := pn.snapshot(); net.patchBytes > int64(len(text)+len(photo)) {
		t.Errorf("%d bytes sent: the refused photo was sent", net.patchBytes)
	}
	if s := status(t, tab.c); s.PhotosFailed != 2 || s.PhotosQueued != 0 || s.PhotoError != "" || s.Pending != 0 {
		t.Fatalf("status %+v", s)
	}
	var failed []*PhotoStatus
	for _, e := range drainEvents(tab.c) {
		if e.Kind == EventPhotoFailed {
			failed = append(failed, e.Photo)
		}
	}
	if len(failed) != 2 || failed[0].ID != bad.ID || failed[0].Error != fieldsync.ENotAnImage || failed[1].ID != huge.ID {
		t.Fatalf("photo_failed events %+v", failed)
	}
	got := w.dispatcherVisit(w.visit).Reports
	if len(got) != 1 || string(got[0].Answers["power_on"]) != "false" {
		t.Fatalf("the answer did not reach the server: %+v", got)
	}
	// The next round leaves the failed photos alone.
	before := pn.snapshot()
	tab.sync(t)
	if p := photoOf(t, tab.c, bad.ID); p.Status != PhotoFailed {
		t.Fatalf("the failed photo was retried: %+v", p)
	}
	if after := pn.snapshot(); after.creates != before.creates || after.patches != before.patches {
		t.Fatalf("a later round tried the failed photos again: %+v", after)
	}
}

// A chunk corrupted on the way is refused by its checksum and sent again;
// a photo whose chunks keep arriving corrupt fails after a few attempts,
// and the next photo still goes.
func TestE2EPhotoCorruptChunksAreSentAgainThenFail(t *testing.T) {
	w := newPhotoWorld(t, 0)
	const chunk = 512 << 10
	tab, pn, report := photoTablet(t, w, "tab-a", chunk)
	photo := testPhoto(t, 7)
	once := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", photo))
	pn.set(func(n *photoNet) { n.corrupt = 1 })
	tab.sync(t)
	if p := photoOf(t, tab.c, once.ID); p.Status != PhotoVerified || p.Attempts != 0 {
		t.Fatalf("after one corrupt chunk: %+v", p)
	}
	if net := pn.snapshot(); net.patchBytes != int64(len(photo))+chunk || net.offsets[1] != 0 {
		t.Fatalf("the corrupt chunk: %d bytes sent, offsets %v", net.patchBytes, net.offsets)
	}

	broken := attach(t, tab.c, report, "fault", writeTestFile(t, "damage.jpg", smallPhoto(t, 8)))
	next := attach(t, tab.c, report, "packaging", writeTestFile(t, "packaging.jpg", smallPhoto(t, 9)))
	pn.set(func(n *photoNet) { n.corrupt = maxPhotoAttempts })
	tab.sync(t)
	if p := photoOf(t, tab.c, broken.ID); p.Status != PhotoFailed || p.Error != fieldsync.EChecksumMismatch || p.Attempts != maxPhotoAttempts {
		t.Fatalf("a photo whose chunks keep arriving corrupt: %+v", p)
	}
	if p := photoOf(t, tab.c, next.ID); p.Status != PhotoVerified {
		t.Fatalf("the photo after it: %+v", p)
	}
	// The technician asks again; the network is fine now.
	must(t, tab.c.RetryPhoto(broken.ID))
	if p := photoOf(t, tab.c, broken.ID); p.Status != PhotoQueued || p.Error != "" {
		t.Fatalf("retried: %+v", p)
	}
	tab.sync(t)
	if p := photoOf(t, tab.c, broken.ID); p.Status != PhotoVerified {
		t.Fatalf("after the retry: %+v", p)
	}
}

// Text records sync while the photo endpoints cannot be reached: Sync
// succeeds, the photos wait, and Status and Events say why.
func TestE2ETextSyncsWhileThePhotoEndpointIsDown(t *testing.T) {
	w := newPhotoWorld(t, 0)
	tab, pn, report := photoTablet(t, w, "tab-a", 256<<10)
	ref := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", smallPhoto(t, 10)))
	pn.set(func(n *photoNet) { n.mediaDown = true })
	must(t, tab.c.SetAnswer(report, "power_on", true))
	must(t, tab.c.Depart(w.visit))
	drainEvents(tab.c)

	rep, err := tab.c.Sync(context.Background())
	if err != nil || rep.Applied != 3 {
		t.Fatalf("sync with the photo endpoint down: %+v, %v", rep, err)
	}
	if got := w.dispatcherVisit(w.visit); got.Status != fieldsync.VisitEnRoute || len(got.Reports) != 1 {
		t.Fatalf("the text records did not reach the server: %s, %+v", got.Status, got.Reports)
	}
	s := status(t, tab.c)
	if s.Pending != 0 || s.LastError != "" || s.PhotosQueued != 1 || !strings.Contains(s.PhotoError, "unreachable") {
		t.Fatalf("status %+v", s)
	}
	if countEvents(drainEvents(tab.c), EventPhotoError) != 1 {
		t.Error("no photo_error event")
	}
	if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoQueued || p.Error != "" {
		t.Fatalf("the photo while the endpoint is down: %+v", p)
	}

	pn.set(func(n *photoNet) { n.mediaDown = false })
	tab.sync(t)
	if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoVerified {
		t.Fatalf("once the endpoint is back: %+v", p)
	}
}

// In the background, a photo upload under way never holds up the text
// records: an answer given while a chunk hangs reaches the server, then
// the photo completes.
func TestE2EBackgroundPhotoUploadDoesNotHoldUpText(t *testing.T) {
	w := newPhotoWorld(t, 0)
	tab, pn, report := photoTablet(t, w, "tab-a", 1<<20, func(o *Options) {
		o.PollWait = 5 * time.Second
		o.Debounce = 5 * time.Millisecond
		o.MinBackoff, o.MaxBackoff = 5*time.Millisecond, 50*time.Millisecond
	})
	gate := make(chan struct{})
	pn.set(func(n *photoNet) { n.gate = gate })
	ref := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", smallPhoto(t, 11)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, tab.c.Start(ctx))
	waitFor(t, "a chunk to hang", func() bool { return pn.snapshot().held > 0 })

	must(t, tab.c.SetAnswer(report, "power_on", false))
	waitFor(t, "the answer to reach the server", func() bool {
		r := w.dispatcherVisit(w.visit).Reports
		return len(r) == 1 && string(r[0].Answers["power_on"]) == "false"
	})
	if p := photoOf(t, tab.c, ref.ID); p.Status == PhotoVerified {
		t.Fatalf("the photo went through the gate: %+v", p)
	}
	close(gate)
	waitFor(t, "the photo to be verified", func() bool { return photoOf(t, tab.c, ref.ID).Status == PhotoVerified })
	if s := status(t, tab.c); s.Pending != 0 || s.PhotosQueued+s.PhotosUploading != 0 {
		t.Fatalf("status %+v", s)
	}
}

// A photo as large as a device attaches (a JPEG followed by padding, 32
// MiB) is copied, hashed and uploaded in 1 MiB chunks without the heap
// growing by anything like its size.
func TestE2EPhotoMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and uploads 32 MiB")
	}
	const size = photo.MaxBytes
	w := newPhotoWorld(t, 2*size)
	tab, pn, report := photoTablet(t, w, "tab-a", 1<<20)

	path := filepath.Join(t.TempDir(), "huge.jpg")
	f, err := os.Create(path)
	must(t, err)
	var head bytes.Buffer
	must(t, jpeg.Encode(&head, image.NewGray(image.Rect(0, 0, 64, 64)), nil))
	_, err = f.Write(head.Bytes())
	must(t, err)
	block := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	for written := int64(head.Len()); written < size; {
		n := min(int64(len(block)), size-written)
		block[0]++ // no two blocks alike
		_, err := f.Write(block[:n])
		must(t, err)
		written += n
	}
	must(t, f.Close())
	block = nil

	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	ref := attach(t, tab.c, report, "serial_plate", path)
	tab.sync(t)
	close(stop)
	<-sampled

	if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoVerified || p.Size != size {
		t.Fatalf("the %d MiB photo: %+v", size>>20, p)
	}
	if net := pn.snapshot(); net.patchBytes != size || net.patches != size>>20 {
		t.Fatalf("%d bytes in %d chunks", net.patchBytes, net.patches)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap: %.1f MiB before, peak growth %.1f MiB while attaching and uploading %d MiB", float64(base)/(1<<20), float64(growth)/(1<<20), size>>20)
	if growth > 20<<20 {
		t.Fatalf("the heap grew by %.1f MiB for a %d MiB photo", float64(growth)/(1<<20), size>>20)
	}
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Photos taken before the report was signed reach the server after the
// signature, which is pushed first: the signature names them, so the
// signed report takes exactly those. A photo it does not name is refused
// for good, never blocking the queue.
func TestE2EPhotosOfASignedReportUploadAfterTheSignature(t *testing.T) {
	w := newPhotoWorld(t, 0)
	tab, _, report := photoTablet(t, w, "tab-a", 512<<10)
	tab.offline(true)
	must(t, tab.c.Depart(w.visit))
	must(t, tab.c.Arrive(w.visit))
	plate := testPhoto(t, 1)
	p1 := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", plate))
	e2eAnswers(t, tab.c, report)
	must(t, tab.c.SignReport(report, noPhotos("tv-v1", "serial_plate")))
	tab.offline(false)
	tab.sync(t)
	if p := photoOf(t, tab.c, p1.ID); p.Status != PhotoVerified {
		t.Fatalf("the signed report's photo after the sync: %+v", p)
	}

	var got struct {
		Reports []struct {
			Status       string `json:"status"`
			SignedPhotos []struct {
				Slot   string `json:"slot"`
				SHA256 string `json:"sha256"`
			} `json:"signed_photos"`
			Photos []struct {
				Slot   string `json:"slot"`
				SHA256 string `json:"sha256"`
			} `json:"photos"`
		} `json:"reports"`
	}
	status, raw := w.get(w.disp, "/v1/visits/"+w.visit)
	if status != http.StatusOK {
		t.Fatalf("GET the visit: %d %s", status, raw)
	}
	must(t, json.Unmarshal(raw, &got))
	// The photo the signature names arrived, so the report is sealed.
	if len(got.Reports) != 1 || got.Reports[0].Status != "sealed" {
		t.Fatalf("reports %+v", got.Reports)
	}
	r := got.Reports[0]
	if len(r.SignedPhotos) != 1 || r.SignedPhotos[0].Slot != "serial_plate" || r.SignedPhotos[0].SHA256 != p1.SHA256 {
		t.Fatalf("the signature names %+v, want the plate", r.SignedPhotos)
	}
	if len(r.Photos) != 1 || r.Photos[0].SHA256 != p1.SHA256 {
		t.Fatalf("the signed report holds %+v", r.Photos)
	}
}
