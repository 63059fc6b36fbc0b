package server

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// addendum pushes the creation of report id on visit, correcting
// corrects, with every required answer.
func (w *mediaWorld) addendum(t *testing.T, tab *device, id, visit, corrects string) syncproto.Result {
	t.Helper()
	answers := map[string]any{}
	for _, it := range w.template(t, "tv-v1").Items {
		if it.Required {
			answers[it.ID] = sampleAnswer(it)
		}
	}
	return tab.push(t, tab.mutation("report", id, "upsert", "", map[string]any{
		"visit_id": visit, "template_id": "tv-v1", "corrects": corrects, "answers": answers, "findings": "屏幕裂痕为运输所致",
	}))[0]
}

// storedReport is the report's record as the store keeps it, and the hash
// of the canonical document rebuilt from it.
func (w *mediaWorld) storedReport(t *testing.T, id string) (string, string) {
	t.Helper()
	ctx := t.Context()
	r, err := w.store.Report(ctx, id)
	noErr(t, err)
	raw, err := json.Marshal(r)
	noErr(t, err)
	v, err := w.store.Visit(ctx, r.VisitID)
	noErr(t, err)
	tk, err := w.store.Ticket(ctx, v.TicketID)
	noErr(t, err)
	a, err := w.store.Asset(ctx, tk.AssetID)
	noErr(t, err)
	s, err := canon.SigningOf(r.Signature, r.SignedPhotos)
	noErr(t, err)
	d, err := canon.Build(r, v, tk, a, s)
	noErr(t, err)
	h, err := d.Hash()
	noErr(t, err)
	return string(raw), h
}

type addendaJSON struct {
	Corrects string   `json:"corrects"`
	Addenda  []string `json:"addenda"`
}

func (w *mediaWorld) addendaOf(t *testing.T, id string) addendaJSON {
	t.Helper()
	var a addendaJSON
	w.call(t, w.disp, "GET", "/v1/reports/"+id, nil, 200, &a)
	return a
}

// A sealed report never changes: its correction is an addendum, made,
// signed and sealed through the same pushes, which the report lists.
// What is not a sealed report of the same visit cannot be corrected.
func TestAddendaCorrectSealedReports(t *testing.T) {
	w := newMediaWorld(t, "local")
	tab := w.device(t, "tech.a", "tab-addenda")
	w.draft(t, tab, w.report)
	const (
		first  = "0190f000-0000-7000-8000-0000000000d1"
		second = "0190f000-0000-7000-8000-0000000000d2"
		other  = "0190f000-0000-7000-8000-0000000000d3"
	)
	refused := func(t *testing.T, res syncproto.Result, status, code, detail string) {
		t.Helper()
		if res.Status != status || res.Code != code || !strings.Contains(res.Detail, detail) {
			t.Fatalf("got %s %s %q, want %s %s naming %q", res.Status, res.Code, res.Detail, status, code, detail)
		}
	}

	refused(t, w.addendum(t, tab, first, w.visit, w.report), syncproto.Conflict, fieldsync.EInvalidTransition, "is a draft: edit it")
	refused(t, w.addendum(t, tab, first, w.visit, "0190f000-0000-7000-8000-0000000000ff"), syncproto.Rejected, fieldsync.EInvalid, `corrects: no report "0190f000-0000-7000-8000-0000000000ff"`)

	plate := testJPEG(t, 64, 48, 21)
	photos := []fieldsync.SlotPhoto{{Slot: "serial_plate", SHA256: hexSHA(plate)}}
	if rs := tab.push(t, tab.sign(t, w.report, signing{photos: photos})); rs[0].Status != syncproto.Applied {
		t.Fatalf("sign: %s %s", statuses(rs), rs[0].Detail)
	}
	refused(t, w.addendum(t, tab, first, w.visit, w.report), syncproto.Conflict, fieldsync.EInvalidTransition, "is signed, not sealed: wait for its seal")

	res, body := w.createOn(t, w.techA, w.report, "serial_plate", plate)
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	if res, body := w.patch(t, w.techA, res.Header.Get("Location"), 0, plate, ""); res.StatusCode != 204 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	w.checkSeals(t, []string{w.report})
	record, hash := w.storedReport(t, w.report)
	if sealed := w.reportJSON(t, w.report); sealed.Seal.Hash != hash {
		t.Fatalf("the sealed report's document hashes to %s, its seal says %s", hash, sealed.Seal.Hash)
	}
	if a := w.addendaOf(t, w.report); a.Addenda == nil || len(a.Addenda) != 0 {
		t.Fatalf("a report without addenda lists %v, want []", a.Addenda)
	}

	// Of another visit: the addendum is of the corrected report's visit.
	v2 := w.dispatchWorld.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	refused(t, w.addendum(t, tab, other, v2.ID, w.report), syncproto.Rejected, fieldsync.EInvalid, "corrects: report "+w.report+" is of visit "+w.visit)
	// A technician who never saw the report is told it does not exist.
	tabB := w.device(t, "tech.b", "tab-addenda-b")
	vB := w.dispatchWorld.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techBID)
	refused(t, w.addendum(t, tabB, other, vB.ID, w.report), syncproto.Rejected, fieldsync.EInvalid, "corrects: no report")

	tab.pull(t) // the tablet is up to date before the addendum
	if res := w.addendum(t, tab, first, w.visit, w.report); res.Status != syncproto.Applied {
		t.Fatalf("addendum: %s %s %s", res.Status, res.Code, res.Detail)
	}
	changes := tab.pull(t)
	c, ok := changes["report/"+first]
	var pulled fieldsync.Report
	if ok {
		noErr(t, json.Unmarshal(c.Data, &pulled))
	}
	if pulled.Corrects != w.report {
		t.Fatalf("the tablet pulls the addendum %s", c.Data)
	}
	if _, ok := changes["report/"+w.report]; ok {
		t.Errorf("the corrected report was published again: a sealed report never changes")
	}

	if rs := tab.push(t, tab.mutation("report", first, "upsert", "", map[string]any{"corrects": second})); rs[0].Status != syncproto.Rejected || rs[0].Code != fieldsync.EInvalid || !strings.Contains(rs[0].Detail, "corrects is set when a report is made") {
		t.Fatalf("changing corrects: %s %s %s", statuses(rs), rs[0].Code, rs[0].Detail)
	}
	if rs := tab.push(t, tab.sign(t, first, signing{})); rs[0].Status != syncproto.Applied {
		t.Fatalf("sign the addendum: %s %s", statuses(rs), rs[0].Detail)
	}
	w.checkSeals(t, []string{w.report, first})
	if _, h := w.storedReport(t, first); w.reportJSON(t, first).Seal.Hash != h {
		t.Fatalf("the addendum's seal is not of its document %s", h)
	}

	if res := w.addendum(t, tab, second, w.visit, w.report); res.Status != syncproto.Applied {
		t.Fatalf("second addendum: %s %s %s", res.Status, res.Code, res.Detail)
	}
	refused(t, w.addendum(t, tab, other, w.visit, first), syncproto.Rejected, fieldsync.EInvalid, "is itself an addendum of "+w.report)
	if a := w.addendaOf(t, w.report); !slices.Equal(a.Addenda, []string{first, second}) {
		t.Fatalf("the report lists addenda %v, want %v in the order made", a.Addenda, []string{first, second})
	}
	if a := w.addendaOf(t, first); a.Corrects != w.report || len(a.Addenda) != 0 {
		t.Fatalf("the addendum shows %+v", a)
	}
	if rs := tab.push(t, tab.mutation("report", second, "delete", "", nil)); rs[0].Status != syncproto.Applied {
		t.Fatalf("delete the draft addendum: %s", statuses(rs))
	}
	if a := w.addendaOf(t, w.report); !slices.Equal(a.Addenda, []string{first}) {
		t.Fatalf("after its draft addendum was deleted the report lists %v", a.Addenda)
	}
	var detail struct {
		Reports []struct {
			ID      string   `json:"id"`
			Addenda []string `json:"addenda"`
		} `json:"reports"`
	}
	w.call(t, w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &detail)
	for _, r := range detail.Reports {
		if r.ID == w.report && !slices.Equal(r.Addenda, []string{first}) {
			t.Errorf("the visit shows the report with addenda %v", r.Addenda)
		}
	}

	if again, h := w.storedReport(t, w.report); again != record || h != hash {
		t.Errorf("the corrected report changed:\n got %s\nwant %s", again, record)
	}
}
