package clientsdk

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/warranty"
)

// pickupOffline has tech A arrive offline at the day-20 TV of
// warrantyWorld (an exchange, not a return), with the remote missing, and
// keep the warranty decision in the draft report. The tablet has pulled
// prices, the price list the server publishes.
func pickupOffline(t *testing.T, prices []byte) (*e2eWorld, *tablet, string, string) {
	t.Helper()
	w, visit := warrantyWorld(t, warranty.Policy{})
	must(t, w.store.PublishReference(t.Context(), []bolt.Reference{{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: prices}}))
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
	d, err := tab.c.SetWarranty(report, WarrantyQuestion{FailedPart: warranty.PartUnit, Checks: warranty.Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, MissingAccessories: []string{"remote"}}})
	must(t, err)
	if d.Outcome != warranty.Exchange {
		t.Fatalf("day 20 of a TV: %+v", d)
	}
	return w, tab, visit, report
}

// The tablet makes the slip offline from the report's warranty decision:
// a return the decision does not offer is refused naming the options; the
// exchange checks every accessory of a TV and deducts the missing remote
// at the price list's amount. The server agrees, and the signature
// covers the slip.
func TestE2EPickupSlipMadeOfflineSignedAndKept(t *testing.T) {
	w, tab, visit, report := pickupOffline(t, quote.DefaultSource())
	_, err := tab.c.SetPickup(report, fieldsync.PickupReturn, []string{"remote"})
	if fieldsync.ErrorCode(err) != fieldsync.EPickupNotOffered || !strings.Contains(fieldsync.ErrorDetail(err), "options: exchange, free_repair, paid_repair") {
		t.Fatalf("a return past day 7: %v", err)
	}
	_, err = tab.c.SetPickup(report, fieldsync.PickupExchange, []string{"antenna"})
	if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(fieldsync.ErrorDetail(err), "box, remote, stand") {
		t.Fatalf("an accessory a TV does not have: %v", err)
	}
	slip, err := tab.c.SetPickup(report, fieldsync.PickupExchange, []string{"remote"})
	must(t, err)
	if len(slip.Accessories) != 3 || slip.Accessories[1] != (fieldsync.PickupCheck{Accessory: "remote"}) || slip.TotalFen != 3500 ||
		len(slip.Deductions) != 1 || slip.Deductions[0] != (fieldsync.PickupDeduction{Accessory: "remote", Fen: 3500}) || slip.PriceListVersion != quote.Default().Version {
		t.Fatalf("slip %+v", slip)
	}
	must(t, tab.c.SignReport(report, noPhotos("tv-v1")))
	tab.offline(false)
	if rep := tab.sync(t); rep.Refused != 0 || rep.Applied != rep.Pushed {
		t.Fatalf("sync: %+v", rep)
	}
	got := w.dispatcherVisit(visit)
	r := got.Reports[0]
	if r.Status != fieldsync.ReportSealed || r.Pickup == nil || r.Pickup.TotalFen != 3500 || !r.Pickup.CollectedAt.Equal(slip.CollectedAt) {
		t.Fatalf("the dispatcher sees %s with the slip %+v", r.Status, r.Pickup)
	}
	b, err := tab.c.Bundle(visit)
	must(t, err)
	s, err := canon.SigningOf(r.Signature, r.SignedPhotos)
	must(t, err)
	doc, err := canon.Build(&r, &got.Visit, &b.Ticket, &b.Asset, s)
	must(t, err)
	if h, _ := doc.Hash(); doc.Pickup == nil || h != r.Signature.Hash {
		t.Fatalf("the document with the slip hashes %s, the signature %s", h, r.Signature.Hash)
	}
}

// A tablet whose price list says the same version but deducts another
// amount (a list edited without a new version) is refused on push with
// pickup_deductions_mismatch, naming the server's amount.
func TestE2EPickupDeductionsRepricedOnPush(t *testing.T) {
	edited := strings.Replace(string(quote.DefaultSource()), `"accessory": "remote", "name": {"zh-CN": "遥控器", "en": "remote control"}, "deduction_fen": 3500`,
		`"accessory": "remote", "name": {"zh-CN": "遥控器", "en": "remote control"}, "deduction_fen": 4000`, 1)
	if edited == string(quote.DefaultSource()) {
		t.Fatal("the TV remote's deduction is not in default.json")
	}
	_, tab, _, report := pickupOffline(t, []byte(edited))
	slip, err := tab.c.SetPickup(report, fieldsync.PickupExchange, []string{"remote"})
	must(t, err)
	if slip.TotalFen != 4000 {
		t.Fatalf("slip %+v", slip)
	}
	tab.offline(false)
	if rep := tab.sync(t); rep.Refused != 1 {
		t.Fatalf("sync: %+v", rep)
	}
	refused, err := tab.c.Conflicts()
	must(t, err)
	if len(refused) != 1 || refused[0].Code != fieldsync.EPickupDeductions || !strings.Contains(refused[0].Detail, "deducts 3500") {
		t.Fatalf("refusals %+v", refused)
	}
}

// The tablet makes the exchange's slip offline, missing the remote, and
// completes the visit; after sync the dispatcher lists the exchange's
// pick-up done, with the slip's deduction, and its audit trail.
func TestE2EPickupDoneAfterSync(t *testing.T) {
	w, tab, visit, report := pickupOffline(t, quote.DefaultSource())
	_, err := tab.c.SetPickup(report, fieldsync.PickupExchange, []string{"remote"})
	must(t, err)
	must(t, tab.c.SignReport(report, noPhotos("tv-v1")))
	must(t, tab.c.Complete(visit))
	tab.offline(false)
	if rep := tab.sync(t); rep.Refused != 0 || rep.Applied != rep.Pushed {
		t.Fatalf("sync: %+v", rep)
	}
	var done struct {
		Items []struct {
			fieldsync.Pickup
			State fieldsync.PickupState `json:"state"`
		} `json:"items"`
	}
	w.call(w.disp, "GET", "/v1/pickups?state=done&kind=exchange", nil, 200, &done)
	if len(done.Items) != 1 {
		t.Fatalf("done exchanges: %+v", done.Items)
	}
	p := done.Items[0]
	if p.VisitID != visit || p.DoneReportID != report || p.TotalFen != 3500 || len(p.Deductions) != 1 || p.Deductions[0].Accessory != "remote" || p.State != fieldsync.PickupDone {
		t.Fatalf("the dispatcher's pick-up %+v", p)
	}
	if got := w.auditActions(string(fieldsync.EntityPickup), p.ID); strings.Join(got, ",") != "pickup.create,pickup.collect" {
		t.Fatalf("audit of the pick-up: %v", got)
	}
}
