package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
)

const testWarranty = `{"question":{"failed_part":"unit","checks":{"unworn":true}},"visit_date":"2026-03-10",` +
	`"decision":{"outcome":"exchange","options":["exchange","free_repair","paid_repair"],"explanation":[{"rule":"exchange","text":{"zh-CN":"换","en":"exchange"}}]}}`

// The warranty field of an edit is the device's decision: kept whole,
// stamped like any field, and only in its shape.
func TestReportSetFieldsKeepsTheWarrantyDecision(t *testing.T) {
	r := reportIn(ReportDraft)
	changed, err := r.SetFields(map[string]json.RawMessage{"warranty": json.RawMessage(testWarranty)}, nil, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := changed["warranty"]; !ok || r.Warranty == nil || r.Warranty.VisitDate != "2026-03-10" || len(r.Extra) != 0 {
		t.Fatalf("changed %v, warranty %+v, extra %v", changed, r.Warranty, r.Extra)
	}
	c := r.Clone()
	c.Warranty.VisitDate = "2026-03-11"
	if r.Warranty.VisitDate != "2026-03-10" {
		t.Error("a clone shares the warranty")
	}
	older := reportIn(ReportDraft)
	if _, err := older.SetFields(map[string]json.RawMessage{"warranty": json.RawMessage(testWarranty)}, nil, func(string) bool { return false }); err != nil || older.Warranty != nil {
		t.Errorf("an older edit set the warranty: %+v, %v", older.Warranty, err)
	}
}

func TestParseReportWarrantyRefusesOtherShapes(t *testing.T) {
	for name, c := range map[string]struct{ raw, detail string }{
		"not an object":           {`"exchange"`, "warranty must be"},
		"an unknown member":       {`{"question":{"failed_part":"unit","checks":{}},"visit_date":"2026-03-10","decision":{},"server":{}}`, "warranty must be"},
		"no failed part":          {strings.Replace(testWarranty, `"failed_part":"unit",`, ``, 1), "warranty.question"},
		"no checks":               {strings.Replace(testWarranty, `,"checks":{"unworn":true}`, ``, 1), "warranty.question"},
		"a bad day":               {strings.Replace(testWarranty, `2026-03-10`, `2026-02-30`, 1), "warranty.visit_date"},
		"no outcome":              {strings.Replace(testWarranty, `"outcome":"exchange",`, ``, 1), "warranty.decision"},
		"no explanation":          {strings.Replace(testWarranty, `[{"rule":"exchange","text":{"zh-CN":"换","en":"exchange"}}]`, `[]`, 1), "warranty.decision"},
		"an unknown decision key": {strings.Replace(testWarranty, `"outcome":`, `"disputed":true,"outcome":`, 1), "warranty.decision"},
		"too long":                {`{"question":"` + strings.Repeat("x", MaxWarrantyBytes) + `"}`, "at most"},
	} {
		t.Run(name, func(t *testing.T) {
			r := reportIn(ReportDraft)
			_, err := r.SetFields(map[string]json.RawMessage{"warranty": json.RawMessage(c.raw)}, nil, func(string) bool { return true })
			if ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), c.detail) || r.Warranty != nil {
				t.Errorf("SetFields = %v, warranty %+v; want invalid naming %q", err, r.Warranty, c.detail)
			}
		})
	}
}

func TestSameWarrantyDecisionComparesOutcomeAndOptions(t *testing.T) {
	a := json.RawMessage(`{"outcome":"exchange","options":["exchange","paid_repair"],"explanation":[{"rule":"exchange"}]}`)
	for _, c := range []struct {
		b    string
		same bool
	}{
		{`{"options":["exchange","paid_repair"],"outcome":"exchange","explanation":[]}`, true},
		{`{"outcome":"free_repair","options":["exchange","paid_repair"]}`, false},
		{`{"outcome":"exchange","options":["exchange","free_repair","paid_repair"]}`, false},
		{`not json`, false},
	} {
		if got := SameWarrantyDecision(a, json.RawMessage(c.b)); got != c.same {
			t.Errorf("SameWarrantyDecision(%s) = %v, want %v", c.b, got, c.same)
		}
	}
}
