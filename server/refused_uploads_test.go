package server

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// A photo upload refused for good is kept on the report it was meant for,
// audited, for staff to see on GET /v1/reports/{id}: its slot, file name
// and reason. Customers do not see it; an upload by someone who may not
// attach to the report leaves nothing there, nor does a chunk spoilt on
// the way; a report keeps only its newest refusals. Bytes go to MinIO.
func TestRefusedUploadsShowOnTheReport(t *testing.T) {
	w := newMediaWorld(t, "s3")
	ticket := w.intake(t, w.custAUser, fieldsync.ZoneCity).ticket
	v := w.dispatchWorld.visit(t, ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-b")
	report := "0190f000-0000-7000-8000-0000000000dd"
	if rs := tab.push(t, tab.mutation("report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"})); rs[0].Status != syncproto.Applied {
		t.Fatalf("report: %+v", rs)
	}
	create := func(token string, length int, sha, slot, filename string) (int, string) {
		t.Helper()
		res, body := w.tus(t, token, "POST", "/v1/media/uploads", map[string]string{
			"Upload-Length":   strconv.Itoa(length),
			"Upload-Metadata": meta("sha256", sha, "report_id", report, "slot", slot, "filename", filename),
		}, nil)
		return res.StatusCode, string(body) + res.Header.Get("Location")
	}
	type shown struct {
		RefusedUploads []fieldsync.RefusedUpload `json:"refused_uploads"`
	}
	refusedOn := func() []fieldsync.RefusedUpload {
		t.Helper()
		var got shown
		w.call(t, w.disp, "GET", "/v1/reports/"+report, nil, 200, &got)
		return got.RefusedUploads
	}

	// /etc/passwd as an invoice: refused at its first bytes.
	passwd := []byte("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
	code, loc := create(w.techA, len(passwd), hexSHA(passwd), "invoice", "passwd")
	if code != 201 {
		t.Fatalf("create: %d %s", code, loc)
	}
	res, body := w.patch(t, w.techA, loc, 0, passwd, "")
	wantProblem(t, res, body, 415, fieldsync.ENotAnImage)
	// Larger than the server takes: refused at creation.
	if code, body := create(w.techA, media.DefaultMaxSize+1, hexSHA(passwd), "fault", "fault.jpg"); code != 413 {
		t.Fatalf("a too large upload: %d %s", code, body)
	}
	// Another technician's upload to this report, and a chunk spoilt on
	// the way, leave nothing on it.
	if code, body := create(w.techB, len(passwd), hexSHA(passwd), "invoice", "passwd"); code != 403 {
		t.Fatalf("another technician: %d %s", code, body)
	}
	photo := testJPEG(t, 64, 48, 5)
	_, loc = create(w.techA, len(photo), hexSHA(photo), "serial_plate", "plate.jpg")
	res, body = w.patch(t, w.techA, loc, 0, photo, sha256Header(passwd))
	wantProblem(t, res, body, 460, fieldsync.EChecksumMismatch)

	got := refusedOn()
	if len(got) != 2 {
		t.Fatalf("refused uploads on the report: %+v", got)
	}
	if r := got[0]; r.ReportID != report || r.Slot != "invoice" || r.Filename != "passwd" || r.Code != fieldsync.ENotAnImage ||
		r.SHA256 != hexSHA(passwd) || r.Size != int64(len(passwd)) || r.UploadedBy != w.techAID || r.Detail == "" || r.At.IsZero() {
		t.Fatalf("the refused invoice: %+v", r)
	}
	if r := got[1]; r.Slot != "fault" || r.Code != fieldsync.ETooLarge || r.Filename != "fault.jpg" {
		t.Fatalf("the refused large photo: %+v", r)
	}
	var audit struct {
		Items []fieldsync.AuditEntry `json:"items"`
	}
	w.call(t, w.admin, "GET", "/v1/audit?entity=report&id="+report, nil, 200, &audit)
	refusals := 0
	for _, e := range audit.Items {
		if e.Action == "report.photo_refused" {
			refusals++
		}
	}
	if refusals != 2 {
		t.Fatalf("%d refusals audited, want 2: %+v", refusals, audit.Items)
	}

	// The customer reads the report without them.
	var raw map[string]json.RawMessage
	w.call(t, w.custA, "GET", "/v1/reports/"+report, nil, 200, &raw)
	if _, ok := raw["refused_uploads"]; ok || raw["id"] == nil {
		t.Fatalf("the customer's report shows refused uploads: %s", raw["refused_uploads"])
	}

	// Within bounds: the newest are kept.
	for i := range fieldsync.MaxRefusedUploads {
		if code, body := create(w.techA, media.DefaultMaxSize+1, hexSHA(passwd), "fault", "big-"+strconv.Itoa(i)+".jpg"); code != 413 {
			t.Fatalf("a too large upload: %d %s", code, body)
		}
	}
	got = refusedOn()
	if len(got) != fieldsync.MaxRefusedUploads || got[0].Filename != "big-0.jpg" || got[len(got)-1].Filename != "big-"+strconv.Itoa(fieldsync.MaxRefusedUploads-1)+".jpg" {
		t.Fatalf("%d refused uploads kept, from %+v", len(got), got[0])
	}
}
