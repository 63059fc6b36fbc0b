package clientsdk

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/warranty"
)

// warrantyWorld is an e2e world whose server publishes the shipped
// warranty policy to tablets (and decides with serverPolicy, the zero
// value for the same), with a visit of tech A to a TV bought 20 days ago:
// the default policy exchanges it (30 days), a 15-day one does not.
func warrantyWorld(t *testing.T, serverPolicy warranty.Policy) (*e2eWorld, string) {
	t.Helper()
	w := newE2EWorld(t, func(d *server.Deps) { d.Warranty = serverPolicy })
	must(t, w.store.PublishReference(t.Context(), []bolt.Reference{
		{Entity: fieldsync.EntityWarrantyPolicy, ID: warranty.PolicyID, Data: warranty.DefaultSource()},
	}))
	invoice := time.Now().In(calendar.Location()).AddDate(0, 0, -20).Format(time.DateOnly)
	var c, s, a, tk struct{ ID string }
	w.call(w.disp, "POST", "/v1/customers", map[string]string{"name": "王先生", "phone": "139 0013 9000"}, 201, &c)
	w.call(w.disp, "POST", "/v1/sites", map[string]string{"customer_id": c.ID, "address": "上海市徐汇区漕溪北路1号", "zone": string(fieldsync.ZoneCity)}, 201, &s)
	w.call(w.disp, "POST", "/v1/assets", map[string]string{"customer_id": c.ID, "category": "tv", "model": "55E3K", "serial": "SN-W", "invoice_date": invoice}, 201, &a)
	w.call(w.disp, "POST", "/v1/tickets", map[string]string{"customer_id": c.ID, "site_id": s.ID, "asset_id": a.ID, "channel": "hotline", "kind": "repair", "description": "开机黑屏"}, 201, &tk)
	return w, w.newVisit(tk.ID, w.techA)
}

// setWarrantyOffline has tech A arrive offline, appraise a quality fault
// of the whole unit, keep the warranty decision in the report and sign
// it, then sync. It returns the tablet's decision and the report id.
func setWarrantyOffline(t *testing.T, w *e2eWorld, visit string) (*tablet, warranty.Decision, string) {
	t.Helper()
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	tab.offline(true)
	must(t, tab.c.Depart(visit))
	must(t, tab.c.Arrive(visit))
	report, err := tab.c.CreateReport(visit, "tv-v1")
	must(t, err)
	e2eAnswers(t, tab.c, report)
	quality := fieldsync.ResponsibilityQuality
	must(t, tab.c.SetReport(report, ReportFields{Responsibility: &quality}))
	d, err := tab.c.SetWarranty(report, WarrantyQuestion{FailedPart: warranty.PartUnit, Checks: warranty.Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, AccessoriesComplete: true}})
	must(t, err)
	if d.Outcome != warranty.Exchange {
		t.Fatalf("day 20 of a TV with a quality fault: %+v", d)
	}
	lr, err := tab.c.Report(report)
	must(t, err)
	if lr.Warranty == nil || !fieldsync.SameWarrantyDecision(lr.Warranty.Decision, rawOf(t, d)) {
		t.Fatalf("the tablet's report keeps %+v, want the decision", lr.Warranty)
	}
	must(t, tab.c.SignReport(report, noPhotos("tv-v1")))
	tab.offline(false)
	if rep := tab.sync(t); rep.Refused != 0 || rep.Applied != rep.Pushed {
		t.Fatalf("sync: %+v", rep)
	}
	return tab, d, report
}

// The tablet decides offline and keeps the decision in the report it
// signs; the server, with the same policy, agrees: no flag, and the
// sealed report's signature covers the decision.
func TestE2EWarrantyDecisionKeptSignedAndAgreed(t *testing.T) {
	w, visit := warrantyWorld(t, warranty.Policy{})
	tab, d, report := setWarrantyOffline(t, w, visit)
	got := w.dispatcherVisit(visit)
	r := got.Reports[0]
	if r.ID != report || r.Status != fieldsync.ReportSealed || r.Warranty == nil || r.WarrantyDisputed || r.WarrantyServer != nil {
		t.Fatalf("the dispatcher sees %s, a warranty %v, the server's %+v, disputed %v", r.Status, r.Warranty != nil, r.WarrantyServer, r.WarrantyDisputed)
	}
	if !bytes.Equal(compact(t, r.Warranty.Decision), compact(t, rawOf(t, d))) {
		t.Errorf("the server keeps the decision %s, the tablet made %s", r.Warranty.Decision, rawOf(t, d))
	}
	// The signed hash is that of the document with the decision in it.
	b, err := tab.c.Bundle(visit)
	must(t, err)
	s, err := canon.SigningOf(r.Signature, r.SignedPhotos)
	must(t, err)
	doc, err := canon.Build(&r, &got.Visit, &b.Ticket, &b.Asset, s)
	must(t, err)
	if h, _ := doc.Hash(); doc.Warranty == nil || h != r.Signature.Hash {
		t.Fatalf("the document with the decision hashes %s, the signature %s", h, r.Signature.Hash)
	}
	r.Warranty.Decision = json.RawMessage(`{"outcome":"free_repair","options":["free_repair","paid_repair"],"explanation":[{"rule":"part_warranty","text":{"zh-CN":"","en":""}}]}`)
	doc, err = canon.Build(&r, &got.Visit, &b.Ticket, &b.Asset, s)
	must(t, err)
	if h, _ := doc.Hash(); h == r.Signature.Hash {
		t.Fatal("another decision hashes as the signed one")
	}
}

// A server whose policy changed while the tablet was offline (a 15-day
// exchange) decides otherwise: the report keeps the tablet's decision,
// which the customer signed, with the server's beside it, flagged.
func TestE2EWarrantyDisagreementIsFlaggedNotOverwritten(t *testing.T) {
	p := warranty.DefaultPolicy()
	tv := p.Categories["tv"]
	tv.Exchange = warranty.Period{Amount: 15, Unit: warranty.Days}
	p.Categories["tv"] = tv
	w, visit := warrantyWorld(t, p)
	_, d, report := setWarrantyOffline(t, w, visit)
	var r struct {
		fieldsync.Report
	}
	w.call(w.disp, "GET", "/v1/reports/"+report, nil, 200, &r)
	if r.Status != fieldsync.ReportSealed || r.Warranty == nil || !r.WarrantyDisputed || r.WarrantyServer == nil {
		t.Fatalf("the dispatcher sees %s, a warranty %v, the server's %+v, disputed %v", r.Status, r.Warranty != nil, r.WarrantyServer, r.WarrantyDisputed)
	}
	if !fieldsync.SameWarrantyDecision(r.Warranty.Decision, rawOf(t, d)) {
		t.Errorf("the tablet's decision was overwritten: %s", r.Warranty.Decision)
	}
	var server warranty.Decision
	must(t, json.Unmarshal(r.WarrantyServer.Decision, &server))
	if server.Outcome != warranty.FreeRepair {
		t.Errorf("the server decided %+v, want a free repair past its 15-day exchange", server)
	}
	var list struct {
		Items []struct {
			fieldsync.Report
		} `json:"items"`
	}
	w.call(w.disp, "GET", "/v1/reports?ticket="+w.dispatcherVisit(visit).TicketID, nil, 200, &list)
	if len(list.Items) != 1 || !list.Items[0].WarrantyDisputed || list.Items[0].WarrantyServer == nil {
		t.Errorf("the ticket's reports: %+v", list.Items)
	}
}

func rawOf(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	must(t, err)
	return raw
}

func compact(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var b bytes.Buffer
	must(t, json.Compact(&b, raw))
	return b.Bytes()
}
