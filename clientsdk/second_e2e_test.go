package clientsdk

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// A visit ends needing a second one offline, with the price-list parts it
// needs: the tablet checks the codes on the pulled list, and the server
// keeps the parts and the note on the visit.
func TestE2ESecondVisitCarriesItsParts(t *testing.T) {
	w := newE2EWorld(t)
	visit := w.newVisit(w.intake(), w.techA)
	must(t, w.store.PublishReference(t.Context(), []bolt.Reference{{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: quote.DefaultSource()}}))
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	tab.offline(true)
	must(t, tab.c.Depart(visit))
	must(t, tab.c.Arrive(visit))
	bad := fieldsync.SecondVisit{Parts: []fieldsync.PartNeed{{Code: "tv-psu", Qty: 1}, {Code: "tv-laser", Qty: 1}}}
	if err := tab.c.NeedSecondVisit(visit, bad); fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(err.Error(), `"tv-laser"`) {
		t.Fatalf("an unknown part offline: %v", err)
	}
	need := fieldsync.SecondVisit{Parts: []fieldsync.PartNeed{{Code: "tv-psu", Qty: 1}, {Code: "tv-remote", Qty: 2}}, Note: "主板待更换"}
	must(t, tab.c.NeedSecondVisit(visit, need))
	b, err := tab.c.Bundle(visit)
	must(t, err)
	if local := b.Visit; local.Status != fieldsync.VisitNeedsSecondVisit || local.SecondVisit == nil || len(local.SecondVisit.Parts) != 2 {
		t.Fatalf("the tablet's visit before a sync: %+v", local)
	}
	tab.offline(false)
	if rep := tab.sync(t); rep.Refused != 0 {
		t.Fatalf("refused: %+v", rep)
	}
	got := w.dispatcherVisit(visit)
	if got.Status != fieldsync.VisitNeedsSecondVisit || got.SecondVisit == nil || got.SecondVisit.Note != "主板待更换" ||
		len(got.SecondVisit.Parts) != 2 || got.SecondVisit.Parts[1] != (fieldsync.PartNeed{Code: "tv-remote", Qty: 2}) {
		t.Fatalf("the server's visit: %+v", got.Visit)
	}

	// The dispatcher's list to book: the parts and the promise, then the
	// booking on the same ticket.
	type list struct {
		Items []fieldsync.SecondVisitRequest `json:"items"`
	}
	var toBook list
	w.call(w.disp, "GET", "/v1/second-visits?state=to_book", nil, 200, &toBook)
	if len(toBook.Items) != 1 || toBook.Items[0].Visit.ID != visit || toBook.Items[0].State != fieldsync.SecondVisitToBook ||
		toBook.Items[0].Visit.SecondVisit == nil || len(toBook.Items[0].Visit.SecondVisit.Parts) != 2 || !toBook.Items[0].Due.After(*got.FinishedAt) {
		t.Fatalf("to book: %+v", toBook.Items)
	}
	second := w.newVisit(got.TicketID, w.techB)
	if v := w.dispatcherVisit(second); v.PreviousVisitID != visit || !v.Due.Equal(toBook.Items[0].Due) {
		t.Fatalf("the second visit: previous %q, due %v; want %s, %v", v.PreviousVisitID, v.Due, visit, toBook.Items[0].Due)
	}
	var booked, left list
	w.call(w.disp, "GET", "/v1/second-visits?state=booked", nil, 200, &booked)
	w.call(w.disp, "GET", "/v1/second-visits?state=to_book", nil, 200, &left)
	if len(booked.Items) != 1 || booked.Items[0].BookedVisitID != second || len(left.Items) != 0 {
		t.Fatalf("booked %+v, to book %+v", booked.Items, left.Items)
	}
	w.call(w.disp, "GET", "/v1/second-visits?state=late", nil, 400, nil)
	w.call(w.login(e2eTechA, "tab-x"), "GET", "/v1/second-visits", nil, 403, nil)
}

// A tablet that has not pulled the price list sends the codes as typed;
// the server refuses an unknown one, naming it, and the visit stays on
// site.
func TestE2ESecondVisitUnknownPartRefusedByServer(t *testing.T) {
	w := newE2EWorld(t)
	visit := w.newVisit(w.intake(), w.techA)
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	must(t, tab.c.Depart(visit))
	must(t, tab.c.Arrive(visit))
	must(t, tab.c.NeedSecondVisit(visit, fieldsync.SecondVisit{Parts: []fieldsync.PartNeed{{Code: "tv-laser", Qty: 1}}}))
	if rep := tab.sync(t); rep.Refused != 1 {
		t.Fatalf("sync: %+v, want one refusal", rep)
	}
	refused, err := tab.c.Conflicts()
	must(t, err)
	if len(refused) != 1 || refused[0].Code != fieldsync.EInvalid || !strings.Contains(refused[0].Detail, `"tv-laser" is not a part of the price list`) {
		t.Fatalf("refusals: %+v", refused)
	}
	if got := w.dispatcherVisit(visit); got.Status != fieldsync.VisitOnSite || got.SecondVisit != nil {
		t.Fatalf("the server's visit: %+v", got.Visit)
	}
}
