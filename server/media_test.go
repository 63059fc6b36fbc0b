package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/localstore"
	"github.com/fieldsync/fieldsync/media/s3store"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// mediaWorld is a dispatch world with photo storage and a report of
// technician A's to attach photos to.
type mediaWorld struct {
	*dispatchWorld
	svc     *media.Service
	backend *backend
	report  string
	visit   string
}

// backend is a real blob store with a look behind it that does not go
// through Fieldsync.
type backend struct {
	blobs     media.BlobStore
	reopen    func() media.BlobStore // a new store value on the same storage, as after a restart
	leftovers func() []string        // what unfinished uploads left behind
	evidence  func() []string        // stored evidence objects, as the backend names them
}

// backends are the photo stores the media tests run against: a directory,
// and S3 on a real MinIO.
var backends = []string{"local", "s3"}

func newBackend(t *testing.T, kind string) *backend {
	t.Helper()
	list := func(root string) []string {
		var out []string
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				out = append(out, p)
			}
			return nil
		})
		return out
	}
	if kind == "local" {
		dir := filepath.Join(t.TempDir(), "media")
		blobs, err := localstore.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		return &backend{blobs: blobs,
			reopen: func() media.BlobStore {
				st, err := localstore.New(dir)
				if err != nil {
					t.Fatal(err)
				}
				return st
			},
			leftovers: func() []string { return list(filepath.Join(dir, "uploads")) },
			evidence:  func() []string { return list(filepath.Join(dir, "objects", "photos")) }}
	}
	m := testenv.MinIO(t)
	const bucket = "fieldsync-test"
	cfg := s3store.Config{Endpoint: m.Endpoint, Bucket: bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Insecure: true}
	blobs, err := s3store.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := m.Client(t)
	objects := func(prefix string) []string {
		var out []string
		for o := range client.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err == nil {
				out = append(out, o.Key)
			}
		}
		return out
	}
	return &backend{blobs: blobs,
		reopen: func() media.BlobStore {
			st, err := s3store.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		leftovers: func() []string {
			out := objects("uploads/")
			for u := range client.ListIncompleteUploads(context.Background(), bucket, "", true) {
				out = append(out, "multipart:"+u.Key)
			}
			return out
		},
		evidence: func() []string { return objects("photos/") }}
}

func newMediaWorld(t *testing.T, kind string) *mediaWorld {
	t.Helper()
	be := newBackend(t, kind)
	var svc *media.Service
	var w *dispatchWorld
	c := testenv.NewClock(date(2026, 3, 10, 9))
	ts := newTestServer(t, func(d *Deps) {
		onClock(d, c)
		svc = media.New(media.Config{Blobs: be.blobs, Store: d.Store.(media.Store), SpoolDir: t.TempDir(), Now: c.Now, Logger: d.Logger})
		d.Media = svc
	})
	// The thumbnail worker, as `fieldsync serve` runs it; stopped before
	// the store closes.
	ctx, stop := context.WithCancel(context.Background())
	var worker sync.WaitGroup
	worker.Go(func() { svc.RunThumbnails(ctx, time.Minute) })
	t.Cleanup(func() { stop(); worker.Wait() })
	w = worldOn(t, ts, c)
	v := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	report := "0190f000-0000-7000-8000-0000000000cc"
	if rs := tab.push(t, tab.mutation("report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"})); rs[0].Status != syncproto.Applied {
		t.Fatalf("report: %+v", rs)
	}
	return &mediaWorld{dispatchWorld: w, svc: svc, backend: be, report: report, visit: v.ID}
}

// testJPEG makes a photo-like JPEG of w×h pixels (noise, so it does not
// compress to nothing).
func testJPEG(t *testing.T, w, h int, seed int64) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewSource(seed))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Intn(256))
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func meta(kv ...string) string {
	var parts []string
	for i := 0; i < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

// tus sends one tus request.
func (w *mediaWorld) tus(t *testing.T, token, method, path string, headers map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, w.URL+path, bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return w.send(t, req)
}

func (w *mediaWorld) create(t *testing.T, token string, data []byte, sha string) string {
	t.Helper()
	res, body := w.tus(t, token, "POST", "/v1/media/uploads", map[string]string{
		"Upload-Length":   strconv.Itoa(len(data)),
		"Upload-Metadata": meta("sha256", sha, "report_id", w.report, "slot", "serial_plate", "filename", "plate.jpg"),
	}, nil)
	if res.StatusCode != 201 || !strings.HasPrefix(res.Header.Get("Location"), "/v1/media/uploads/") || res.Header.Get("Upload-Offset") != "0" {
		t.Fatalf("create: %d %v %s", res.StatusCode, res.Header, body)
	}
	return res.Header.Get("Location")
}

func (w *mediaWorld) patch(t *testing.T, token, loc string, offset int, chunk []byte, sum string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(offset)}
	if sum != "" {
		h["Upload-Checksum"] = sum
	}
	return w.tus(t, token, "PATCH", loc, h, chunk)
}

func sha256Header(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256 " + base64.StdEncoding.EncodeToString(s[:])
}

func TestTusUploadInChunksBecomesEvidence(t *testing.T) {
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) { testTusUploadInChunksBecomesEvidence(t, newMediaWorld(t, kind)) })
	}
}

func testTusUploadInChunksBecomesEvidence(t *testing.T, w *mediaWorld) {
	res, _ := w.tus(t, "", "OPTIONS", "/v1/media/uploads", nil, nil)
	if res.StatusCode != 204 || res.Header.Get("Tus-Version") != "1.0.0" || !strings.Contains(res.Header.Get("Tus-Extension"), "checksum") ||
		res.Header.Get("Tus-Max-Size") == "" || !strings.Contains(res.Header.Get("Tus-Checksum-Algorithm"), "sha256") {
		t.Fatalf("OPTIONS: %d %v", res.StatusCode, res.Header)
	}

	photo := testJPEG(t, 1200, 900, 1)
	sha := hexSHA(photo)
	loc := w.create(t, w.techA, photo, sha)
	third := len(photo) / 3
	for _, r := range [][2]int{{0, third}, {third, 2 * third}, {2 * third, len(photo)}} {
		chunk := photo[r[0]:r[1]]
		res, body := w.patch(t, w.techA, loc, r[0], chunk, sha256Header(chunk))
		if res.StatusCode != 204 || res.Header.Get("Upload-Offset") != strconv.Itoa(r[1]) {
			t.Fatalf("PATCH at %d: %d %v %s", r[0], res.StatusCode, res.Header, body)
		}
		if r[1] == len(photo) && res.Header.Get("Fieldsync-Photo") != "/v1/media/"+sha {
			t.Fatalf("the last PATCH does not name the photo: %v", res.Header)
		}
	}

	type visitPhotos struct {
		Reports []struct {
			Photos []struct {
				SHA256, Slot, Type, URL string
				ThumbURL                string `json:"thumb_url"`
				Width, Height           int
				Size                    int64
			}
		}
	}
	var detail visitPhotos
	w.call(t, w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &detail)
	ps := detail.Reports[0].Photos
	if len(ps) != 1 || ps[0].SHA256 != sha || ps[0].Slot != "serial_plate" || ps[0].Width != 1200 || ps[0].Height != 900 ||
		ps[0].Type != "image/jpeg" || ps[0].Size != int64(len(photo)) {
		t.Fatalf("the dispatcher sees %+v", ps)
	}
	// The thumbnail is made in the background, shortly after.
	waitUntil(t, "the photo's thumbnail", func() bool {
		var d visitPhotos
		w.call(t, w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &d)
		return len(d.Reports[0].Photos) == 1 && d.Reports[0].Photos[0].ThumbURL == "/v1/media/"+sha+"?variant=thumb"
	})

	res, body := w.tus(t, w.disp, "GET", "/v1/media/"+sha, nil, nil)
	if res.StatusCode != 200 || !bytes.Equal(body, photo) || res.Header.Get("ETag") != `"`+sha+`"` || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("GET photo: %d %v (%d bytes)", res.StatusCode, res.Header, len(body))
	}
	res, body = w.tus(t, w.techA, "GET", "/v1/media/"+sha, map[string]string{"Range": "bytes=100-199"}, nil)
	if res.StatusCode != 206 || !bytes.Equal(body, photo[100:200]) {
		t.Fatalf("range: %d, %d bytes", res.StatusCode, len(body))
	}
	res, body = w.tus(t, w.techA, "GET", "/v1/media/"+sha+"?variant=thumb", nil, nil)
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); res.StatusCode != 200 || err != nil || max(cfg.Width, cfg.Height) != media.DefaultThumbSide {
		t.Fatalf("thumb: %d %v %+v", res.StatusCode, err, cfg)
	}
	res, _ = w.tus(t, w.techB, "GET", "/v1/media/"+sha, nil, nil)
	if res.StatusCode != 404 {
		t.Fatalf("another technician reads the photo: %d", res.StatusCode)
	}
	if res, _ = w.tus(t, w.techA, "HEAD", "/v1/media/"+sha, nil, nil); res.StatusCode != 200 || res.Header.Get("Content-Length") != strconv.Itoa(len(photo)) {
		t.Fatalf("HEAD of a stored photo: %d %v", res.StatusCode, res.Header)
	}
	if res, _ = w.tus(t, w.techB, "HEAD", "/v1/media/"+sha, nil, nil); res.StatusCode != 404 || res.Header.Get("Content-Type") == "image/jpeg" {
		t.Fatalf("HEAD of a photo technician B may not see: %d %v; want 404 telling nothing", res.StatusCode, res.Header)
	}
	if res, _ = w.tus(t, w.techB, "HEAD", "/v1/media/"+strings.Repeat("0", 64), nil, nil); res.StatusCode != 404 {
		t.Fatalf("HEAD of an unknown photo: %d", res.StatusCode)
	}

	// The same bytes from another device: stored once, attached again.
	tab2 := w.login(t, "tech.a", "tab-a2").AccessToken
	loc2 := w.create(t, tab2, photo, sha)
	if res, body := w.patch(t, tab2, loc2, 0, photo, ""); res.StatusCode != 204 {
		t.Fatalf("second upload: %d %s", res.StatusCode, body)
	}
	if stored := w.backend.evidence(); len(stored) != 1 || !strings.HasSuffix(stored[0], sha) {
		t.Fatalf("evidence in the store: %v, want the photo once under its hash", stored)
	}
	if left := w.backend.leftovers(); len(left) > 0 {
		t.Fatalf("uploads left behind: %q", left)
	}

	// The photo's metadata reaches the devices of the visit, not others.
	photoOn := func(d *device) bool {
		for id, c := range d.pull(t) {
			if strings.HasPrefix(id, "photo/") && strings.HasSuffix(id, ":serial_plate:"+sha) && c.Op == "upsert" && strings.Contains(string(c.Data), `"sha256":"`+sha+`"`) &&
				strings.Contains(string(c.Data), `"thumbnail":true`) {
				return true
			}
		}
		return false
	}
	if !photoOn(w.device(t, "tech.a", "tab-a3")) {
		t.Fatal("technician A's device did not receive the photo's metadata")
	}
	if photoOn(w.device(t, "tech.b", "tab-b3")) {
		t.Fatal("technician B's device received another visit's photo")
	}

	metrics := w.metrics(t)
	for _, want := range []string{"fieldsync_media_uploads_completed_total 2", "fieldsync_media_bytes_received_total " + strconv.FormatFloat(float64(2*len(photo)), 'g', -1, 64),
		"fieldsync_media_thumbnails_made_total 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q in\n%s", want, grepLines(metrics, "fieldsync_media"))
		}
	}

	// A device that learns the server has the photo attaches it, bytes unsent.
	res, body = w.do(t, "POST", "/v1/media/"+sha+"/attach", w.techA, map[string]string{"report_id": w.report, "slot": "fault"})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"slot":"fault"`) {
		t.Fatalf("attach: %d %s", res.StatusCode, body)
	}
	// Knowing a hash is not holding the photo: one who may not see it must
	// send the bytes.
	res, body = w.do(t, "POST", "/v1/media/"+sha+"/attach", w.techB, map[string]string{"report_id": w.report, "slot": "fault"})
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	w.call(t, w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &detail)
	if n := len(detail.Reports[0].Photos); n != 2 {
		t.Fatalf("after attaching, the report lists %d photos, want 2 slots", n)
	}

	// A new photo in one PATCH, as most clients send one: it is written
	// once, under its name, and nothing else is left.
	whole := testJPEG(t, 800, 600, 3)
	wholeSHA := hexSHA(whole)
	res, body = w.patch(t, w.techA, w.create(t, w.techA, whole, wholeSHA), 0, whole, "")
	if res.StatusCode != 204 || res.Header.Get("Upload-Offset") != strconv.Itoa(len(whole)) || res.Header.Get("Fieldsync-Photo") != "/v1/media/"+wholeSHA {
		t.Fatalf("one-PATCH upload: %d %v %s", res.StatusCode, res.Header, body)
	}
	if stored := w.backend.evidence(); len(stored) != 2 {
		t.Fatalf("evidence after a one-PATCH upload: %v, want 2 photos", stored)
	}
	if left := w.backend.leftovers(); len(left) > 0 {
		t.Fatalf("a one-PATCH upload left %q", left)
	}
	if res, body := w.tus(t, w.disp, "GET", "/v1/media/"+wholeSHA, nil, nil); res.StatusCode != 200 || !bytes.Equal(body, whole) {
		t.Fatalf("GET of the one-PATCH photo: %d, %d bytes", res.StatusCode, len(body))
	}
}

func TestTusRefusals(t *testing.T) {
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) { testTusRefusals(t, newMediaWorld(t, kind)) })
	}
}

func testTusRefusals(t *testing.T, w *mediaWorld) {
	photo := testJPEG(t, 64, 48, 2)
	sha := hexSHA(photo)

	// A bomb: a JPEG header that claims 20000×20000 pixels.
	bomb := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x4E, 0x20, 0x4E, 0x20, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9}
	text := []byte("this is not a photo, it is a long enough text file")
	tests := []struct {
		name   string
		data   []byte
		sha    string
		sum    string
		status int
		code   string
	}{
		{"bytes that do not hash to the declared sha256 are not published", photo, strings.Repeat("a", 64), "", 460, fieldsync.EChecksumMismatch},
		{"a chunk that fails its Upload-Checksum is not kept", photo, sha, "sha256 " + base64.StdEncoding.EncodeToString(make([]byte, 32)), 460, fieldsync.EChecksumMismatch},
		{"a text file is not evidence", text, hexSHA(text), "", 415, fieldsync.ENotAnImage},
		{"a decompression bomb is refused before decoding", bomb, hexSHA(bomb), "", 422, fieldsync.EImageTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := w.create(t, w.techA, tt.data, tt.sha)
			res, body := w.patch(t, w.techA, loc, 0, tt.data, tt.sum)
			wantProblem(t, res, body, tt.status, tt.code)
			if res, _ := w.tus(t, w.techA, "HEAD", "/v1/media/"+tt.sha, nil, nil); res.StatusCode != 404 {
				t.Fatalf("refused bytes were published: HEAD %d", res.StatusCode)
			}
			if tt.sum != "" { // the chunk was dropped, the upload goes on
				if res, _ := w.tus(t, w.techA, "HEAD", loc, nil, nil); res.StatusCode != 200 || res.Header.Get("Upload-Offset") != "0" {
					t.Fatalf("after a bad chunk: %d offset %s", res.StatusCode, res.Header.Get("Upload-Offset"))
				}
				if res, _ := w.tus(t, w.techA, "DELETE", loc, nil, nil); res.StatusCode != 204 {
					t.Fatalf("DELETE: %d", res.StatusCode)
				}
			}
			// Refused whole: not a byte of it was stored.
			if left, stored := w.backend.leftovers(), w.backend.evidence(); len(left)+len(stored) > 0 {
				t.Fatalf("refused bytes left %q and stored %q", left, stored)
			}
		})
	}

	loc := w.create(t, w.techA, photo, sha)
	res, body := w.patch(t, w.techA, loc, 10, photo[10:], "")
	wantProblem(t, res, body, 409, fieldsync.EOffsetMismatch)
	res, body = w.tus(t, w.techA, "PATCH", loc, map[string]string{"Tus-Resumable": "", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}, photo)
	wantProblem(t, res, body, 412, fieldsync.ETusVersion)
	res, body = w.tus(t, w.techB, "HEAD", loc, nil, nil)
	if res.StatusCode != 404 {
		t.Fatalf("another technician sees the upload: %d %s", res.StatusCode, body)
	}
	if res, _ := w.tus(t, w.techA, "DELETE", loc, nil, nil); res.StatusCode != 204 {
		t.Fatalf("DELETE: %d", res.StatusCode)
	}
	if res, _ := w.tus(t, w.techA, "HEAD", loc, nil, nil); res.StatusCode != 404 {
		t.Fatalf("HEAD after DELETE: %d", res.StatusCode)
	}
	res, body = w.tus(t, w.techA, "POST", "/v1/media/uploads", map[string]string{"Upload-Length": "100", "Upload-Metadata": meta("sha256", sha, "report_id", "nope", "slot", "x")}, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.tus(t, w.techA, "POST", "/v1/media/uploads", map[string]string{"Upload-Length": strconv.Itoa(media.DefaultMaxSize + 1), "Upload-Metadata": meta("sha256", sha, "report_id", w.report, "slot", "x")}, nil)
	wantProblem(t, res, body, 413, fieldsync.ETooLarge)
	res, body = w.tus(t, w.techB, "POST", "/v1/media/uploads", map[string]string{"Upload-Length": "100", "Upload-Metadata": meta("sha256", sha, "report_id", w.report, "slot", "x")}, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
}

func TestTusResumeAfterACutAndExpiry(t *testing.T) {
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) { testTusResumeAfterACutAndExpiry(t, newMediaWorld(t, kind)) })
	}
}

func testTusResumeAfterACutAndExpiry(t *testing.T, w *mediaWorld) {
	photo := testJPEG(t, 800, 600, 3)
	sha := hexSHA(photo)
	loc := w.create(t, w.techA, photo, sha)

	// The connection drops after 40% of the body: what arrived is kept.
	cut := len(photo) * 4 / 10
	req, _ := http.NewRequest("PATCH", w.URL+loc, io.MultiReader(bytes.NewReader(photo[:cut]), failingReader{}))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+w.techA)
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", "0")
	req.ContentLength = int64(len(photo))
	if res, err := w.Client().Do(req); err == nil {
		res.Body.Close()
	}
	var offset int
	waitUntil(t, "the server to keep the bytes that arrived", func() bool {
		res, _ := w.tus(t, w.techA, "HEAD", loc, nil, nil)
		offset, _ = strconv.Atoi(res.Header.Get("Upload-Offset"))
		return offset > 0
	})
	if offset > cut {
		t.Fatalf("offset %d after a cut at %d", offset, cut)
	}
	if res, body := w.patch(t, w.techA, loc, offset, photo[offset:], ""); res.StatusCode != 204 || res.Header.Get("Fieldsync-Photo") == "" {
		t.Fatalf("resume: %d %s", res.StatusCode, body)
	}
	if res, body := w.tus(t, w.disp, "GET", "/v1/media/"+sha, nil, nil); res.StatusCode != 200 || !bytes.Equal(body, photo) {
		t.Fatalf("resumed photo differs: %d", res.StatusCode)
	}

	// An unfinished upload expires, and its parts with it.
	other := testJPEG(t, 64, 64, 4)
	loc = w.create(t, w.techA, other, hexSHA(other))
	w.patch(t, w.techA, loc, 0, other[:100], "")
	w.clock.Set(w.clock.Now().Add(media.DefaultExpiry + time.Minute))
	if n, err := w.svc.Expire(t.Context()); err != nil || n != 1 {
		t.Fatalf("Expire: %d %v", n, err)
	}
	if left := w.backend.leftovers(); len(left) != 0 {
		t.Fatalf("an expired upload left %v", left)
	}
	if res, _ := w.tus(t, w.techA, "HEAD", loc, nil, nil); res.StatusCode != 404 {
		t.Fatalf("HEAD of an expired upload: %d", res.StatusCode)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, fmt.Errorf("connection lost") }

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTusJSClientUploadsWithAnInterruption drives the reference JavaScript
// tus client under Node against the server: a 6 MB photo, cut at 40% and
// resumed, arrives whole.
func TestTusJSClientUploadsWithAnInterruption(t *testing.T) {
	node, modules := testenv.Node(t, "tus-js-client")
	w := newMediaWorld(t, "s3")
	photo := testJPEG(t, 2000, 1500, 5)
	if len(photo) < 6<<20 { // noise compresses little: a bigger frame passes 6 MB
		photo = testJPEG(t, 2400, 1800, 6)
	}
	file := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(file, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	sha := hexSHA(photo)
	// The Node client cannot be handed a transport: it goes through a
	// proxy that holds its exchanges to openapi.json.
	endpoint := testenv.OpenAPIProxy(t, openAPIDoc, w.URL) + "/v1/media/uploads"
	cmd := exec.Command(node, filepath.Join("testdata", "tus-upload.js"), endpoint, w.techA, file, sha, w.report, "fault")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("tus-js-client: %v\n%s\n%s", err, out, stderr)
	}
	var result struct {
		URL           string
		InterruptedAt int64 `json:"interruptedAt"`
		Size          int64
	}
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("tus-js-client printed %q: %v", out, err)
	}
	if result.InterruptedAt <= 0 || result.InterruptedAt >= result.Size {
		t.Fatalf("the upload was not interrupted: %+v", result)
	}
	res, body := w.tus(t, w.disp, "GET", "/v1/media/"+sha, nil, nil)
	if res.StatusCode != 200 || !bytes.Equal(body, photo) {
		t.Fatalf("the uploaded photo differs: %d, %d of %d bytes", res.StatusCode, len(body), len(photo))
	}
	if hexSHA(body) != sha {
		t.Fatal("the downloaded bytes do not hash to the photo's name")
	}
}

// TestTusResumesAfterAServerRestart cuts an upload between two servers:
// the second has nothing in memory from the first, only the store's
// record and the blob store's parts.
func TestTusResumesAfterAServerRestart(t *testing.T) {
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) {
			w := newMediaWorld(t, kind)
			photo := testJPEG(t, 1600, 1200, 7) // several MB: S3 parts and a tail
			sha := hexSHA(photo)
			loc := w.create(t, w.techA, photo, sha)
			half := len(photo) / 2
			if res, body := w.patch(t, w.techA, loc, 0, photo[:half], ""); res.StatusCode != 204 {
				t.Fatalf("first half: %d %s", res.StatusCode, body)
			}

			restarted := media.New(media.Config{Blobs: w.backend.reopen(), Store: w.store, SpoolDir: t.TempDir(), Now: w.clock.Now})
			s2 := New(Deps{Store: w.store, Auth: w.testServer.svc, Issuer: auth.NewIssuer(w.keys), Media: restarted, Now: w.clock.Now,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			ts2 := validated(t, httptest.NewServer(s2))
			defer ts2.Close()
			dw := *w.dispatchWorld
			dw.testServer = &testServer{Server: ts2, store: w.store, svc: w.testServer.svc, keys: w.keys, logs: w.logs}
			w2 := *w
			w2.dispatchWorld = &dw

			res, _ := w2.tus(t, w.techA, "HEAD", loc, nil, nil)
			if res.StatusCode != 200 || res.Header.Get("Upload-Offset") != strconv.Itoa(half) {
				t.Fatalf("after the restart: %d offset %q, want %d", res.StatusCode, res.Header.Get("Upload-Offset"), half)
			}
			if res, body := w2.patch(t, w.techA, loc, half, photo[half:], sha256Header(photo[half:])); res.StatusCode != 204 || res.Header.Get("Fieldsync-Photo") == "" {
				t.Fatalf("second half: %d %s", res.StatusCode, body)
			}
			if res, body := w2.tus(t, w.disp, "GET", "/v1/media/"+sha, nil, nil); res.StatusCode != 200 || hexSHA(body) != sha {
				t.Fatalf("the resumed photo: %d, hash %s", res.StatusCode, hexSHA(body))
			}
		})
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
