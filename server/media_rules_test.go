package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// sign completes the world's report and signs it from a tablet of
// technician A.
func (w *mediaWorld) sign(t *testing.T) {
	t.Helper()
	tab := w.device(t, "tech.a", "tab-sign")
	answers := map[string]any{}
	for _, it := range w.template(t, "tv-v1").Items {
		if it.Required {
			answers[it.ID] = sampleAnswer(it)
		}
	}
	rs := tab.push(t, tab.mutation("report", w.report, "upsert", "", map[string]any{"answers": answers}))
	rs = append(rs, tab.push(t, tab.sign(t, w.report, signing{}))...)
	if rs[0].Status != syncproto.Applied || rs[1].Status != syncproto.Applied {
		t.Fatalf("complete and sign: %s", statuses(rs))
	}
}

// reportSlots lists the slots of the photos the dispatcher sees on the
// world's report.
func (w *mediaWorld) reportSlots(t *testing.T) []string {
	t.Helper()
	var detail struct {
		Reports []struct {
			Photos []fieldsync.Photo `json:"photos"`
		} `json:"reports"`
	}
	w.call(t, w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &detail)
	var slots []string
	for _, p := range detail.Reports[0].Photos {
		slots = append(slots, p.Slot)
	}
	return slots
}

// uploadWhole uploads a photo to the world's report's serial_plate slot
// in one PATCH and returns its hash.
func (w *mediaWorld) uploadWhole(t *testing.T, data []byte) string {
	t.Helper()
	sha := hexSHA(data)
	if res, body := w.patch(t, w.techA, w.create(t, w.techA, data, sha), 0, data, ""); res.StatusCode != 204 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	return sha
}

// createOn starts an upload of data onto a report's slot.
func (w *mediaWorld) createOn(t *testing.T, token, report, slot string, data []byte) (*http.Response, []byte) {
	t.Helper()
	return w.tus(t, token, "POST", "/v1/media/uploads", map[string]string{
		"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": meta("sha256", hexSHA(data), "report_id", report, "slot", slot)}, nil)
}

func problemDetail(t *testing.T, body []byte) string {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p.Detail
}

// Attachment slots are the report's template's photo slots: any other is
// refused, naming the slot and the allowed ones, at create and at attach.
func TestPhotoSlotsAreTheTemplates(t *testing.T) {
	w := newMediaWorld(t, "local")
	photo := testJPEG(t, 64, 48, 1)
	sha := w.uploadWhole(t, photo)
	for _, slot := range []string{"overview", "\x00\r\n", "Serial_Plate"} {
		res, body := w.createOn(t, w.techA, w.report, slot, []byte(slot))
		wantProblem(t, res, body, 400, fieldsync.EInvalid)
		if d := problemDetail(t, body); !strings.Contains(d, strconv.Quote(slot)) || !strings.Contains(d, "serial_plate, fault, packaging") {
			t.Errorf("create on slot %q: detail %q names not the slot and the allowed ones", slot, d)
		}
		res, body = w.do(t, "POST", "/v1/media/"+sha+"/attach", w.techA, map[string]string{"report_id": w.report, "slot": slot})
		wantProblem(t, res, body, 400, fieldsync.EInvalid)
	}
	if got := w.reportSlots(t); len(got) != 1 || got[0] != "serial_plate" {
		t.Fatalf("the report shows slots %q, want only serial_plate", got)
	}
}

// A signed report takes no new photo: not by a new upload, not by one
// begun while it was a draft and completed after, not by attaching.
func TestSignedReportTakesNoPhotos(t *testing.T) {
	w := newMediaWorld(t, "local")
	before := w.uploadWhole(t, testJPEG(t, 64, 48, 1))
	late := testJPEG(t, 640, 480, 2)
	loc := w.create(t, w.techA, late, hexSHA(late))
	if res, body := w.patch(t, w.techA, loc, 0, late[:len(late)/2], ""); res.StatusCode != 204 {
		t.Fatalf("first half while a draft: %d %s", res.StatusCode, body)
	}

	w.sign(t)

	res, body := w.patch(t, w.techA, loc, len(late)/2, late[len(late)/2:], "")
	wantProblem(t, res, body, 409, fieldsync.EReportSealed)
	if res, _ := w.tus(t, w.techA, "HEAD", loc, nil, nil); res.StatusCode != 404 {
		t.Fatalf("the refused upload is still open: HEAD %d", res.StatusCode)
	}
	if res, _ := w.tus(t, w.disp, "HEAD", "/v1/media/"+hexSHA(late), nil, nil); res.StatusCode != 404 {
		t.Fatalf("the refused photo is published: HEAD %d", res.StatusCode)
	}
	fresh := testJPEG(t, 64, 48, 3)
	res, body = w.createOn(t, w.techA, w.report, "fault", fresh)
	wantProblem(t, res, body, 409, fieldsync.EReportSealed)
	res, body = w.do(t, "POST", "/v1/media/"+before+"/attach", w.techA, map[string]string{"report_id": w.report, "slot": "fault"})
	wantProblem(t, res, body, 409, fieldsync.EReportSealed)

	if got := w.reportSlots(t); len(got) != 1 || got[0] != "serial_plate" {
		t.Fatalf("the signed report shows slots %q, want only the photo it was signed with", got)
	}
}

// HEAD of a photo answers as GET does: 404 to one who may not see it. A
// technician who has the same photo on a report of their own then sends
// the bytes, which the server stores once and attaches.
func TestPhotoHeadIsNotFoundToThoseWhoMayNotSeeIt(t *testing.T) {
	w := newMediaWorld(t, "local")
	photo := testJPEG(t, 64, 48, 1)
	sha := w.uploadWhole(t, photo)
	for who, token := range map[string]string{"the technician of its report": w.techA, "a dispatcher": w.disp} {
		if res, _ := w.tus(t, token, "HEAD", "/v1/media/"+sha, nil, nil); res.StatusCode != 200 || res.Header.Get("Content-Length") != strconv.Itoa(len(photo)) {
			t.Errorf("HEAD by %s: %d %v", who, res.StatusCode, res.Header)
		}
	}
	res, _ := w.tus(t, w.techB, "HEAD", "/v1/media/"+sha, nil, nil)
	if res.StatusCode != 404 || res.Header.Get("ETag") != "" || res.Header.Get("Content-Type") == "image/jpeg" {
		t.Fatalf("HEAD by another technician: %d %v; want 404 telling nothing", res.StatusCode, res.Header)
	}

	// Technician B's own visit and report, with the same photo.
	v := w.dispatchWorld.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techBID)
	tab := w.device(t, "tech.b", "tab-b")
	report := "0190f000-0000-7000-8000-0000000000dd"
	if rs := tab.push(t, tab.mutation("report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"})); rs[0].Status != syncproto.Applied {
		t.Fatalf("report: %+v", rs)
	}
	res, body := w.createOn(t, w.techB, report, "fault", photo)
	if res.StatusCode != 201 {
		t.Fatalf("create by B: %d %s", res.StatusCode, body)
	}
	if res, body := w.patch(t, w.techB, res.Header.Get("Location"), 0, photo, ""); res.StatusCode != 204 || res.Header.Get("Fieldsync-Photo") != "/v1/media/"+sha {
		t.Fatalf("B's upload of the same bytes: %d %v %s", res.StatusCode, res.Header, body)
	}
	if res, _ := w.tus(t, w.techB, "HEAD", "/v1/media/"+sha, nil, nil); res.StatusCode != 200 {
		t.Fatalf("HEAD by B once the photo is on B's report: %d", res.StatusCode)
	}
	if stored := w.backend.evidence(); len(stored) != 1 {
		t.Fatalf("evidence: %v, want the photo once", stored)
	}
}
