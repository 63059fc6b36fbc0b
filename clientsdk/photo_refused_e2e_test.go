package clientsdk

import (
	"bytes"
	"os"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/media/s3store"
)

// A photo the server refuses for good is refused work: the sync that met
// it says so, Status counts it, RefusedPhotos lists it with its slot, file
// name and reason; a retry is refused again, and removing it, with a
// fixed file attached in its place, leaves nothing refused on the tablet.
// The dispatcher sees every refused upload on the report, audited.
// Photos go to a real MinIO.
func TestE2ERefusedPhotoIsRefusedWork(t *testing.T) {
	m := testenv.MinIO(t)
	blobs, err := s3store.New(t.Context(), s3store.Config{Endpoint: m.Endpoint, Bucket: "refused-photos",
		AccessKey: m.AccessKey, SecretKey: m.SecretKey, Insecure: true})
	must(t, err)
	w := newPhotoWorldOn(t, 0, blobs)
	tab, _, report := photoTablet(t, w, "tab-a", 256<<10)
	tab.sync(t)

	// Its first bytes are a JPEG's, so the device takes it; the server
	// reads on and refuses it.
	text := append([]byte("\xff\xd8\xff"), bytes.Repeat([]byte("an invoice typed as text\n"), 4000)...)
	bad := attach(t, tab.c, report, "invoice", writeTestFile(t, "invoice.jpg", text))
	if rep := tab.sync(t); rep.PhotosRefused != 1 {
		t.Fatalf("sync %+v, want one photo refused", rep)
	}
	refused, err := tab.c.RefusedPhotos()
	must(t, err)
	if len(refused) != 1 || refused[0].ID != bad.ID || refused[0].Slot != "invoice" || refused[0].Filename != "invoice.jpg" ||
		refused[0].Error != fieldsync.ENotAnImage || refused[0].Detail == "" {
		t.Fatalf("refused photos %+v", refused)
	}
	if s := status(t, tab.c); s.PhotosFailed != 1 || s.PhotosQueued != 0 {
		t.Fatalf("status %+v, want the photo counted as refused", s)
	}

	type shown struct {
		RefusedUploads []fieldsync.RefusedUpload `json:"refused_uploads"`
	}
	var got shown
	w.call(w.disp, "GET", "/v1/reports/"+report, nil, 200, &got)
	if len(got.RefusedUploads) != 1 {
		t.Fatalf("the dispatcher sees %+v on the report", got.RefusedUploads)
	}
	if r := got.RefusedUploads[0]; r.Slot != "invoice" || r.Filename != "invoice.jpg" || r.Code != fieldsync.ENotAnImage ||
		r.SHA256 != bad.SHA256 || r.UploadedBy != w.techA || r.Detail == "" {
		t.Fatalf("the refused upload on the report: %+v", r)
	}

	// A retry of the same bytes is refused again, and seen again.
	must(t, tab.c.RetryPhoto(bad.ID))
	if s := status(t, tab.c); s.PhotosFailed != 0 || s.PhotosQueued != 1 {
		t.Fatalf("status after the retry %+v", s)
	}
	if rep := tab.sync(t); rep.PhotosRefused != 1 {
		t.Fatalf("sync after the retry %+v", rep)
	}
	got = shown{}
	w.call(w.disp, "GET", "/v1/reports/"+report, nil, 200, &got)
	if len(got.RefusedUploads) != 2 {
		t.Fatalf("after the retry the dispatcher sees %+v", got.RefusedUploads)
	}
	refusals := 0
	for _, a := range w.auditActions("report", report) {
		if a == "report.photo_refused" {
			refusals++
		}
	}
	if refusals != 2 {
		t.Fatalf("%d refusals audited, want 2", refusals)
	}

	// The fix: the right file on the slot, the refused one removed.
	good := attach(t, tab.c, report, "invoice", writeTestFile(t, "invoice-scan.jpg", smallPhoto(t, 4)))
	must(t, tab.c.RemovePhoto(bad.ID))
	wantCode(t, tab.c.RemovePhoto(bad.ID), fieldsync.ENotFound)
	if refused, err := tab.c.RefusedPhotos(); err != nil || len(refused) != 0 {
		t.Fatalf("refused photos after the removal: %+v, %v", refused, err)
	}
	if _, err := os.Stat(tab.c.files.path(bad.SHA256)); !os.IsNotExist(err) {
		t.Fatalf("the removed photo's file: %v", err)
	}
	if rep := tab.sync(t); rep.PhotosRefused != 0 {
		t.Fatalf("sync of the fixed photo %+v", rep)
	}
	if p := photoOf(t, tab.c, good.ID); p.Status != PhotoVerified {
		t.Fatalf("the fixed photo %+v", p)
	}
	wantCode(t, tab.c.RemovePhoto(good.ID), fieldsync.EConflict)
	if s := status(t, tab.c); s.PhotosFailed != 0 || s.PhotosQueued != 0 {
		t.Fatalf("status at the end %+v", s)
	}
	all, err := tab.c.ReportPhotos(report)
	must(t, err)
	if len(all) != 1 || all[0].ID != good.ID {
		t.Fatalf("the report's photos on the tablet: %+v", all)
	}
}
