package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/warranty"
)

func TestWarrantyDecide(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "tech", fieldsync.RoleTechnician)
	ts.user(t, "disp", fieldsync.RoleDispatcher)
	ts.user(t, "cust", fieldsync.RoleCustomer)
	tech := ts.login(t, "tech", "dev-tech").AccessToken
	disp := ts.login(t, "disp", "dev-disp").AccessToken
	cust := ts.login(t, "cust", "dev-cust").AccessToken

	tv := map[string]any{
		"category": "tv", "invoice_date": "2026-03-02", "visit_date": "2026-03-22",
		"responsibility": "quality", "failed_part": "unit",
		"checks": map[string]any{"unworn": true, "labels_intact": true, "serial_intact": true, "missing_accessories": []string{"remote"}},
	}
	res, body := ts.do(t, "POST", "/v1/warranty/decide", tech, tv)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("decide: %d %s", res.StatusCode, body)
	}
	var d warranty.Decision
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Outcome != warranty.Exchange || !slices.Equal(d.Options, []warranty.Outcome{warranty.Exchange, warranty.FreeRepair, warranty.PaidRepair}) || !slices.Equal(d.Deductions, []string{"remote"}) {
		t.Errorf("decision %s", body)
	}
	want := warranty.Line{Rule: warranty.RuleExchange, Text: warranty.Text{ZH: "发票日期 2026-03-02，已 20 天：30 天包换适用", EN: "invoice 2026-03-02, 20 days ago: the 30-day exchange applies"}}
	if !slices.Contains(d.Explanation, want) {
		t.Errorf("explanation lacks %+v: %s", want, body)
	}

	// A phone damaged by its owner, with an earlier repair, as a
	// dispatcher on the hotline asks.
	phone := map[string]any{
		"category": "phone", "receipt_date": "2026-03-01", "visit_date": "2026-03-11",
		"responsibility": "customer_damage", "failed_part": "unit",
		"repairs": []map[string]any{{"date": "2026-03-05", "under_warranty": true}},
	}
	res, body = ts.do(t, "POST", "/v1/warranty/decide", disp, phone)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"outcome":"paid_repair"`) {
		t.Fatalf("damaged phone: %d %s", res.StatusCode, body)
	}

	res, body = ts.do(t, "POST", "/v1/warranty/decide", cust, tv)
	wantProblem(t, res, body, http.StatusForbidden, "forbidden")

	for _, tt := range []struct {
		name, field string
		value       any
		detail      string
	}{
		{"a date that is not YYYY-MM-DD", "invoice_date", "2026/03/02", "invoice_date"},
		{"an impossible date", "visit_date", "2026-02-30", "visit_date"},
		{"a bad repair date", "repairs", []map[string]any{{"date": "yesterday"}}, "repairs[0].date"},
		{"an unknown category", "category", "car", `category: unknown category "car" (valid: appliance, furniture, phone, tv)`},
		{"an unknown part", "failed_part", "engine", `failed_part: unknown part "engine" for category tv (valid: unit, major)`},
		{"an unknown responsibility", "responsibility", "fate", "responsibility"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := map[string]any{}
			for k, v := range tv {
				req[k] = v
			}
			req[tt.field] = tt.value
			res, body := ts.do(t, "POST", "/v1/warranty/decide", tech, req)
			p := wantProblem(t, res, body, http.StatusBadRequest, "invalid")
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q does not name %q", p.Detail, tt.detail)
			}
		})
	}
	res, body = ts.do(t, "POST", "/v1/warranty/decide", tech, map[string]any{"category": "tv", "colour": "black"})
	wantProblem(t, res, body, http.StatusBadRequest, "bad_json")
}
