package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
)

// TestTechRefusedPhoto is a photo the server refuses, from the command
// line: a file that is plainly no photo, or a slot the template lacks, is
// refused by attach before anything is queued; a file that passes the
// device's checks but not the server's makes sync exit with its own code,
// and is counted by status and listed by conflicts until it is retried
// (refused again) or removed. The dispatcher sees it on the report.
func TestTechRefusedPhoto(t *testing.T) {
	m := testenv.MinIO(t)
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr, "FIELDSYNC_S3_ENDPOINT="+m.Endpoint, "FIELDSYNC_S3_BUCKET=evidence",
		"FIELDSYNC_S3_ACCESS_KEY="+m.AccessKey, "FIELDSYNC_S3_SECRET_KEY="+m.SecretKey, "FIELDSYNC_S3_INSECURE=true")
	db, visit := techOnScheduledVisit(t, addr, pw["tech.li"])
	files := t.TempDir()

	passwd := writeFile(t, filepath.Join(files, "passwd"), "root:x:0:0:root:/root:/bin/bash\n")
	out, err := techCLI(t, db, "", "attach", visit, "invoice", passwd)
	if fieldsync.ErrorCode(err) != fieldsync.ENotAnImage || exitCode(err) != 1 {
		t.Fatalf("attach of a text file: %v\n%s", err, out)
	}
	photo := filepath.Join("..", "..", "media", "photo", "testdata", "exif.jpg")
	if _, err := os.Stat(photo); err != nil {
		t.Fatal(err)
	}
	out, err = techCLI(t, db, "", "attach", visit, "selfie", photo)
	if err == nil || !strings.Contains(err.Error(), "serial_plate") {
		t.Fatalf("attach to a slot the template lacks: %v\n%s", err, out)
	}
	if out := mustTech(t, db, "photos"); !strings.Contains(out, "no photos") {
		t.Fatalf("refused attachments were queued:\n%s", out)
	}

	// A JPEG's first bytes, then text: the device cannot tell, the server
	// can.
	fake := writeFile(t, filepath.Join(files, "invoice.jpg"), "\xff\xd8\xff"+strings.Repeat("an invoice as text\n", 200))
	mustTech(t, db, "attach", visit, "invoice", fake)
	out, err = techCLI(t, db, "", "sync")
	if !errors.Is(err, errSyncRefused) || exitCode(err) != exitSyncRefused || !strings.Contains(out, "photos refused 1") {
		t.Fatalf("sync with a refused photo: %v (exit %d)\n%s", err, exitCode(err), out)
	}
	if out := mustTech(t, db, "status"); !strings.Contains(out, "refused: 1 (photos 1)") {
		t.Fatalf("status:\n%s", out)
	}
	out = mustTech(t, db, "conflicts")
	line := grepLine(out, "photo 1 ")
	if !strings.Contains(line, "slot invoice (invoice.jpg): refused not_an_image") {
		t.Fatalf("conflicts:\n%s", out)
	}

	type visitJSON struct {
		Reports []struct {
			RefusedUploads []fieldsync.RefusedUpload `json:"refused_uploads"`
		}
	}
	var seen visitJSON
	disp := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	getJSON(t, p, disp, "/v1/visits/"+visit, &seen)
	if len(seen.Reports) != 1 || len(seen.Reports[0].RefusedUploads) != 1 {
		t.Fatalf("the dispatcher sees %+v", seen.Reports)
	}
	if r := seen.Reports[0].RefusedUploads[0]; r.Slot != "invoice" || r.Filename != "invoice.jpg" || r.Code != fieldsync.ENotAnImage {
		t.Fatalf("the refused upload on the report: %+v", r)
	}

	// Retried as it is, it is refused again.
	if out := mustTech(t, db, "photo", "retry", "1"); !strings.Contains(out, "queued again") {
		t.Fatalf("photo retry:\n%s", out)
	}
	if out := mustTech(t, db, "status"); !strings.Contains(out, "refused: 0") {
		t.Fatalf("status after the retry:\n%s", out)
	}
	if _, err := techCLI(t, db, "", "sync"); exitCode(err) != exitSyncRefused {
		t.Fatalf("sync of the retried photo: %v", err)
	}
	// Fixed: the right file attached, the refused one removed.
	mustTech(t, db, "attach", visit, "invoice", photo)
	if out := mustTech(t, db, "photo", "remove", "1"); !strings.Contains(out, "removed") {
		t.Fatalf("photo remove:\n%s", out)
	}
	if out, err := techCLI(t, db, "", "photo", "remove", "1"); err == nil || exitCode(err) != 1 {
		t.Fatalf("removing it twice: %v\n%s", err, out)
	}
	if out, err := techCLI(t, db, "", "photo", "drop", "2"); exitCode(err) != 2 {
		t.Fatalf("an unknown photo verb: %v\n%s", err, out)
	}
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "verified") {
		t.Fatalf("sync of the fixed photo:\n%s", out)
	}
	if out := mustTech(t, db, "conflicts"); !strings.Contains(out, "no refused work") {
		t.Fatalf("conflicts at the end:\n%s", out)
	}
	if out := mustTech(t, db, "status"); !strings.Contains(out, "refused: 0") {
		t.Fatalf("status at the end:\n%s", out)
	}
}

func grepLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{fmt.Errorf("%w: tech needs a command", errUsage), 2},
		{errSyncRefused, exitSyncRefused},
		{errors.New("clientsdk: sync: connection refused"), 1},
	} {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
