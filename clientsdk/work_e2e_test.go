package clientsdk

import (
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/warranty"
)

// A repair of a TV's panel past its 3-year warranty is paid; the tablet
// records the work, the visit completes, and the server makes its work
// order and the panel's certificate. On a later ticket about the same TV,
// the tablet, offline, decides the panel's new failure a free repair
// under the certificate, and the server agrees.
func TestE2ERepairedPartIsRepairedFreeAgain(t *testing.T) {
	w := newE2EWorld(t)
	must(t, w.store.PublishReference(t.Context(), []bolt.Reference{
		{Entity: fieldsync.EntityWarrantyPolicy, ID: warranty.PolicyID, Data: warranty.DefaultSource()},
	}))
	invoice := time.Now().In(calendar.Location()).AddDate(-4, 0, 0).Format(time.DateOnly)
	var c, s, a, tk1, tk2 struct{ ID string }
	w.call(w.disp, "POST", "/v1/customers", map[string]string{"name": "王先生", "phone": "139 0013 9000"}, 201, &c)
	w.call(w.disp, "POST", "/v1/sites", map[string]string{"customer_id": c.ID, "address": "上海市徐汇区漕溪北路1号", "zone": string(fieldsync.ZoneCity)}, 201, &s)
	w.call(w.disp, "POST", "/v1/assets", map[string]string{"customer_id": c.ID, "category": "tv", "model": "55E3K", "serial": "SN-R", "invoice_date": invoice}, 201, &a)
	ticket := func(out *struct{ ID string }) {
		w.call(w.disp, "POST", "/v1/tickets", map[string]string{"customer_id": c.ID, "site_id": s.ID, "asset_id": a.ID, "channel": "hotline", "kind": "repair", "description": "屏幕有竖线"}, 201, out)
	}
	ticket(&tk1)
	first := w.newVisit(tk1.ID, w.techA)

	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	appraise := func(visit string) (string, warranty.Decision) {
		t.Helper()
		must(t, tab.c.Depart(visit))
		must(t, tab.c.Arrive(visit))
		report, err := tab.c.CreateReport(visit, "tv-v1")
		must(t, err)
		e2eAnswers(t, tab.c, report)
		quality := fieldsync.ResponsibilityQuality
		must(t, tab.c.SetReport(report, ReportFields{Responsibility: &quality}))
		d, err := tab.c.SetWarranty(report, WarrantyQuestion{FailedPart: warranty.PartMajor})
		must(t, err)
		return report, d
	}
	tab.offline(true)
	report, d := appraise(first)
	if d.Outcome != warranty.NotCovered {
		t.Fatalf("a panel 4 years old: %+v", d)
	}
	if err := tab.c.SetWork(report, []fieldsync.WorkLine{{Part: "panel", Qty: 1}}); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Fatalf("a work line of an unknown part: %v", err)
	}
	must(t, tab.c.SetWork(report, []fieldsync.WorkLine{{Part: "major", Code: "PNL-55", Qty: 1, Note: "更换屏幕"}}))
	must(t, tab.c.SignReport(report, noPhotos("tv-v1")))
	must(t, tab.c.Complete(first))
	tab.offline(false)
	if rep := tab.sync(t); rep.Refused != 0 || rep.Applied != rep.Pushed {
		t.Fatalf("sync: %+v", rep)
	}

	var orders struct {
		Items []fieldsync.WorkOrder `json:"items"`
	}
	w.call(w.disp, "GET", "/v1/workorders?ticket="+tk1.ID, nil, 200, &orders)
	if len(orders.Items) != 1 || orders.Items[0].Outcome != "not_covered" || orders.Items[0].Work[0].Code != "PNL-55" || orders.Items[0].ReportID != report {
		t.Fatalf("work orders of the ticket: %+v", orders.Items)
	}
	var certs struct {
		Items []fieldsync.Certificate `json:"items"`
	}
	w.call(w.disp, "GET", "/v1/assets/"+a.ID+"/certificates", nil, 200, &certs)
	if len(certs.Items) != 1 || certs.Items[0].Part != "major" || certs.Items[0].UnderWarranty || certs.Items[0].WorkOrderID != orders.Items[0].ID {
		t.Fatalf("certificates of the asset: %+v", certs.Items)
	}

	// A later ticket about the same TV: the certificate reaches the
	// tablet with the visit's bundle, and counts offline.
	ticket(&tk2)
	second := w.newVisit(tk2.ID, w.techA)
	tab.sync(t)
	if got, err := tab.c.Certificates(a.ID); err != nil || len(got) != 1 || got[0].ID != certs.Items[0].ID {
		t.Fatalf("the tablet's certificates: %+v, %v", got, err)
	}
	tab.offline(true)
	report2, d := appraise(second)
	if d.Outcome != warranty.FreeRepair || !slices.ContainsFunc(d.Explanation, func(l warranty.Line) bool { return l.Rule == warranty.RuleRepair }) {
		t.Fatalf("the repaired panel failing again: %+v", d)
	}
	must(t, tab.c.SignReport(report2, noPhotos("tv-v1")))
	tab.offline(false)
	if rep := tab.sync(t); rep.Refused != 0 || rep.Applied != rep.Pushed {
		t.Fatalf("sync: %+v", rep)
	}
	var r fieldsync.Report
	w.call(w.disp, "GET", "/v1/reports/"+report2, nil, 200, &r)
	if r.Warranty == nil || r.WarrantyDisputed {
		t.Fatalf("the server's re-check of the decision: disputed %v, its own %+v", r.WarrantyDisputed, r.WarrantyServer)
	}
}
