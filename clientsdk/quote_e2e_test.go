package clientsdk

import (
	"context"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/store/bolt"
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
