package clientsdk

import (
	"context"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// A tablet prices paid work offline on the price list the real server
// published and the tablet pulled: the same lines and total as the server
// computes, and a quote the server's check accepts.
func TestE2EPriceQuoteOfflineFromThePulledList(t *testing.T) {
	w := newE2EWorld(t)
	tb := w.tablet(t, "tab-a")
	tb.login(t, e2eTechA)
	tb.sync(t)
	items := []quote.Item{{Kind: quote.KindCallout, Code: quote.CalloutCode, Qty: 1}, {Kind: quote.KindLabour, Code: "diagnose", Qty: 1}, {Kind: quote.KindPart, Code: "tv-psu", Qty: 2}}
	// Not published yet: the device says so rather than pricing on nothing.
	if _, err := tb.c.PriceQuote(items); fieldsync.ErrorCode(err) != fieldsync.ENotFound || !strings.Contains(err.Error(), "sync first") {
		t.Fatalf("without the price list: %v", err)
	}

	if err := w.store.PublishReference(context.Background(), []bolt.Reference{{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: quote.DefaultSource()}}); err != nil {
		t.Fatal(err)
	}
	tb.sync(t)
	tb.offline(true)
	got, err := tb.c.PriceQuote(items)
	if err != nil {
		t.Fatal(err)
	}
	want, err := quote.Build(quote.Default(), items)
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalFen != want.TotalFen || len(got.Lines) != 3 || got.PriceListVersion != quote.Default().Version || got.Decision != quote.Pending {
		t.Fatalf("priced offline %+v, want %+v", got, want)
	}
	if err := quote.Validate(got, quote.Default()); err != nil {
		t.Fatalf("the server's check refuses the tablet's quote: %v", err)
	}
	if _, err := tb.c.PriceQuote([]quote.Item{{Kind: quote.KindPart, Code: "tv-backlight", Qty: 1}}); fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(err.Error(), `items[0].code`) {
		t.Fatalf("an unknown part: %v", err)
	}
}

// quoteTablet has tech A, on a server that publishes the shipped price
// list, arrive at the world's visit offline with a report filled in.
func quoteTablet(t *testing.T) (*e2eWorld, *tablet, string) {
	t.Helper()
	w := newE2EWorld(t)
	must(t, w.store.PublishReference(t.Context(), []bolt.Reference{{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: quote.DefaultSource()}}))
	tb := w.tablet(t, "tab-a")
	tb.login(t, e2eTechA)
	tb.sync(t)
	tb.offline(true)
	must(t, tb.c.Depart(w.visit))
	must(t, tb.c.Arrive(w.visit))
	report, err := tb.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	e2eAnswers(t, tb.c, report)
	return w, tb, report
}

var quoteItems = []quote.Item{{Kind: quote.KindCallout, Code: quote.CalloutCode, Qty: 1}, {Kind: quote.KindPart, Code: "tv-psu", Qty: 2}}

// Priced, accepted and signed offline: the report is not signed while
// the quote is pending, the server takes the quote as priced, and the
// sealed report's signature covers it.
func TestE2EQuoteAcceptedSignedAndSealed(t *testing.T) {
	w, tb, report := quoteTablet(t)
	q, err := tb.c.SetQuote(report, quoteItems)
	must(t, err)
	if q.TotalFen != 41000 || q.Decision != quote.Pending {
		t.Fatalf("quote %+v", q)
	}
	if err := tb.c.CheckSign(report, noPhotos("tv-v1")); fieldsync.ErrorCode(err) != fieldsync.EReportIncomplete || !strings.Contains(err.Error(), "accept or decline") {
		t.Fatalf("signing a pending quote: %v", err)
	}
	if _, err := tb.c.AcceptQuote(report); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.c.DeclineQuote(report, ""); fieldsync.ErrorCode(err) != fieldsync.EConflict {
		t.Fatalf("declining an accepted quote: %v", err)
	}
	must(t, tb.c.SignReport(report, noPhotos("tv-v1")))
	tb.offline(false)
	if rep := tb.sync(t); rep.Refused != 0 || rep.Applied != rep.Pushed {
		t.Fatalf("sync: %+v", rep)
	}
	got := w.dispatcherVisit(w.visit)
	r := got.Reports[0]
	if r.Status != fieldsync.ReportSealed || r.Quote == nil || r.Quote.Decision != fieldsync.QuoteAccepted || r.Quote.TotalFen != 41000 || r.QuoteStale != "" {
		t.Fatalf("the dispatcher sees %s, quote %+v, stale %q", r.Status, r.Quote, r.QuoteStale)
	}
	b, err := tb.c.Bundle(w.visit)
	must(t, err)
	s, err := canon.SigningOf(r.Signature, r.SignedPhotos)
	must(t, err)
	doc, err := canon.Build(&r, &got.Visit, &b.Ticket, &b.Asset, s)
	must(t, err)
	if h, _ := doc.Hash(); doc.Quote == nil || h != r.Signature.Hash {
		t.Fatalf("the document with the quote hashes %s, the signature %s", h, r.Signature.Hash)
	}
	r.Quote.TotalFen, r.Quote.Lines[1].Qty, r.Quote.Lines[1].TotalFen = 23000, 1, 18000
	doc, err = canon.Build(&r, &got.Visit, &b.Ticket, &b.Asset, s)
	must(t, err)
	if h, _ := doc.Hash(); h == r.Signature.Hash {
		t.Fatal("another price hashes as the signed one")
	}
}

// Declined offline with one call: the visit ends completed with the
// reason recorded, on the tablet at once and on the server after sync.
func TestE2EQuoteDeclinedEndsTheVisit(t *testing.T) {
	w, tb, report := quoteTablet(t)
	if _, err := tb.c.DeclineQuoteAndEnd(report, "too dear"); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("declining without a quote: %v", err)
	}
	_, err := tb.c.SetQuote(report, quoteItems)
	must(t, err)
	q, err := tb.c.DeclineQuoteAndEnd(report, "too dear")
	must(t, err)
	if q.Decision != quote.Declined || q.DecidedAt == nil {
		t.Fatalf("quote %+v", q)
	}
	vs, err := tb.c.Visits()
	must(t, err)
	if vs[0].Status != fieldsync.VisitCompleted || vs[0].EndReason != fieldsync.EndQuoteDeclined {
		t.Fatalf("the tablet's visit: %s %q", vs[0].Status, vs[0].EndReason)
	}
	tb.offline(false)
	if rep := tb.sync(t); rep.Refused != 0 || rep.Applied != rep.Pushed {
		t.Fatalf("sync: %+v", rep)
	}
	got := w.dispatcherVisit(w.visit)
	if got.Status != fieldsync.VisitCompleted || got.EndReason != fieldsync.EndQuoteDeclined {
		t.Fatalf("the server's visit: %s %q", got.Status, got.EndReason)
	}
	if r := got.Reports[0]; r.Quote == nil || r.Quote.Decision != fieldsync.QuoteDeclined || r.Quote.Reason != "too dear" {
		t.Fatalf("the server's report: %+v", r.Quote)
	}
}
