package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseReportWork(t *testing.T) {
	long := strings.Repeat("x", MaxShortText+1)
	many := "[" + strings.Repeat(`{"part":"cable","qty":1},`, MaxWorkLines) + `{"part":"cable","qty":1}]`
	for _, c := range []struct {
		raw, detail string
	}{
		{`{"part":"battery"}`, "work must be a list"},
		{`null`, "work must be a list"},
		{`[{"part":"panel","qty":1}]`, "work[0].part"},
		{`[{"part":"battery","qty":0}]`, "work[0].qty"},
		{`[{"part":"battery","qty":1},{"part":"cable","qty":100}]`, "work[1].qty"},
		{`[{"part":"battery","qty":1,"code":"a b"}]`, "work[0].code"},
		{`[{"part":"battery","qty":1,"note":"` + long + `"}]`, "work[0].note"},
		{`[{"part":"battery","qty":1,"price":3}]`, "work must be a list"},
		{many, "at most 32 lines"},
	} {
		_, err := ParseReportWork(json.RawMessage(c.raw))
		if ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), c.detail) {
			t.Errorf("%.60s: %v, want invalid naming %q", c.raw, err, c.detail)
		}
	}
	lines, err := ParseReportWork(json.RawMessage(`[{"part":"battery","code":"BAT-01","qty":1,"note":"更换电池"}]`))
	if err != nil || len(lines) != 1 || lines[0] != (WorkLine{Part: "battery", Code: "BAT-01", Qty: 1, Note: "更换电池"}) {
		t.Errorf("ParseReportWork = %v, %v", lines, err)
	}
}

func TestSetFieldsWork(t *testing.T) {
	r := &Report{ID: "r1", Status: ReportDraft}
	always := func(string) bool { return true }
	changed, err := r.SetFields(map[string]json.RawMessage{"work": json.RawMessage(`[{"part":"charger","qty":2}]`)}, nil, always)
	if err != nil || len(r.Work) != 1 || r.Work[0].Qty != 2 || changed["work"] == nil || r.Extra != nil {
		t.Fatalf("SetFields work: %v, %+v, extra %v", err, r.Work, r.Extra)
	}
	if c := r.Clone(); &c.Work[0] == &r.Work[0] {
		t.Error("Clone shares the work lines")
	}
	if _, err := r.SetFields(map[string]json.RawMessage{"work": json.RawMessage(`[]`)}, nil, always); err != nil || len(r.Work) != 0 {
		t.Errorf("clearing work: %v, %+v", err, r.Work)
	}
}

func TestNewWorkOrder(t *testing.T) {
	done := time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)
	v := &Visit{ID: "v1", TicketID: "t1", FinishedAt: &done}
	tk := &Ticket{ID: "t1", CustomerID: "c1", AssetID: "a1"}
	r := &Report{ID: "r1", SlipNo: "K7QM-2026-000001", Work: []WorkLine{{Part: "battery", Qty: 1}, {Part: "battery", Qty: 1}, {Part: "cable", Qty: 1}},
		Warranty: &ReportWarranty{Decision: json.RawMessage(`{"outcome":"free_repair"}`)}}
	w := NewWorkOrder("w1", v, tk, r)
	if w.Outcome != "free_repair" || !w.FreeRemedy() || w.AssetID != "a1" || w.CustomerID != "c1" || w.SlipNo != r.SlipNo || len(w.RepairedParts()) != 2 {
		t.Errorf("work order %+v", w)
	}
	if NewWorkOrder("w2", v, tk, &Report{ID: "r2"}) != nil {
		t.Error("a report without work makes a work order")
	}
}
