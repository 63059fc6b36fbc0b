package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/fieldsync/fieldsync/internal/testenv"
)

// TestTechnicianPhotosReachMinIO is the photo flow as a script: photos
// attached with the server down are uploaded by the next sync with a
// progress bar; the dispatcher sees them with EXIF capture time, and with
// thumbnails once the server's worker has made them; and the objects in
// MinIO, read with minio-go, hash to their names.
func TestTechnicianPhotosReachMinIO(t *testing.T) {
	m := testenv.MinIO(t)
	s3 := []string{"FIELDSYNC_S3_ENDPOINT=" + m.Endpoint, "FIELDSYNC_S3_BUCKET=evidence", "FIELDSYNC_S3_ACCESS_KEY=" + m.AccessKey,
		"FIELDSYNC_S3_SECRET_KEY=" + m.SecretKey, "FIELDSYNC_S3_INSECURE=true"}
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr, s3...)
	if strings.Contains(p.logs(), m.SecretKey) {
		t.Fatal("the S3 secret reached the log")
	}
	db, visit := techOnScheduledVisit(t, addr, pw["tech.li"])

	// Two photos: one with EXIF from a real encoder, one a large frame.
	plate, err := os.ReadFile(filepath.Join("..", "..", "media", "photo", "testdata", "exif.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	big := testenv.NoiseJPEG(1800, 1200, 9)
	files := map[string][]byte{"serial_plate": plate, "fault": big}
	photoDir := t.TempDir()

	stop(t, p) // offline
	for slot, data := range files {
		path := filepath.Join(photoDir, slot+".jpg")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if out := mustTech(t, db, "attach", visit, slot, path); !strings.Contains(out, "attached to slot "+slot) {
			t.Fatalf("attach: %s", out)
		}
	}
	if out := mustTech(t, db, "photos"); strings.Count(out, "queued") != 2 {
		t.Fatalf("photos offline:\n%s", out)
	}

	p = serveProcessAt(t, dir, addr, s3...)
	out := mustTech(t, db, "sync")
	if !strings.Contains(out, "[####################] 100%") || strings.Count(out, "verified") != 2 {
		t.Fatalf("sync shows no finished progress bars:\n%s", out)
	}

	type visitPhotos struct {
		Reports []struct {
			Photos []struct {
				SHA256, Slot string
				ThumbURL     string     `json:"thumb_url"`
				CapturedAt   *time.Time `json:"captured_at"`
			}
		}
	}
	var detail visitPhotos
	disp := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	// The server makes the thumbnails in the background, shortly after.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		detail = visitPhotos{}
		getJSON(t, p, disp, "/v1/visits/"+visit, &detail)
		if len(detail.Reports) != 1 || len(detail.Reports[0].Photos) != 2 {
			t.Fatalf("the dispatcher sees %+v", detail)
		}
		if detail.Reports[0].Photos[0].ThumbURL != "" && detail.Reports[0].Photos[1].ThumbURL != "" || time.Now().After(deadline) {
			break
		}
	}
	for _, ph := range detail.Reports[0].Photos {
		if ph.ThumbURL == "" || ph.CapturedAt == nil {
			t.Errorf("photo %s: no thumbnail (after 30 s) or capture time: %+v", ph.Slot, ph)
		}
		if ph.Slot == "serial_plate" && !ph.CapturedAt.Equal(time.Date(2026, 3, 14, 1, 26, 53, 0, time.UTC)) {
			t.Errorf("the plate's capture time %v is not its EXIF 2026-03-14 09:26:53 +08:00", ph.CapturedAt)
		}
	}

	// The bucket, read with minio-go and not with Fieldsync.
	client := m.Client(t)
	seen := 0
	for obj := range client.ListObjects(context.Background(), "evidence", minio.ListObjectsOptions{Prefix: "photos/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		r, err := client.GetObject(context.Background(), "evidence", obj.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if got := hex.EncodeToString(h.Sum(nil)); "photos/"+got != obj.Key {
			t.Errorf("object %s hashes to %s", obj.Key, got)
		}
		seen++
	}
	if seen != 2 {
		t.Fatalf("%d evidence objects in MinIO, want 2", seen)
	}
}
