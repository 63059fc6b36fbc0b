package server

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
)

// The server prices a pushed quote again on its own price list: on the
// same version a changed price is refused naming the line; a quote priced
// on another version is kept as the customer agreed to it and flagged
// for the dispatcher, never re-priced; the customer sees the quote but
// not the flag. A visit ends as quote_declined only when its report's
// quote really is declined.
func TestPushRechecksTheQuote(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, w.custAUser, fieldsync.ZoneCity).ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-1")
	const (
		r1 = "0190f000-0000-7000-8000-0000000007a1"
		r2 = "0190f000-0000-7000-8000-0000000007a2"
	)
	for _, res := range tab.push(t,
		tab.mutation("visit", v.ID, "action", "depart", nil),
		tab.mutation("visit", v.ID, "action", "arrive", nil),
		tab.mutation("report", r1, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"}),
		tab.mutation("report", r2, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"}),
	) {
		if res.Status != "applied" {
			t.Fatalf("setting up: %+v", res)
		}
	}
	l := quote.Default()
	q, err := quote.Build(l, []quote.Item{{Kind: quote.KindCallout, Code: quote.CalloutCode, Qty: 1}, {Kind: quote.KindPart, Code: "tv-psu", Qty: 2}})
	if err != nil {
		t.Fatal(err)
	}
	set := func(id string, q quote.Quote) (string, string, string) {
		t.Helper()
		res := tab.push(t, tab.mutation("report", id, "upsert", "", map[string]any{"quote": q}))[0]
		return res.Status, res.Code, res.Detail
	}
	var got fieldsync.Report
	get := func(token, id string) fieldsync.Report {
		t.Helper()
		var r fieldsync.Report
		w.call(t, token, "GET", "/v1/reports/"+id, nil, 200, &r)
		return r
	}

	cheap := q
	cheap.Lines = append([]quote.Line(nil), q.Lines...)
	cheap.Lines[1].UnitFen, cheap.Lines[1].TotalFen = 100, 200
	cheap.TotalFen = cheap.Lines[0].TotalFen + 200
	if status, code, detail := set(r1, cheap); status != "rejected" || code != fieldsync.EQuoteMismatch || !strings.Contains(detail, "lines[1].unit_fen") {
		t.Fatalf("a quote under the list's prices: %s %s %q, want rejected %s naming lines[1].unit_fen", status, code, detail, fieldsync.EQuoteMismatch)
	}
	if got = get(w.disp, r1); got.Quote != nil {
		t.Fatalf("a refused quote was kept: %+v", got.Quote)
	}

	if status, code, detail := set(r1, q); status != "applied" {
		t.Fatalf("a quote on the list in force: %s %s %q", status, code, detail)
	}
	if got = get(w.disp, r1); got.Quote == nil || got.Quote.TotalFen != 41000 || got.QuoteStale != "" {
		t.Fatalf("the dispatcher's report: quote %+v, stale %q", got.Quote, got.QuoteStale)
	}

	old := q
	old.PriceListVersion = "placeholder-2025-9"
	old.Lines = append([]quote.Line(nil), q.Lines...)
	old.Lines[1].UnitFen, old.Lines[1].TotalFen = 15000, 30000
	old.TotalFen = old.Lines[0].TotalFen + 30000
	if status, code, detail := set(r2, old); status != "applied" {
		t.Fatalf("a quote on an older list: %s %s %q", status, code, detail)
	}
	if got = get(w.disp, r2); got.Quote == nil || got.Quote.TotalFen != old.TotalFen || got.Quote.PriceListVersion != old.PriceListVersion || got.QuoteStale != l.Version {
		t.Fatalf("a stale quote: %+v, stale %q; want it kept and flagged %s", got.Quote, got.QuoteStale, l.Version)
	}
	if cust := get(w.custA, r2); cust.Quote == nil || cust.Quote.TotalFen != old.TotalFen || cust.QuoteStale != "" {
		t.Fatalf("the customer's report: quote %+v, stale %q", cust.Quote, cust.QuoteStale)
	}

	// Ending the visit as declined needs a declined quote on its report.
	end := map[string]any{"end_reason": fieldsync.EndQuoteDeclined, "report_id": r1}
	if res := tab.push(t, tab.mutation("visit", v.ID, "action", "complete", end))[0]; res.Status != "rejected" || !strings.Contains(res.Detail, "not declined") {
		t.Fatalf("ending on a pending quote: %+v", res)
	}
	declined, err := quote.Decide(q, false, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, code, detail := set(r1, declined); status != "applied" {
		t.Fatalf("declining: %s %s %q", status, code, detail)
	}
	if res := tab.push(t, tab.mutation("visit", v.ID, "action", "complete", map[string]any{"end_reason": "bored", "report_id": r1}))[0]; res.Status != "rejected" || res.Code != fieldsync.EInvalid {
		t.Fatalf("an unknown end reason: %+v", res)
	}
	if res := tab.push(t, tab.mutation("visit", v.ID, "action", "complete", end))[0]; res.Status != "applied" {
		t.Fatalf("ending on a declined quote: %+v", res)
	}
	var visit fieldsync.Visit
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &visit)
	if visit.Status != fieldsync.VisitCompleted || visit.EndReason != fieldsync.EndQuoteDeclined {
		t.Fatalf("visit %s, end_reason %q", visit.Status, visit.EndReason)
	}
}
