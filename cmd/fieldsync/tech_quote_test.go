package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/quote"
)

func TestQuoteItemReadsCodesAndQuantities(t *testing.T) {
	l := quote.Default()
	l.Parts = append(l.Parts, quote.Part{Code: "box2", Name: quote.Names{ZhCN: "箱", En: "box"}, Category: "tv", PriceFen: 1})
	for s, want := range map[string]quote.Item{
		"callout":               {Kind: quote.KindCallout, Code: "callout", Qty: 1},
		"part:tv-psu":           {Kind: quote.KindPart, Code: "tv-psu", Qty: 1},
		"part:tv-psux2":         {Kind: quote.KindPart, Code: "tv-psu", Qty: 2},
		"labour:repair_30minx3": {Kind: quote.KindLabour, Code: "repair_30min", Qty: 3},
		"part:box2":             {Kind: quote.KindPart, Code: "box2", Qty: 1},
		"part:box2x2":           {Kind: quote.KindPart, Code: "box2", Qty: 2},
	} {
		if got, err := quoteItem(l, s); err != nil || got != want {
			t.Errorf("quoteItem(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for s, detail := range map[string]string{
		"part:tv-backlight": `no part "tv-backlight"; its part codes: tv-psu, tv-mainboard`,
		"labour:nap":        `no labour "nap"; its labour codes: diagnose, repair_30min`,
		"gift:tv-psu":       "is not an item",
		"part:":             "is not an item",
		"tv-psu":            "is not an item",
	} {
		if _, err := quoteItem(l, s); err == nil || !strings.Contains(err.Error(), detail) {
			t.Errorf("quoteItem(%q) = %v, want an error naming %q", s, err, detail)
		}
	}
}

// A quote priced and declined offline on the command line: the lines and
// total in yuan, the decline ending the visit, and after sync the
// dispatcher sees both.
func TestTechQuoteOfflineThenDeclined(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	visit := ""
	for _, line := range strings.Split(mustTech(t, db, "visits"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "scheduled" {
			visit = f[0]
		}
	}
	if visit == "" {
		t.Fatal("tech.li has no scheduled visit")
	}
	stop(t, p)
	mustTech(t, db, "depart", visit)
	mustTech(t, db, "arrive", visit)
	if out, err := techCLI(t, db, "", "quote", visit, "part:tv-backlight"); err == nil || !strings.Contains(err.Error(), `no part "tv-backlight"`) || !strings.Contains(err.Error(), "tv-psu") {
		t.Fatalf("an unknown part: %v\n%s", err, out)
	}
	if out, err := techCLI(t, db, "", "quote", visit, "--accept", "callout"); err == nil || !strings.Contains(err.Error(), "quote takes") {
		t.Fatalf("items with --accept: %v\n%s", err, out)
	}
	out := mustTech(t, db, "quote", visit, "callout", "part:tv-psux2", "labour:diagnose")
	for _, want := range []string{"电源板 power supply board", "2 ×", "¥180.00", "¥360.00", "¥50.00", "total", "¥440.00", "pending the customer's decision"} {
		if !strings.Contains(out, want) {
			t.Fatalf("tech quote lacks %q:\n%s", want, out)
		}
	}
	if out := mustTech(t, db, "quote", visit, "--decline", "--reason", "too dear"); !strings.Contains(out, "¥440.00 declined") || !strings.Contains(out, "visit completed") {
		t.Fatalf("tech quote --decline:\n%s", out)
	}
	completed := false
	for _, line := range strings.Split(mustTech(t, db, "visits", "--all"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == visit {
			completed = f[1] == "completed"
		}
	}
	if !completed {
		t.Fatalf("the visit is not completed after the decline:\n%s", mustTech(t, db, "visits", "--all"))
	}

	p = serveProcessAt(t, dir, addr)
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "refused 0") {
		t.Fatalf("sync:\n%s", out)
	}
	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var detail struct {
		Status    string
		EndReason string `json:"end_reason"`
		Reports   []struct {
			Quote *struct {
				Decision string
				Reason   string
				TotalFen int64 `json:"total_fen"`
			}
		}
	}
	getJSON(t, p, dispatcher, "/v1/visits/"+visit, &detail)
	if detail.Status != "completed" || detail.EndReason != "quote_declined" || len(detail.Reports) != 1 || detail.Reports[0].Quote == nil ||
		detail.Reports[0].Quote.Decision != "declined" || detail.Reports[0].Quote.Reason != "too dear" || detail.Reports[0].Quote.TotalFen != 44000 {
		t.Fatalf("the dispatcher sees %+v", detail)
	}
}
