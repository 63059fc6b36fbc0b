package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const testQuote = `{"price_list_version":"v1","currency":"CNY","lines":[` +
	`{"kind":"callout","code":"callout","name":{"zh-CN":"上门费","en":"call-out fee"},"qty":1,"unit_fen":5000,"total_fen":5000},` +
	`{"kind":"part","code":"tv-psu","name":{"zh-CN":"电源板","en":"power supply board"},"qty":2,"unit_fen":18000,"total_fen":36000}],` +
	`"total_fen":41000,"decision":"pending"}`

func TestReportSetFieldsKeepsTheQuote(t *testing.T) {
	r := reportIn(ReportDraft)
	changed, err := r.SetFields(map[string]json.RawMessage{"quote": json.RawMessage(testQuote)}, nil, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := changed["quote"]; !ok || r.Quote == nil || r.Quote.TotalFen != 41000 || len(r.Extra) != 0 {
		t.Fatalf("changed %v, quote %+v, extra %v", changed, r.Quote, r.Extra)
	}
	c := r.Clone()
	c.Quote.Lines[0].Qty = 7
	if r.Quote.Lines[0].Qty != 1 {
		t.Error("a clone shares the quote's lines")
	}
}

func TestParseReportQuoteRefusesOtherShapes(t *testing.T) {
	decided := strings.Replace(testQuote, `"decision":"pending"`, `"decision":"declined","decided_at":"2026-03-10T08:00:00Z"`, 1)
	for name, c := range map[string]struct{ raw, detail string }{
		"not an object":        {`"41000"`, "quote must be"},
		"an unknown member":    {strings.Replace(testQuote, `"currency"`, `"discount":1,"currency"`, 1), "quote must be"},
		"a fractional amount":  {strings.Replace(testQuote, `"unit_fen":5000`, `"unit_fen":50.5`, 1), "quote must be"},
		"an exponent amount":   {strings.Replace(testQuote, `"total_fen":41000`, `"total_fen":4.1e4`, 1), "quote must be"},
		"no version":           {strings.Replace(testQuote, `"v1"`, `""`, 1), "quote.price_list_version"},
		"another currency":     {strings.Replace(testQuote, `CNY`, `USD`, 1), "quote.currency"},
		"no lines":             {`{"price_list_version":"v1","currency":"CNY","lines":[],"total_fen":0,"decision":"pending"}`, "quote.lines"},
		"an unknown kind":      {strings.Replace(testQuote, `"kind":"part"`, `"kind":"gift"`, 1), "quote.lines[1].kind"},
		"a callout code":       {strings.Replace(testQuote, `"kind":"callout","code":"callout"`, `"kind":"callout","code":"visit"`, 1), "quote.lines[0].code"},
		"a bad code":           {strings.Replace(testQuote, `"tv-psu"`, `"TV PSU"`, 1), "quote.lines[1].code"},
		"no English name":      {strings.Replace(testQuote, `"en":"power supply board"`, `"en":""`, 1), "quote.lines[1].name"},
		"qty zero":             {strings.Replace(testQuote, `"qty":2,"unit_fen":18000,"total_fen":36000`, `"qty":0,"unit_fen":18000,"total_fen":0`, 1), "quote.lines[1].qty"},
		"qty over the bound":   {strings.Replace(testQuote, `"qty":2,"unit_fen":18000,"total_fen":36000`, `"qty":1000,"unit_fen":18000,"total_fen":18000000`, 1), "quote.lines[1].qty"},
		"two call-outs":        {strings.Replace(testQuote, `"qty":1,"unit_fen":5000,"total_fen":5000`, `"qty":2,"unit_fen":5000,"total_fen":10000`, 1), "quote.lines[0].qty"},
		"a negative price":     {strings.Replace(testQuote, `"unit_fen":5000,"total_fen":5000`, `"unit_fen":-5000,"total_fen":-5000`, 1), "quote.lines[0].unit_fen"},
		"a price over bound":   {strings.Replace(testQuote, `"unit_fen":5000,"total_fen":5000`, `"unit_fen":10000000001,"total_fen":10000000001`, 1), "quote.lines[0].unit_fen"},
		"a wrong line total":   {strings.Replace(testQuote, `"total_fen":36000`, `"total_fen":36001`, 1), "quote.lines[1].total_fen"},
		"a wrong total":        {strings.Replace(testQuote, `"total_fen":41000`, `"total_fen":40000`, 1), "quote.total_fen"},
		"an unknown decision":  {strings.Replace(testQuote, `"pending"`, `"maybe"`, 1), "quote.decision"},
		"decided without time": {strings.Replace(testQuote, `"pending"`, `"accepted"`, 1), "quote.decided_at"},
		"pending with time":    {strings.Replace(decided, `"declined"`, `"pending"`, 1), "quote.decided_at"},
		"a reason not declined": {strings.Replace(strings.Replace(decided, `"declined"`, `"accepted"`, 1), `"decision"`, `"reason":"too dear","decision"`, 1),
			"quote.reason"},
		"too long": {`{"price_list_version":"` + strings.Repeat("x", MaxQuoteBytes) + `"}`, "at most"},
	} {
		t.Run(name, func(t *testing.T) {
			r := reportIn(ReportDraft)
			_, err := r.SetFields(map[string]json.RawMessage{"quote": json.RawMessage(c.raw)}, nil, func(string) bool { return true })
			if ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), c.detail) || r.Quote != nil {
				t.Errorf("SetFields = %v, quote %+v; want invalid naming %q", err, r.Quote, c.detail)
			}
		})
	}
	for name, raw := range map[string]string{
		"pending":                testQuote,
		"declined with a reason": strings.Replace(decided, `"decision"`, `"reason":"too dear","decision"`, 1),
		"a free line at the bounds": `{"price_list_version":"v1","currency":"CNY","lines":[{"kind":"labour","code":"diagnose","name":{"zh-CN":"检测","en":"diagnosis"},"qty":999,"unit_fen":10000000000,"total_fen":9990000000000},` +
			`{"kind":"part","code":"free","name":{"zh-CN":"赠品","en":"gift"},"qty":1,"unit_fen":0,"total_fen":0}],"total_fen":9990000000000,"decision":"pending"}`,
	} {
		if _, err := ParseReportQuote(json.RawMessage(raw)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSigningWaitsForTheQuoteDecision(t *testing.T) {
	tpl := Template{ID: "tv-v1"}
	r := reportIn(ReportDraft)
	q, err := ParseReportQuote(json.RawMessage(testQuote))
	if err != nil {
		t.Fatal(err)
	}
	r.Quote = &q
	if err := r.CheckSignable(tpl); ErrorCode(err) != EReportIncomplete || !strings.Contains(ErrorDetail(err), "¥410.00") || !strings.Contains(ErrorDetail(err), "accept or decline") {
		t.Fatalf("CheckSignable of a pending quote = %v", err)
	}
	at := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	q.Decision, q.DecidedAt = QuoteAccepted, &at
	if err := r.CheckSignable(tpl); err != nil {
		t.Fatalf("CheckSignable of an accepted quote = %v", err)
	}
}

func TestFormatFen(t *testing.T) {
	for fen, want := range map[int64]string{0: "¥0.00", 5: "¥0.05", 12345: "¥123.45", 100: "¥1.00", -250: "-¥2.50", -9223372036854775808: "-¥92233720368547758.08"} {
		if got := FormatFen(fen); got != want {
			t.Errorf("FormatFen(%d) = %s, want %s", fen, got, want)
		}
	}
}

func TestCheckQuoteEnd(t *testing.T) {
	v := &Visit{ID: "v1"}
	at := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	r := reportIn(ReportDraft)
	if err := CheckQuoteEnd(&r, v); ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), "no quote") {
		t.Errorf("no quote: %v", err)
	}
	r.Quote = &ReportQuote{Decision: QuoteAccepted, DecidedAt: &at}
	if err := CheckQuoteEnd(&r, v); ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), "accepted, not declined") {
		t.Errorf("accepted: %v", err)
	}
	if err := CheckQuoteEnd(&r, &Visit{ID: "v2"}); ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), "report_id") {
		t.Errorf("another visit's report: %v", err)
	}
	r.Quote.Decision = QuoteDeclined
	if err := CheckQuoteEnd(&r, v); err != nil {
		t.Errorf("declined: %v", err)
	}
}
