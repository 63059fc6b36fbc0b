package main

// Peak memory of the real server during photo uploads (BENCHMARKS.md,
// "Photo uploads"). It runs only with -bench:
//
//	go test -run XXX -bench ServePeakMemory -benchtime 1x ./cmd/fieldsync/

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/media"
)

const (
	benchUploads  = 20
	benchS3Bucket = "fieldsync-bench"
)

// BenchmarkServePeakMemory20Uploads builds `fieldsync serve`, runs it over
// a `fieldsync demo` data directory with its photos in a MinIO bucket, and
// sends 20 distinct photos of 6–8 MB by tus at once as tech.li (all 20
// POSTs first, then all 20 PATCH streams together). It reports the
// server's peak resident memory (VmHWM of /proc/<pid>/status, in 10^6
// bytes) after the uploads, and as the reference the same figure of the
// same process idle, read once it listens and before anyone logs in.
// Each sub-benchmark starts a server of its own, so its peak is its own.
// The server makes thumbnails in the background, one at a time: after the
// uploads of an iteration, with the timer stopped, the benchmark waits
// until every photo has one (the peak includes them) and reports
// thumbs-lag-ms, how long after the last upload completed the last
// thumbnail showed on the visit, polled every 10 ms.
//
//	one-PATCH    each photo in one PATCH (tus-js-client's default)
//	chunks-1MiB  each photo in PATCHes of 1 MiB
//	one-PATCH-thumbnail-present
//	             a diagnostic: one-PATCH with every thumbnail already in
//	             the bucket, so the server decodes no photo and only
//	             records the thumbnails
func BenchmarkServePeakMemory20Uploads(b *testing.B) {
	bin := benchBuild(b)
	m := testenv.MinIO(b)
	// 6.3, 7.2 and 7.9 MB of noise at JPEG quality 90; made once, untimed.
	sizes := [][2]int{{3072, 2304}, {3264, 2448}, {3400, 2550}}
	bases := make([][]byte, benchUploads)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < benchUploads; i = int(next.Add(1) - 1) {
				d := sizes[i%len(sizes)]
				img := image.NewRGBA(image.Rect(0, 0, d[0], d[1]))
				rand.New(rand.NewSource(int64(2000 + i))).Read(img.Pix)
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
					panic(err)
				}
				bases[i] = buf.Bytes()
			}
		})
	}
	wg.Wait()
	var total int64
	for _, p := range bases {
		total += int64(len(p))
	}
	b.Logf("%d photos, %.1f MB in all, %.2f–%.2f MB each", len(bases), float64(total)/1e6, benchMB(int64(len(bases[0]))), benchMB(int64(len(bases[2]))))

	for _, c := range []struct {
		name  string
		chunk int
		// thumbed: the thumbnails are in the bucket before the photos are
		// sent, so the server decodes none. A diagnostic: the upload path
		// without the thumbnailing.
		thumbed bool
	}{{"one-PATCH", 0, false}, {"chunks-1MiB", 1 << 20, false}, {"one-PATCH-thumbnail-present", 0, true}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			pw := benchDemo(b, dir)
			p := benchServe(b, bin, dir, []string{
				"FIELDSYNC_S3_ENDPOINT=" + m.Endpoint, "FIELDSYNC_S3_BUCKET=" + benchS3Bucket,
				"FIELDSYNC_S3_ACCESS_KEY=" + m.AccessKey, "FIELDSYNC_S3_SECRET_KEY=" + m.SecretKey, "FIELDSYNC_S3_INSECURE=true",
			})
			time.Sleep(time.Second) // let start-up work settle
			idle, _ := benchProcStatus(b, p.pid)

			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchUploads}}
			tok := benchLogin(b, client, p, "tech.li", pw["tech.li"], "tab-li")
			report, visit := benchReport(b, client, p, tok)

			b.SetBytes(total)
			var lag time.Duration
			for b.Loop() {
				b.StopTimer()
				photos := benchFreshPhotos(bases)
				if c.thumbed {
					benchPutThumbnails(b, m, photos)
				}
				b.StartTimer()
				benchUploadAll(b, client, p, tok, report, photos, c.chunk)
				uploaded := time.Now()
				b.StopTimer()
				lag += benchWaitThumbnails(b, client, p, tok, visit, photos).Sub(uploaded)
				b.StartTimer()
			}
			b.ReportMetric(float64(lag.Microseconds())/1e3/float64(b.N), "thumbs-lag-ms")
			peak, rss := benchProcStatus(b, p.pid)
			b.ReportMetric(benchMB(peak), "peak-rss-MB")
			b.ReportMetric(benchMB(idle), "idle-rss-MB")
			b.ReportMetric(benchMB(rss), "end-rss-MB")
		})
	}
}

func benchMB(n int64) float64 { return float64(n) / 1e6 }

// benchBuild builds the fieldsync command as a user would.
func benchBuild(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "fieldsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// benchDemo runs `fieldsync demo` into dir and returns login -> password.
func benchDemo(b *testing.B, dir string) map[string]string {
	b.Helper()
	var out, errb bytes.Buffer
	if err := run(b.Context(), []string{"demo", "--data", dir}, func(string) string { return "" }, nil, &out, &errb); err != nil {
		b.Fatalf("demo: %v %s", err, errb.String())
	}
	pw := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && strings.Count(f[2], "-") == 2 {
			pw[f[1]] = f[2]
		}
	}
	if pw["tech.li"] == "" {
		b.Fatalf("demo printed no password for tech.li:\n%s", out.String())
	}
	return pw
}

type benchProcess struct {
	pid  int
	addr string
}

func (p *benchProcess) url(path string) string { return "http://" + p.addr + path }

// benchServe starts `fieldsync serve` with env added to this process's
// environment, waits until it listens, and stops it with SIGTERM when the
// benchmark ends.
func benchServe(b *testing.B, bin, dir string, env []string) *benchProcess {
	b.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	addrc, done := make(chan string, 1), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.Write(sc.Bytes())
			logs.WriteByte('\n')
			mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addrc <- rec.Addr
			}
		}
		done <- cmd.Wait()
	}()
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if b.Failed() {
			mu.Lock()
			b.Logf("server log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	p := &benchProcess{pid: cmd.Process.Pid}
	select {
	case p.addr = <-addrc:
	case err := <-done:
		mu.Lock()
		defer mu.Unlock()
		b.Fatalf("serve exited: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		b.Fatal("serve did not start")
	}
	return p
}

// benchProcStatus reads a process's peak (VmHWM) and current (VmRSS)
// resident memory, in bytes.
func benchProcStatus(b *testing.B, pid int) (hwm, rss int64) {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmHWM":
			hwm = n << 10
		case "VmRSS":
			rss = n << 10
		}
	}
	if hwm == 0 || rss == 0 {
		b.Fatalf("/proc/%d/status has no VmHWM or VmRSS", pid)
	}
	return hwm, rss
}

func benchJSON(b *testing.B, client *http.Client, method, url, token string, in, out any) {
	b.Helper()
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		b.Fatalf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.Fatalf("%s %s: %v", method, url, err)
	}
}

func benchLogin(b *testing.B, client *http.Client, p *benchProcess, login, password, device string) string {
	b.Helper()
	var s struct {
		AccessToken string `json:"access_token"`
	}
	benchJSON(b, client, "POST", p.url("/v1/auth/login"), "", map[string]string{"login": login, "password": password, "device_id": device}, &s)
	return s.AccessToken
}

// benchReport creates a report on one of the technician's scheduled
// visits, as the tablet's sync push does, and returns its id and the
// visit's.
func benchReport(b *testing.B, client *http.Client, p *benchProcess, token string) (report, visit string) {
	b.Helper()
	var visits struct{ Items []struct{ ID string } }
	benchJSON(b, client, "GET", p.url("/v1/visits?status=scheduled"), token, nil, &visits)
	if len(visits.Items) == 0 {
		b.Fatal("tech.li has no scheduled visit")
	}
	report, visit = "0190f000-0000-7000-8000-00000000be9c", visits.Items[0].ID
	push := map[string]any{"device_id": "tab-li", "mutations": []map[string]any{{
		"seq": 1, "entity": "report", "id": report, "op": "upsert", "hlc": fmt.Sprintf("%d:0:tab-li", time.Now().UnixMilli()),
		"fields": map[string]string{"visit_id": visit, "template_id": "tv-v1"},
	}}}
	var resp struct {
		Results []struct{ Status, Code string }
	}
	benchJSON(b, client, "POST", p.url("/v1/sync/push"), token, push, &resp)
	if len(resp.Results) != 1 || resp.Results[0].Status != "applied" {
		b.Fatalf("report push: %+v", resp.Results)
	}
	return report, visit
}

// benchWaitThumbnails polls the visit, as the technician, until each of
// the photos has a thumb_url, and returns when it saw the last one.
func benchWaitThumbnails(b *testing.B, client *http.Client, p *benchProcess, token, visit string, photos []benchPhoto) time.Time {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var detail struct {
			Reports []struct {
				Photos []struct {
					SHA256   string `json:"sha256"`
					ThumbURL string `json:"thumb_url"`
				} `json:"photos"`
			} `json:"reports"`
		}
		benchJSON(b, client, "GET", p.url("/v1/visits/"+visit), token, nil, &detail)
		seen := time.Now()
		thumbed := map[string]bool{}
		for _, r := range detail.Reports {
			for _, ph := range r.Photos {
				thumbed[ph.SHA256] = ph.ThumbURL != ""
			}
		}
		var missing []string
		for _, ph := range photos {
			if !thumbed[ph.sha] {
				missing = append(missing, ph.sha)
			}
		}
		if len(missing) == 0 {
			return seen
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d photos have no thumbnail after 5 minutes, e.g. %s", len(missing), missing[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type benchPhoto struct {
	data []byte
	sha  string
}

var benchPhotoSeq atomic.Int64

// benchFreshPhotos copies the photos with a JPEG comment after SOI that no
// copy had before: new bytes, so a new SHA-256 and nothing deduplicated.
func benchFreshPhotos(bases [][]byte) []benchPhoto {
	out := make([]benchPhoto, len(bases))
	for i, base := range bases {
		com := fmt.Appendf(nil, "fieldsync benchmark copy %d", benchPhotoSeq.Add(1))
		data := make([]byte, 0, len(base)+4+len(com))
		data = append(data, base[:2]...)
		data = append(data, 0xFF, 0xFE, byte((len(com)+2)>>8), byte(len(com)+2))
		data = append(data, com...)
		data = append(data, base[2:]...)
		sum := sha256.Sum256(data)
		out[i] = benchPhoto{data: data, sha: hex.EncodeToString(sum[:])}
	}
	return out
}

// benchPutThumbnails stores a small JPEG as each photo's thumbnail.
func benchPutThumbnails(b *testing.B, m *testenv.MinIOServer, photos []benchPhoto) {
	b.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 320, 240)), nil); err != nil {
		b.Fatal(err)
	}
	client := m.Client(b)
	for _, p := range photos {
		_, err := client.PutObject(b.Context(), benchS3Bucket, media.ThumbKey(p.sha), bytes.NewReader(buf.Bytes()), int64(buf.Len()),
			minio.PutObjectOptions{ContentType: "image/jpeg"})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchUploadAll creates one tus upload per photo, then sends all of them
// at once, each in PATCHes of chunk bytes (0: one PATCH), and checks that
// every one was published.
func benchUploadAll(b *testing.B, client *http.Client, p *benchProcess, token, report string, photos []benchPhoto, chunk int) {
	b.Helper()
	tus := func(method, url string, body []byte, headers map[string]string) (*http.Response, error) {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return res, err
	}
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	locs := make([]string, len(photos))
	for i, ph := range photos {
		slot := fmt.Sprintf("photo-%02d", i)
		res, err := tus("POST", p.url("/v1/media/uploads"), nil, map[string]string{
			"Upload-Length":   strconv.Itoa(len(ph.data)),
			"Upload-Metadata": "sha256 " + b64(ph.sha) + ",report_id " + b64(report) + ",slot " + b64(slot) + ",filename " + b64(slot+".jpg"),
		})
		if err != nil || res.StatusCode != http.StatusCreated {
			b.Fatalf("POST: %v %v", err, res)
		}
		locs[i] = p.url(res.Header.Get("Location"))
	}
	errs := make([]error, len(photos))
	var wg sync.WaitGroup
	for i, ph := range photos {
		wg.Go(func() {
			step := chunk
			if step <= 0 {
				step = len(ph.data)
			}
			for off := 0; off < len(ph.data); off += step {
				end := min(off+step, len(ph.data))
				res, err := tus("PATCH", locs[i], ph.data[off:end], map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(off)})
				switch {
				case err != nil:
					errs[i] = err
				case res.StatusCode != http.StatusNoContent:
					errs[i] = fmt.Errorf("PATCH at %d: %d", off, res.StatusCode)
				case end == len(ph.data) && res.Header.Get("Fieldsync-Photo") != "/v1/media/"+ph.sha:
					errs[i] = fmt.Errorf("the last PATCH did not publish the photo: %v", res.Header)
				}
				if errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("photo %d: %v", i, err)
		}
	}
}
