package quote_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
)

// invalid fails t unless err is EInvalid with a detail containing want.
func invalid(t *testing.T, err error, want string) {
	t.Helper()
	var fe *fieldsync.Error
	if !errors.As(err, &fe) || fe.Code != fieldsync.EInvalid || !strings.Contains(fe.Error(), want) {
		t.Fatalf("got %v, want EInvalid naming %q", err, want)
	}
}

func TestDefaultList(t *testing.T) {
	l, err := quote.Parse(quote.DefaultSource())
	if err != nil {
		t.Fatal(err)
	}
	if l.Currency != "CNY" || l.Version == "" || len(l.Parts) == 0 || len(l.Labour) == 0 {
		t.Fatalf("default list %+v", l)
	}
}

func TestParseRefuses(t *testing.T) {
	base := `{"version":"v1","currency":"CNY","callout_fen":5000,"labour":[{"code":"diagnose","name":{"zh-CN":"检测","en":"diagnosis"},"price_fen":3000}],"parts":[{"code":"tv-psu","name":{"zh-CN":"电源板","en":"psu"},"category":"tv","price_fen":%s}]}`
	ok := strings.Replace(base, "%s", "1", 1)
	for _, c := range []struct{ data, want string }{
		{strings.Replace(base, "%s", "18000.5", 1), "parts.price_fen: must be int64"},
		{strings.Replace(base, "%s", "-1", 1), "parts[0].price_fen: must not be negative"},
		{strings.Replace(base, "%s", `"180"`, 1), "parts.price_fen"},
		{strings.Replace(ok, `"callout_fen":5000`, `"callout_fen":-5`, 1), "callout_fen"},
		{strings.Replace(ok, `"callout_fen":5000`, `"callout_fen":50.5`, 1), "callout_fen"},
		{strings.Replace(ok, `"currency":"CNY"`, `"currency":"USD"`, 1), "currency"},
		{strings.Replace(ok, `"version":"v1"`, `"version":""`, 1), "version"},
		{strings.Replace(ok, `"callout_fen":5000`, `"callout_fen":5000,"vat":13`, 1), `unknown field "vat"`},
		{strings.Replace(strings.Replace(base, "%s", "1", 1), `"code":"tv-psu"`, `"code":"diagnose"`, 1), "parts[0].code"},
		{strings.Replace(strings.Replace(base, "%s", "1", 1), `"category":"tv",`, ``, 1), "parts[0].category"},
		{strings.Replace(base, "%s", "1", 1) + "{}", "more than one"},
	} {
		_, err := quote.Parse([]byte(c.data))
		invalid(t, err, c.want)
	}
}

func list(t *testing.T) quote.PriceList {
	t.Helper()
	l := quote.Default()
	l.Version, l.CalloutFen = "test-1", 5000
	l.Labour = []quote.Labour{{Code: "diagnose", Name: quote.Names{ZhCN: "检测", En: "diagnosis"}, PriceFen: 3000}}
	l.Parts = []quote.Part{
		{Code: "tv-psu", Name: quote.Names{ZhCN: "电源板", En: "power supply board"}, Category: "tv", PriceFen: 18001},
		{Code: "huge", Name: quote.Names{ZhCN: "大", En: "huge"}, Category: "tv", PriceFen: math.MaxInt64 / 2},
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestBuild(t *testing.T) {
	l := list(t)
	q, err := quote.Build(l, []quote.Item{{Kind: quote.KindCallout, Code: "callout", Qty: 1}, {Kind: quote.KindLabour, Code: "diagnose", Qty: 2}, {Kind: quote.KindPart, Code: "tv-psu", Qty: 3}})
	if err != nil {
		t.Fatal(err)
	}
	// Integer fen: 3 × 180.01 yuan is exactly 540.03, no rounding.
	want := []int64{5000, 6000, 54003}
	for i, ln := range q.Lines {
		if ln.TotalFen != want[i] {
			t.Errorf("line %d is %d fen, want %d", i, ln.TotalFen, want[i])
		}
	}
	if q.TotalFen != 65003 || q.Decision != quote.Pending || q.PriceListVersion != "test-1" || q.Currency != "CNY" {
		t.Fatalf("quote %+v", q)
	}
	if q.Lines[2].Name.ZhCN != "电源板" {
		t.Errorf("part line named %+v", q.Lines[2].Name)
	}
	if err := quote.Validate(q, l); err != nil {
		t.Fatalf("a built quote does not validate: %v", err)
	}
}

func TestBuildRefuses(t *testing.T) {
	l := list(t)
	for _, c := range []struct {
		items []quote.Item
		want  string
	}{
		{nil, "items: 0 items"},
		{[]quote.Item{{Kind: quote.KindPart, Code: "tv-psu", Qty: 1}, {Kind: quote.KindPart, Code: "tv-backlight", Qty: 1}}, `items[1].code: price list test-1 has no part "tv-backlight"`},
		{[]quote.Item{{Kind: quote.KindLabour, Code: "tv-psu", Qty: 1}}, `items[0].code: price list test-1 has no labour "tv-psu"`},
		{[]quote.Item{{Kind: "discount", Code: "x", Qty: 1}}, "items[0].kind"},
		{[]quote.Item{{Kind: quote.KindCallout, Code: "callout", Qty: 2}}, "items[0].qty: 2 is outside 1..1"},
		{[]quote.Item{{Kind: quote.KindCallout, Code: "far", Qty: 1}}, "items[0].code"},
		{[]quote.Item{{Kind: quote.KindPart, Code: "tv-psu", Qty: 0}}, "items[0].qty: 0 is outside 1..999"},
		{[]quote.Item{{Kind: quote.KindPart, Code: "tv-psu", Qty: -3}}, "items[0].qty"},
		{[]quote.Item{{Kind: quote.KindPart, Code: "tv-psu", Qty: 1000}}, "items[0].qty: 1000"},
		{[]quote.Item{{Kind: quote.KindPart, Code: "huge", Qty: 3}}, "items[0]: 4611686018427387903 × 3 fen overflows"},
		{[]quote.Item{{Kind: quote.KindPart, Code: "huge", Qty: 2}, {Kind: quote.KindPart, Code: "tv-psu", Qty: 1}}, "items[1]: the total overflows"},
		{make([]quote.Item, quote.MaxLines+1), "items: 101 items"},
	} {
		_, err := quote.Build(l, c.items)
		invalid(t, err, c.want)
	}
}

func TestValidateRefusesTampering(t *testing.T) {
	l := list(t)
	built, err := quote.Build(l, []quote.Item{{Kind: quote.KindCallout, Code: "callout", Qty: 1}, {Kind: quote.KindPart, Code: "tv-psu", Qty: 2}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		tamper func(q *quote.Quote)
		want   string
	}{
		{func(q *quote.Quote) { q.TotalFen-- }, "total_fen: 41001, but the lines add up to 41002"},
		{func(q *quote.Quote) { q.Lines[1].TotalFen = 100 }, "lines[1].total_fen: 100, but 2 × 18001 is 36002"},
		{func(q *quote.Quote) { q.Lines[1].UnitFen = 1; q.Lines[1].TotalFen = 2; q.TotalFen = 5002 }, "lines[1].unit_fen: 1, but price list test-1 has 18001"},
		{func(q *quote.Quote) { q.Lines[0].Qty = 2 }, "lines[0].qty"},
		{func(q *quote.Quote) { q.Lines[1].Code = "tv-board" }, `lines[1].code: price list test-1 has no part "tv-board"`},
		{func(q *quote.Quote) { q.Lines[1].Name.En = "cheap board" }, "lines[1].name"},
		{func(q *quote.Quote) { q.PriceListVersion = "test-0" }, `price_list_version: "test-0" is not the price list in force`},
		{func(q *quote.Quote) { q.Currency = "USD" }, "currency"},
		{func(q *quote.Quote) { q.Lines = nil }, "lines: 0 lines"},
		{func(q *quote.Quote) { q.Decision = "maybe" }, "decision"},
		{func(q *quote.Quote) { q.Decision = quote.Accepted }, "decided_at: is missing"},
		{func(q *quote.Quote) { q.DecidedAt = &at }, "decided_at: a pending quote"},
	} {
		q := built
		q.Lines = append([]quote.Line(nil), built.Lines...)
		c.tamper(&q)
		invalid(t, quote.Validate(q, l), c.want)
	}
}

func TestDecide(t *testing.T) {
	l := list(t)
	q, err := quote.Build(l, []quote.Item{{Kind: quote.KindCallout, Code: "callout", Qty: 1}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	d, err := quote.Decide(q, false, at)
	if err != nil {
		t.Fatal(err)
	}
	if d.Decision != quote.Declined || d.DecidedAt == nil || !d.DecidedAt.Equal(at) || q.Decision != quote.Pending {
		t.Fatalf("declined %+v from %+v", d, q)
	}
	if err := quote.Validate(d, l); err != nil {
		t.Fatal(err)
	}
	var fe *fieldsync.Error
	if _, err := quote.Decide(d, true, at); !errors.As(err, &fe) || fe.Code != fieldsync.EConflict {
		t.Fatalf("deciding twice: %v, want EConflict", err)
	}
}
