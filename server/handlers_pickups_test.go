package server

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

type pickupJSON struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	TicketID     string    `json:"ticket_id"`
	CustomerID   string    `json:"customer_id"`
	Due          time.Time `json:"due"`
	State        string    `json:"state"`
	DoneReportID string    `json:"done_report_id"`
	TotalFen     int64     `json:"total_fen"`
}

// signedInStore writes report id of visit, signed, with a warranty
// decision of outcome (and the screen cracked on unboxing when cracked)
// and, with kind set, a pick-up slip missing the remote: the report a
// tablet pushes, put in the store directly, since only the records it
// starts are under test here.
func (w *dispatchWorld) signedInStore(t *testing.T, id, visit, outcome string, cracked bool, kind fieldsync.PickupKind) {
	t.Helper()
	now := w.clock.Now().UTC().Truncate(time.Second)
	q, _ := json.Marshal(map[string]any{"failed_part": "unit", "checks": map[string]bool{"cracked_on_unboxing": cracked}})
	d, _ := json.Marshal(map[string]any{"outcome": outcome, "options": []string{outcome}, "explanation": []map[string]string{{"rule": "r"}}})
	r := fieldsync.Report{ID: id, VisitID: visit, Status: fieldsync.ReportSigned, SignedAt: &now, CreatedAt: now, UpdatedAt: now,
		Signature: &fieldsync.Signature{SignedAt: now, DeviceID: "tab-a", KeyID: "k", Hash: "00", Value: "v"},
		Warranty:  &fieldsync.ReportWarranty{Question: q, VisitDate: now.Format(time.DateOnly), Decision: d}}
	if kind != "" {
		r.Pickup = &fieldsync.ReportPickup{Kind: kind, Category: "tv", PriceListVersion: "x", CollectedAt: now,
			Accessories: []fieldsync.PickupCheck{{Accessory: "remote"}}, Deductions: []fieldsync.PickupDeduction{{Accessory: "remote", Fen: 5000}}, TotalFen: 5000}
	}
	if err := w.store.Push(t.Context(), func(tx syncproto.Txn) error {
		v, err := tx.Visit(visit)
		if err != nil {
			return err
		}
		_, err = tx.PutReport(&r, true, v, nil, fieldsync.Actor{UserID: w.techAID, DeviceID: "tab-a"}, "report.sign", now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// Visits completed through pushes start pick-up records: customer A's
// return, still open, and an appraisal slip, printed; customer B's exchange,
// collected with its slip. The dispatcher lists them by state, kind and
// ticket, a page at a time; the return turns overdue on the calendar; a
// customer reads only their own; a technician is refused.
func TestPickupListsAndVisibility(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 9, 9)) // a Monday
	tab := w.device(t, "tech.a", "tab-a")
	a := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	va := w.visit(t, a.ticket, w.techAID)
	w.clock.Set(date(2026, 3, 9, 15))
	w.signedInStore(t, "0190f000-0000-7000-8000-0000000000a1", va.ID, "return", true, "")
	w.finishVisit(t, tab, va.ID, fieldsync.ActionComplete)
	b := w.intake(t, w.custBUser, fieldsync.ZoneCity)
	vb := w.visit(t, b.ticket, w.techAID)
	w.signedInStore(t, "0190f000-0000-7000-8000-0000000000b1", vb.ID, "exchange", false, fieldsync.PickupExchange)
	w.finishVisit(t, tab, vb.ID, fieldsync.ActionComplete)

	list := func(token, query string) []pickupJSON {
		t.Helper()
		var out []pickupJSON
		cursor := ""
		for pages := 0; ; pages++ {
			q, _ := url.ParseQuery(query)
			q.Set("limit", "1")
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var p page[pickupJSON]
			w.call(t, token, "GET", "/v1/pickups?"+q.Encode(), nil, 200, &p)
			out = append(out, p.Items...)
			if *p.NextCursor == "" {
				return out
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			cursor = *p.NextCursor
		}
	}
	all := list(w.disp, "")
	if len(all) != 3 {
		t.Fatalf("pick-ups: %+v", all)
	}
	byKind := map[string]pickupJSON{}
	for _, p := range all {
		byKind[p.Kind] = p
	}
	ret, exch, slip := byKind["return"], byKind["exchange"], byKind["appraisal_slip"]
	if ret.TicketID != a.ticket || ret.State != "due" || !ret.Due.Equal(date(2026, 3, 13, 0)) {
		t.Fatalf("return %+v, want due at the end of Thursday (3 working days)", ret)
	}
	if exch.TicketID != b.ticket || exch.State != "done" || exch.TotalFen != 5000 || exch.DoneReportID != "0190f000-0000-7000-8000-0000000000b1" {
		t.Fatalf("exchange %+v, want done with its slip's deduction", exch)
	}
	// The server has its seal key and the report names no photo: sealed
	// in its push, the appraisal slip is printed at once.
	if slip.TicketID != a.ticket || slip.State != "done" || !slip.Due.Equal(date(2026, 3, 12, 0)) || slip.DoneReportID != "0190f000-0000-7000-8000-0000000000a1" {
		t.Fatalf("appraisal slip %+v, want done, due in 2 working days", slip)
	}
	if got := list(w.disp, "state=done&kind=exchange"); len(got) != 1 || got[0].ID != exch.ID {
		t.Fatalf("done: %+v", got)
	}
	if got := list(w.admin, "kind=appraisal_slip"); len(got) != 1 || got[0].ID != slip.ID {
		t.Fatalf("appraisal slips: %+v", got)
	}
	if got := list(w.disp, "ticket="+a.ticket+"&state=due"); len(got) != 1 || got[0].ID != ret.ID {
		t.Fatalf("due of ticket A: %+v", got)
	}
	// The visit booked to collect the return is due when the pick-up is,
	// not by the on-site promise from the ticket's intake.
	if collect := w.visit(t, a.ticket, w.techAID); !collect.Due.Equal(ret.Due) || !collect.SLA.Due.Equal(ret.Due) {
		t.Fatalf("pick-up visit due %s (SLA %s), want the pick-up's %s", collect.Due, collect.SLA.Due, ret.Due)
	}
	w.clock.Set(date(2026, 3, 13, 1))
	if got := list(w.disp, "state=overdue"); len(got) != 1 || got[0].ID != ret.ID {
		t.Fatalf("overdue on Friday: %+v", got)
	}
	var one pickupJSON
	w.call(t, w.disp, "GET", "/v1/pickups/"+ret.ID, nil, 200, &one)
	if one.State != "overdue" {
		t.Fatalf("the return read on Friday: %+v", one)
	}

	w.call(t, w.custA, "GET", "/v1/pickups/"+ret.ID, nil, 200, &one)
	const missing = "0190f000-0000-7000-8000-00000000ffff"
	res, body := w.do(t, "GET", "/v1/pickups/"+ret.ID, w.custB, nil)
	got := wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.do(t, "GET", "/v1/pickups/"+missing, w.custB, nil)
	if want := wantProblem(t, res, body, 404, fieldsync.ENotFound); strings.ReplaceAll(got.Detail, ret.ID, missing) != want.Detail {
		t.Fatalf("another's pick-up answers %q, a made-up one %q", got.Detail, want.Detail)
	}
	for _, path := range []string{"/v1/pickups", "/v1/pickups/" + ret.ID} {
		res, body = w.do(t, "GET", path, w.techA, nil)
		wantProblem(t, res, body, 403, fieldsync.EForbidden)
	}
	res, body = w.do(t, "GET", "/v1/pickups", w.custA, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
	for _, q := range []string{"state=late", "kind=repair", "cursor=%21", "ticket_id=x"} {
		res, body = w.do(t, "GET", "/v1/pickups?"+q, w.disp, nil)
		wantProblem(t, res, body, 400, fieldsync.EInvalid)
	}
}
