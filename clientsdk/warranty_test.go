package clientsdk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/warranty"
)

// The tablet decides the warranty offline with the policy the server
// published and the asset's dates: a TV with a quality fault on day 20
// gets an exchange, explained in both languages; customer damage leaves a
// paid repair.
func TestDecideWarrantyOffline(t *testing.T) {
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	arrival := h.clock.Now() // 2026-03-02
	invoice := arrival.AddDate(0, 0, -20).Format(time.DateOnly)
	a := record[fieldsync.Asset](h.fake, "asset", "asset-a")
	a.InvoiceDate = invoice
	h.fake.mu.Lock()
	h.fake.put("asset", "asset-a", h.tech, a)
	h.fake.mu.Unlock()
	c := h.open()
	must(t, c.Login(t.Context(), testLogin, testPassword))
	h.sync(c)
	h.net.set(func(n *netSwitch) { n.down = true })
	must(t, c.Depart(visit))
	must(t, c.Arrive(visit))
	report, err := c.CreateReport(visit, "tv-v1")
	must(t, err)
	q := WarrantyQuestion{FailedPart: warranty.PartUnit, Checks: warranty.Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, AccessoriesComplete: true}}

	if _, err := c.DecideWarranty(report, q); fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(err.Error(), "responsibility") {
		t.Fatalf("a report without responsibility: %v", err)
	}
	quality := fieldsync.ResponsibilityQuality
	must(t, c.SetReport(report, ReportFields{Responsibility: &quality}))
	// The policy is not on the device yet: the server had not published it.
	if _, err := c.DecideWarranty(report, q); fieldsync.ErrorCode(err) != fieldsync.ENotFound || !strings.Contains(err.Error(), "sync first") {
		t.Fatalf("without the policy: %v", err)
	}

	h.fake.mu.Lock()
	h.fake.put(string(fieldsync.EntityWarrantyPolicy), warranty.PolicyID, "", json.RawMessage(warranty.DefaultSource()))
	h.fake.mu.Unlock()
	h.net.set(func(n *netSwitch) { n.down = false })
	h.sync(c)
	h.net.set(func(n *netSwitch) { n.down = true })

	d, err := c.DecideWarranty(report, q)
	must(t, err)
	if d.Outcome != warranty.Exchange {
		t.Fatalf("day 20 of a TV with a quality fault: %+v", d)
	}
	var zh, en string
	for _, l := range d.Explanation {
		zh, en = zh+l.Text.ZH, en+l.Text.EN
	}
	if !strings.Contains(zh, invoice) || !strings.Contains(en, invoice) || !strings.Contains(en, "20 days") {
		t.Errorf("the explanation does not name the invoice date and day 20:\n%s\n%s", zh, en)
	}

	damage := fieldsync.ResponsibilityCustomerDamage
	must(t, c.SetReport(report, ReportFields{Responsibility: &damage}))
	if d, err := c.DecideWarranty(report, q); err != nil || d.Outcome != warranty.PaidRepair {
		t.Fatalf("customer damage: %+v, %v", d, err)
	}
	if _, err := c.DecideWarranty(report, WarrantyQuestion{FailedPart: "antenna"}); fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(err.Error(), "antenna") {
		t.Fatalf("an unknown part: %v", err)
	}
}
