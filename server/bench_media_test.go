package server

// Photo upload throughput (BENCHMARKS.md, "Photo uploads"): 50 photos of
// about 4 MB sent by tus through the real server into MinIO, against
// minio-go PutObject of the same kind of files to the same MinIO. They run
// only with -bench:
//
//	go test -run XXX -bench 'TusUpload|PutObject' -benchtime 2x ./server/

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/auth/authproto"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/s3store"
	"github.com/fieldsync/fieldsync/media/tus"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

const (
	benchPhotoCount = 50
	// Noise at JPEG quality 90 takes about 0.9 bytes a pixel: 2448×1836
	// (4.5 Mpx) is 4.04 MB.
	benchPhotoW, benchPhotoH = 2448, 1836
	benchBucket              = "fieldsync-bench"
	benchChunk               = 1 << 20
)

// benchBasePhotos are 50 distinct noise JPEGs, made once per process
// (about 8 s on two cores) and never timed.
var benchBasePhotos = sync.OnceValue(func() [][]byte {
	return testenv.NoiseJPEGs(benchPhotoCount, 1000, func(int) (int, int) { return benchPhotoW, benchPhotoH })
})

func benchSize(photos []testenv.Photo) int64 {
	var n int64
	for _, p := range photos {
		n += int64(len(p.Data))
	}
	return n
}

// benchFreshUntimed makes a fresh set with the timer stopped and collects
// the last set's garbage, so that neither is charged to the next
// iteration.
func benchFreshUntimed(b *testing.B, bases [][]byte) []testenv.Photo {
	b.StopTimer()
	photos := testenv.FreshPhotos(bases)
	runtime.GC()
	b.StartTimer()
	return photos
}

// benchS3 is a MinIO of the benchmark's own with the photo bucket.
type benchS3 struct {
	minio  *testenv.MinIOServer
	client *minio.Client
	cfg    s3store.Config
}

func newBenchS3(b *testing.B) *benchS3 {
	b.Helper()
	m := testenv.MinIO(b)
	cfg := s3store.Config{Endpoint: m.Endpoint, Bucket: benchBucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Insecure: true}
	client := m.Client(b)
	if err := client.MakeBucket(b.Context(), benchBucket, minio.MakeBucketOptions{}); err != nil {
		b.Fatal(err)
	}
	return &benchS3{minio: m, client: client, cfg: cfg}
}

// putObjects is the reference: minio-go PutObject of each photo in turn,
// as a client that writes straight to S3 would. A 4 MB object is one PUT.
func (s *benchS3) putObjects(b *testing.B, bases [][]byte) {
	b.SetBytes(benchSize(testenv.FreshPhotos(bases)))
	cpu := benchCPUStart(s)
	for b.Loop() {
		photos := benchFreshUntimed(b, bases)
		for _, p := range photos {
			_, err := s.client.PutObject(b.Context(), benchBucket, "reference/"+p.SHA256, bytes.NewReader(p.Data), int64(len(p.Data)),
				minio.PutObjectOptions{ContentType: "image/jpeg"})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu.report(b, b.N*len(bases))
}

// BenchmarkPutObject50x4MB is the reference of BenchmarkTusUpload50x4MB on
// a MinIO of its own, for running it alone. BenchmarkTusUpload50x4MB runs
// the same code as its first sub-benchmark, on the MinIO the server uses.
func BenchmarkPutObject50x4MB(b *testing.B) {
	bases := benchBasePhotos()
	newBenchS3(b).putObjects(b, bases)
}

// BenchmarkTusUpload50x4MB sends 50 photos of about 4 MB, one after the
// other, as a technician's tablet does: POST /v1/media/uploads, then
// PATCHes, to the real server on loopback with its bbolt store (fsync on)
// and S3 photo storage on MinIO. The last PATCH of each photo waits while
// the server checks the SHA-256, inspects the image, publishes it under
// its hash and queues its thumbnail, which the server's worker makes in
// the background meanwhile, as `fieldsync serve` runs it. Every iteration
// sends new bytes. After an iteration's uploads, with the timer stopped,
// it waits for every thumbnail and reports thumbs-lag-ms: how long after
// the last upload completed the last thumbnail was recorded.
//
//	PutObject    the reference: minio-go PutObject of the same photos to
//	             the same MinIO and bucket
//	one-PATCH    each photo in one PATCH (tus-js-client's default)
//	chunks-1MiB  each photo in PATCHes of 1 MiB
//	one-PATCH-thumbnail-present
//	             a diagnostic: one-PATCH with every thumbnail already in
//	             the bucket, so the worker makes none and only records them
func BenchmarkTusUpload50x4MB(b *testing.B) {
	bases := benchBasePhotos()
	s3 := newBenchS3(b)
	srv := newBenchUploadServer(b, s3)
	var reference float64 // MB/s of the PutObject sub-benchmark

	b.Run("PutObject", func(b *testing.B) {
		s3.putObjects(b, bases)
		reference = benchMBps(b, bases)
	})
	for _, c := range []struct {
		name  string
		chunk int
		// thumbed: the thumbnails are in the bucket before the photos are
		// sent, so the worker finds them and makes none. A diagnostic:
		// the server without the thumbnailing.
		thumbed bool
	}{{"one-PATCH", 0, false}, {"chunks-1MiB", benchChunk, false}, {"one-PATCH-thumbnail-present", 0, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(benchSize(testenv.FreshPhotos(bases)))
			var last time.Duration // time in the photos' last PATCH
			var lag time.Duration  // from the last upload to the last thumbnail, per iteration
			cpu := benchCPUStart(s3)
			srv.blobs.reset()
			for b.Loop() {
				photos := benchFreshUntimed(b, bases)
				if c.thumbed {
					b.StopTimer()
					srv.putThumbnails(b, photos)
					b.StartTimer()
				}
				for i, p := range photos {
					d, err := srv.upload(p, benchSlots[i%len(benchSlots)], c.chunk)
					if err != nil {
						b.Fatal(err)
					}
					last += d
				}
				uploaded := time.Now()
				b.StopTimer()
				lag += srv.waitThumbnails(b).Sub(uploaded)
				srv.check(b, photos)
				b.StartTimer()
			}
			n := b.N * len(bases)
			b.ReportMetric(float64(last.Milliseconds())/float64(n), "last-PATCH-ms/photo")
			b.ReportMetric(float64(lag.Microseconds())/1e3/float64(b.N), "thumbs-lag-ms")
			srv.blobs.report(b, n)
			cpu.report(b, n)
			if reference > 0 {
				mbps := benchMBps(b, bases)
				b.ReportMetric(100*mbps/reference, "%-of-PutObject")
				b.Logf("%s: %.1f MB/s, %.0f%% of PutObject's %.1f MB/s on the same MinIO", c.name, mbps, 100*mbps/reference, reference)
			}
		})
	}
}

// benchMBps is the throughput of the sub-benchmark that just ran, as
// go test computes it from SetBytes (MB = 10^6 bytes).
func benchMBps(b *testing.B, bases [][]byte) float64 {
	return float64(benchSize(testenv.FreshPhotos(bases))) * float64(b.N) / 1e6 / b.Elapsed().Seconds()
}

// benchUploadServer is the server a technician uploads to.
type benchUploadServer struct {
	*httptest.Server
	s3     *benchS3
	blobs  *benchTimedBlobs
	store  *benchThumbStore
	tech   string // the technician's access token
	report string // a report of the technician's, synced
}

// benchThumbStore is the service's store; it records when the worker last
// recorded a thumbnail.
type benchThumbStore struct {
	*bolt.DB
	lastMade atomic.Int64 // unix ns
}

func (s *benchThumbStore) SetThumbnail(ctx context.Context, sha string, made bool) error {
	err := s.DB.SetThumbnail(ctx, sha, made)
	if err == nil && made {
		s.lastMade.Store(time.Now().UnixNano())
	}
	return err
}

// waitThumbnails waits until the worker has tried every queued photo and
// returns when it recorded the last thumbnail.
func (s *benchUploadServer) waitThumbnails(b *testing.B) time.Time {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		queued, err := s.store.PendingThumbnails(b.Context(), 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(queued) == 0 {
			return time.Unix(0, s.store.lastMade.Load())
		}
		if time.Now().After(deadline) {
			b.Fatalf("thumbnails still queued after 5 minutes, e.g. %s", queued[0].SHA256)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newBenchUploadServer(b *testing.B, s3 *benchS3) *benchUploadServer {
	b.Helper()
	ctx := b.Context()
	store, err := bolt.Open(filepath.Join(b.TempDir(), "fieldsync.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.PublishTemplates(ctx, templates.All()); err != nil {
		b.Fatal(err)
	}
	k, err := auth.NewKey(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := auth.NewKeySet(k)
	issuer := auth.NewIssuer(keys)
	svc := auth.NewService(store, issuer, nil)
	ids := map[string]string{}
	for login, role := range map[string]fieldsync.Role{"disp": fieldsync.RoleDispatcher, "tech": fieldsync.RoleTechnician} {
		u, err := svc.CreateUser(ctx, login, login, login+"-password", role)
		if err != nil {
			b.Fatal(err)
		}
		ids[login] = u.ID
	}
	blobs, err := s3store.New(ctx, s3.cfg)
	if err != nil {
		b.Fatal(err)
	}
	// As `fieldsync serve` configures it: defaults but the spool directory,
	// and its thumbnail worker.
	s := &benchUploadServer{s3: s3, blobs: &benchTimedBlobs{BlobStore: blobs, spent: map[string]time.Duration{}}, store: &benchThumbStore{DB: store}}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	photos := media.New(media.Config{Blobs: s.blobs, Store: s.store, SpoolDir: b.TempDir(), Logger: log})
	ts := httptest.NewServer(New(Deps{
		Store: store, Auth: svc, Issuer: issuer, Media: photos, Version: "bench", Logger: log,
	}))
	b.Cleanup(ts.Close)
	s.Server = ts
	workerCtx, stopWorker := context.WithCancel(context.Background())
	var worker sync.WaitGroup
	worker.Go(func() { photos.RunThumbnails(workerCtx, time.Minute) })
	b.Cleanup(func() { stopWorker(); worker.Wait() })

	var install string // the technician's
	login := func(login, device string) string {
		var sess authproto.Tokens
		s.call(b, "", "POST", "/v1/auth/login", map[string]string{"login": login, "password": login + "-password", "device_id": device}, 200, &sess)
		install = sess.InstallID
		return sess.AccessToken
	}
	disp := login("disp", "bench-disp")
	s.tech = login("tech", "bench-tab")
	var c, site, asset, ticket, visit struct{ ID string }
	s.call(b, disp, "POST", "/v1/customers", map[string]string{"name": "刘女士", "phone": "138 0013 8000"}, 201, &c)
	s.call(b, disp, "POST", "/v1/sites", map[string]string{"customer_id": c.ID, "address": "上海市浦东新区世纪大道100号", "zone": string(fieldsync.ZoneCity)}, 201, &site)
	s.call(b, disp, "POST", "/v1/assets", map[string]string{"customer_id": c.ID, "category": "tv", "model": "65E7K", "serial": "SN1", "invoice_date": "2026-01-15"}, 201, &asset)
	s.call(b, disp, "POST", "/v1/tickets", map[string]string{"customer_id": c.ID, "site_id": site.ID, "asset_id": asset.ID, "channel": "hotline", "kind": "repair", "description": "屏幕有竖线"}, 201, &ticket)
	start := time.Now().Add(2 * time.Hour)
	s.call(b, disp, "POST", "/v1/visits", map[string]any{"ticket_id": ticket.ID, "technician_id": ids["tech"], "window_start": start, "window_end": start.Add(2 * time.Hour)}, 201, &visit)

	s.report = uuid.Must(uuid.NewV7()).String()
	fields := map[string]json.RawMessage{"visit_id": json.RawMessage(strconv.Quote(visit.ID)), "template_id": json.RawMessage(`"tv-v1"`)}
	m := syncproto.Mutation{Seq: 1, Entity: "report", ID: s.report, Op: "upsert", HLC: syncproto.NewClock("bench-tab", time.Now).Now().String(), Fields: fields}
	var pushed syncproto.PushResponse
	s.call(b, s.tech, "POST", "/v1/sync/push", syncproto.PushRequest{DeviceID: "bench-tab", InstallID: install, Mutations: []syncproto.Mutation{m}}, 200, &pushed)
	if len(pushed.Results) != 1 || pushed.Results[0].Status != syncproto.Applied {
		b.Fatalf("the report was not created: %+v", pushed.Results)
	}
	return s
}

// call sends a JSON request and decodes the answer; any status but want
// ends the benchmark.
func (s *benchUploadServer) call(b *testing.B, token, method, path string, in any, want int, out any) {
	b.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		b.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			b.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// upload sends one photo by tus: a POST, then PATCHes of at most chunk
// bytes (0: one PATCH). It returns how long the last PATCH took.
// benchSlots are photo slots of the TV template, which the bench report has.
var benchSlots = []string{"serial_plate", "fault", "packaging", "invoice", "accessories", "installation"}

func (s *benchUploadServer) upload(p testenv.Photo, slot string, chunk int) (time.Duration, error) {
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	res, err := s.tus("POST", uploadsPath, nil, map[string]string{
		"Upload-Length":   strconv.Itoa(len(p.Data)),
		"Upload-Metadata": "sha256 " + b64(p.SHA256) + ",report_id " + b64(s.report) + ",slot " + b64(slot) + ",filename " + b64(slot+".jpg"),
	})
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST: %d", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	if chunk <= 0 {
		chunk = len(p.Data)
	}
	var last time.Duration
	for off := 0; off < len(p.Data); off += chunk {
		end := min(off+chunk, len(p.Data))
		began := time.Now()
		res, err := s.tus("PATCH", loc, p.Data[off:end], map[string]string{"Content-Type": tus.ContentType, "Upload-Offset": strconv.Itoa(off)})
		last = time.Since(began)
		if err != nil {
			return 0, err
		}
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Upload-Offset") != strconv.Itoa(end) {
			return 0, fmt.Errorf("PATCH at %d: %d, offset %q", off, res.StatusCode, res.Header.Get("Upload-Offset"))
		}
		if end == len(p.Data) && res.Header.Get("Fieldsync-Photo") != "/v1/media/"+p.SHA256 {
			return 0, fmt.Errorf("the last PATCH did not publish the photo: %v", res.Header)
		}
	}
	return last, nil
}

func (s *benchUploadServer) tus(method, path string, body []byte, headers map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+s.tech)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return nil, err
	}
	return res, nil
}

// putThumbnails stores a small JPEG as each photo's thumbnail.
func (s *benchUploadServer) putThumbnails(b *testing.B, photos []testenv.Photo) {
	b.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 320, 240)), nil); err != nil {
		b.Fatal(err)
	}
	for _, p := range photos {
		_, err := s.s3.client.PutObject(b.Context(), benchBucket, media.ThumbKey(p.SHA256), bytes.NewReader(buf.Bytes()), int64(buf.Len()),
			minio.PutObjectOptions{ContentType: "image/jpeg"})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// check makes sure the server did the work: every photo is stored whole
// under its hash and has a thumbnail, recorded and in the bucket (the
// worker gives up on a photo it cannot decode without an error), and no
// upload is left behind.
func (s *benchUploadServer) check(b *testing.B, photos []testenv.Photo) {
	b.Helper()
	for _, p := range photos {
		info, err := s.s3.client.StatObject(b.Context(), benchBucket, media.EvidenceKey(p.SHA256), minio.StatObjectOptions{})
		if err != nil || info.Size != int64(len(p.Data)) {
			b.Fatalf("evidence %s: %v, %d bytes of %d", p.SHA256, err, info.Size, len(p.Data))
		}
		if rec, err := s.store.Photo(b.Context(), p.SHA256); err != nil || !rec.Thumbnail {
			b.Fatalf("photo %s has no thumbnail recorded: %+v, %v", p.SHA256, rec, err)
		}
		if _, err := s.s3.client.StatObject(b.Context(), benchBucket, media.ThumbKey(p.SHA256), minio.StatObjectOptions{}); err != nil {
			b.Fatalf("thumbnail of %s: %v", p.SHA256, err)
		}
	}
	for o := range s.s3.client.ListObjects(b.Context(), benchBucket, minio.ListObjectsOptions{Prefix: "uploads/", Recursive: true}) {
		b.Fatalf("left behind: %s %v", o.Key, o.Err)
	}
}

// benchTimedBlobs times the server's calls to its blob store, by what
// they are for: begin (POST), append (every PATCH), finish (the last
// PATCH: S3 completion, copy to photos/<sha256>, clean-up) and thumb (the
// thumbnail's Stat, Open and Put; the reading of the photo is in the
// decoding, and not in this figure).
type benchTimedBlobs struct {
	media.BlobStore
	mu    sync.Mutex
	spent map[string]time.Duration
}

func (t *benchTimedBlobs) add(what string, began time.Time) {
	d := time.Since(began)
	t.mu.Lock()
	t.spent[what] += d
	t.mu.Unlock()
}

func (t *benchTimedBlobs) reset() {
	t.mu.Lock()
	clear(t.spent)
	t.mu.Unlock()
}

func (t *benchTimedBlobs) report(b *testing.B, photos int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, what := range []string{"begin", "append", "finish", "thumb"} {
		b.ReportMetric(float64(t.spent[what].Microseconds())/1e3/float64(photos), "s3-"+what+"-ms/photo")
	}
}

func (t *benchTimedBlobs) Begin(ctx context.Context, id string, size int64) (tus.State, error) {
	defer t.add("begin", time.Now())
	return t.BlobStore.Begin(ctx, id, size)
}

func (t *benchTimedBlobs) Append(ctx context.Context, id string, st tus.State, r io.Reader) (tus.State, error) {
	defer t.add("append", time.Now())
	return t.BlobStore.Append(ctx, id, st, r)
}

func (t *benchTimedBlobs) Finish(ctx context.Context, id string, st tus.State, last io.Reader, sha string) error {
	defer t.add("finish", time.Now())
	return t.BlobStore.Finish(ctx, id, st, last, sha)
}

func (t *benchTimedBlobs) Stat(ctx context.Context, key string) (int64, error) {
	defer t.add("thumb", time.Now())
	return t.BlobStore.Stat(ctx, key)
}

func (t *benchTimedBlobs) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	defer t.add("thumb", time.Now())
	return t.BlobStore.Open(ctx, key, offset, length)
}

func (t *benchTimedBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	defer t.add("thumb", time.Now())
	return t.BlobStore.Put(ctx, key, r, size)
}

// benchCPU measures the CPU time of this process (the server, the client
// and minio-go) and of the MinIO server during a sub-benchmark. It reads
// /proc; elsewhere it reports nothing.
type benchCPU struct {
	minioPID     int
	self, minio0 time.Duration
	ok           bool
}

func benchCPUStart(s *benchS3) *benchCPU {
	c := &benchCPU{minioPID: benchMinIOPID(s.minio.Endpoint)}
	self, ok1 := benchProcCPU(os.Getpid())
	mc, ok2 := benchProcCPU(c.minioPID)
	c.self, c.minio0, c.ok = self, mc, ok1 && ok2
	return c
}

// report adds CPU milliseconds per photo. Setup outside the timer (making
// fresh copies, the checks) is a few percent of this process's figure.
func (c *benchCPU) report(b *testing.B, photos int) {
	self, ok1 := benchProcCPU(os.Getpid())
	mc, ok2 := benchProcCPU(c.minioPID)
	if !c.ok || !ok1 || !ok2 || photos == 0 {
		return
	}
	b.ReportMetric(float64((self-c.self).Milliseconds())/float64(photos), "go-cpu-ms/photo")
	b.ReportMetric(float64((mc-c.minio0).Milliseconds())/float64(photos), "minio-cpu-ms/photo")
}

// benchProcCPU reads a process's user and system time from
// /proc/<pid>/stat (clock ticks of 10 ms on Linux).
func benchProcCPU(pid int) (time.Duration, bool) {
	if pid <= 0 {
		return 0, false
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces; the fields after it are plain.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// benchMinIOPID finds the child minio process serving endpoint, by its
// command line.
func benchMinIOPID(endpoint string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte("\x00--address\x00"+endpoint+"\x00")) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		if stat, _ := os.ReadFile(filepath.Join(d, "stat")); len(stat) > 0 {
			f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
				return pid
			}
		}
	}
	return 0
}
