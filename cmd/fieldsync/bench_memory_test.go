package main

// Peak memory of the real server during photo uploads (BENCHMARKS.md,
// "Photo uploads"). It runs only with -bench:
//
//	go test -run XXX -bench ServePeakMemory -benchtime 1x ./cmd/fieldsync/

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
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
	m := testenv.MinIO(b)
	// 6.3, 7.2 and 7.9 MB of noise at JPEG quality 90; made once, untimed.
	sizes := [][2]int{{3072, 2304}, {3264, 2448}, {3400, 2550}}
	bases := testenv.NoiseJPEGs(benchUploads, 2000, func(i int) (int, int) {
		d := sizes[i%len(sizes)]
		return d[0], d[1]
	})
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
			pw := demoLogins(b, dir)
			// Unchecked: the checking proxy would hold every photo in
			// memory and in the timing.
			p := startServe(b, dir, "127.0.0.1:0",
				"FIELDSYNC_S3_ENDPOINT="+m.Endpoint, "FIELDSYNC_S3_BUCKET="+benchS3Bucket,
				"FIELDSYNC_S3_ACCESS_KEY="+m.AccessKey, "FIELDSYNC_S3_SECRET_KEY="+m.SecretKey, "FIELDSYNC_S3_INSECURE=true",
			)
			time.Sleep(time.Second) // let start-up work settle
			idle, _ := benchProcStatus(b, p.cmd.Process.Pid)

			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchUploads}}
			s := loginSession(b, p, "tech.li", pw["tech.li"], "tab-li", "")
			tok := s.AccessToken
			report, visit := benchReport(b, client, p, tok, s.InstallID)

			b.SetBytes(total)
			var lag time.Duration
			for b.Loop() {
				b.StopTimer()
				photos := testenv.FreshPhotos(bases)
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
			peak, rss := benchProcStatus(b, p.cmd.Process.Pid)
			b.ReportMetric(benchMB(peak), "peak-rss-MB")
			b.ReportMetric(benchMB(idle), "idle-rss-MB")
			b.ReportMetric(benchMB(rss), "end-rss-MB")
		})
	}
}

func benchMB(n int64) float64 { return float64(n) / 1e6 }

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

// benchReport creates a report on one of the technician's scheduled
// visits, as the tablet's sync push does, and returns its id and the
// visit's.
func benchReport(b *testing.B, client *http.Client, p *process, token, install string) (report, visit string) {
	b.Helper()
	var visits struct{ Items []struct{ ID string } }
	benchJSON(b, client, "GET", p.url("/v1/visits?status=scheduled"), token, nil, &visits)
	if len(visits.Items) == 0 {
		b.Fatal("tech.li has no scheduled visit")
	}
	report, visit = "0190f000-0000-7000-8000-00000000be9c", visits.Items[0].ID
	push := map[string]any{"device_id": "tab-li", "install_id": install, "mutations": []map[string]any{{
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
func benchWaitThumbnails(b *testing.B, client *http.Client, p *process, token, visit string, photos []testenv.Photo) time.Time {
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
			if !thumbed[ph.SHA256] {
				missing = append(missing, ph.SHA256)
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

// benchPutThumbnails stores a small JPEG as each photo's thumbnail.
func benchPutThumbnails(b *testing.B, m *testenv.MinIOServer, photos []testenv.Photo) {
	b.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 320, 240)), nil); err != nil {
		b.Fatal(err)
	}
	client := m.Client(b)
	for _, p := range photos {
		_, err := client.PutObject(b.Context(), benchS3Bucket, media.ThumbKey(p.SHA256), bytes.NewReader(buf.Bytes()), int64(buf.Len()),
			minio.PutObjectOptions{ContentType: "image/jpeg"})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchUploadAll creates one tus upload per photo, then sends all of them
// at once, each in PATCHes of chunk bytes (0: one PATCH), and checks that
// every one was published.
func benchUploadAll(b *testing.B, client *http.Client, p *process, token, report string, photos []testenv.Photo, chunk int) {
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
		slot, name := "fault", fmt.Sprintf("photo-%02d.jpg", i) // a slot of the TV template takes many photos
		res, err := tus("POST", p.url("/v1/media/uploads"), nil, map[string]string{
			"Upload-Length":   strconv.Itoa(len(ph.Data)),
			"Upload-Metadata": "sha256 " + b64(ph.SHA256) + ",report_id " + b64(report) + ",slot " + b64(slot) + ",filename " + b64(name),
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
				step = len(ph.Data)
			}
			for off := 0; off < len(ph.Data); off += step {
				end := min(off+step, len(ph.Data))
				res, err := tus("PATCH", locs[i], ph.Data[off:end], map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(off)})
				switch {
				case err != nil:
					errs[i] = err
				case res.StatusCode != http.StatusNoContent:
					errs[i] = fmt.Errorf("PATCH at %d: %d", off, res.StatusCode)
				case end == len(ph.Data) && res.Header.Get("Fieldsync-Photo") != "/v1/media/"+ph.SHA256:
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
