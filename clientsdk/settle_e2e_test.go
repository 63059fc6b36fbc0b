package clientsdk

import (
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/warranty"
)

// A dispatcher lists the disputed warranty decisions and settles one on
// an outcome the server's decision offered: the ruling is kept beside the
// signed decision (the signature still holds), audited, final, and it
// reaches the technician's tablet.
func TestE2EDispatcherSettlesADisputedWarranty(t *testing.T) {
	p := warranty.DefaultPolicy()
	tv := p.Categories["tv"]
	tv.Exchange = warranty.Period{Amount: 15, Unit: warranty.Days}
	p.Categories["tv"] = tv
	w, visit := warrantyWorld(t, p)
	tab, _, report := setWarrantyOffline(t, w, visit)

	type list struct {
		Items      []fieldsync.Report `json:"items"`
		NextCursor string             `json:"next_cursor"`
	}
	var disputed list
	w.call(w.disp, "GET", "/v1/reports?warranty_disputed=true", nil, 200, &disputed)
	if len(disputed.Items) != 1 || disputed.Items[0].ID != report {
		t.Fatalf("disputed: %+v", disputed)
	}
	w.call(w.disp, "GET", "/v1/reports?warranty_disputed=yes", nil, 400, nil)
	tech := w.login(e2eTechA, "tab-x")
	w.call(tech, "POST", "/v1/reports/"+report+"/warranty/settle", map[string]string{"outcome": "free_repair"}, 403, nil)

	var problem struct{ Code, Detail string }
	w.call(w.disp, "POST", "/v1/reports/"+report+"/warranty/settle", map[string]string{"outcome": "refund_twice"}, 400, &problem)
	if problem.Code != fieldsync.EInvalid || !strings.Contains(problem.Detail, "exchange") || !strings.Contains(problem.Detail, "free_repair") {
		t.Fatalf("an outcome neither decision offered: %+v", problem)
	}
	var settled fieldsync.Report
	w.call(w.disp, "POST", "/v1/reports/"+report+"/warranty/settle", map[string]string{"outcome": "free_repair", "note": "购买已超15天,按新政策维修"}, 200, &settled)
	if s := settled.WarrantySettled; s == nil || s.Outcome != "free_repair" || s.By == "" || settled.WarrantyDisputed || settled.WarrantyServer == nil {
		t.Fatalf("settled: %+v, disputed %v", settled.WarrantySettled, settled.WarrantyDisputed)
	}
	// The signed document is the one the customer signed: same hash.
	b, err := tab.c.Bundle(visit)
	must(t, err)
	s, err := canon.SigningOf(settled.Signature, settled.SignedPhotos)
	must(t, err)
	v := w.dispatcherVisit(visit)
	doc, err := canon.Build(&settled, &v.Visit, &b.Ticket, &b.Asset, s)
	must(t, err)
	if h, _ := doc.Hash(); h != settled.Signature.Hash {
		t.Fatalf("after the settlement the document hashes %s, the signature %s", h, settled.Signature.Hash)
	}

	w.call(w.disp, "POST", "/v1/reports/"+report+"/warranty/settle", map[string]string{"outcome": "exchange"}, 409, &problem)
	if problem.Code != fieldsync.EWarrantySettled {
		t.Fatalf("settled twice: %+v", problem)
	}
	disputed = list{}
	w.call(w.disp, "GET", "/v1/reports?warranty_disputed=true", nil, 200, &disputed)
	if len(disputed.Items) != 0 {
		t.Fatalf("still disputed: %+v", disputed.Items)
	}
	if got := w.auditActions("report", report); !slices.Contains(got, "report.warranty_settle") {
		t.Fatalf("audit: %v", got)
	}
	tab.sync(t)
	lr, err := tab.c.Report(report)
	must(t, err)
	if lr.WarrantySettled == nil || lr.WarrantySettled.Outcome != "free_repair" || lr.WarrantyDisputed {
		t.Fatalf("the tablet's report: %+v, disputed %v", lr.WarrantySettled, lr.WarrantyDisputed)
	}
}
