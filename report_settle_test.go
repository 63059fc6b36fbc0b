package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSettleWarranty(t *testing.T) {
	at := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	disputed := func() Report {
		return Report{
			ID: "r1", Status: ReportSealed,
			Warranty:         &ReportWarranty{Decision: json.RawMessage(`{"outcome":"exchange","options":["exchange","refund","repair"]}`)},
			WarrantyServer:   &WarrantyCheck{Decision: json.RawMessage(`{"outcome":"free_repair","options":["free_repair"]}`)},
			WarrantyDisputed: true,
		}
	}
	tests := []struct {
		name    string
		change  func(*Report)
		outcome string
		code    string
		detail  string
	}{
		{"the device's outcome", nil, "exchange", "", ""},
		{"another of the device's options", nil, "refund", "", ""},
		{"the server's outcome", nil, "free_repair", "", ""},
		{"an outcome neither offered", nil, "paid_repair", EInvalid, `"paid_repair" is not an option of the device's or the server's decision: exchange, refund, repair, free_repair`},
		{"the server could not decide: the device's options only", func(r *Report) { r.WarrantyServer = &WarrantyCheck{Error: "no asset"} }, "free_repair", EInvalid, "exchange, refund, repair"},
		{"settled already", func(r *Report) {
			r.WarrantyDisputed = false
			r.WarrantySettled = &WarrantySettlement{Outcome: "exchange", By: "disp", At: at}
		}, "exchange", EWarrantySettled, "settled already: exchange, by disp"},
		{"not disputed", func(r *Report) { r.WarrantyDisputed, r.WarrantyServer = false, nil }, "exchange", EInvalidTransition, "not disputed"},
		{"a draft", func(r *Report) { r.Status = ReportDraft }, "exchange", EInvalidTransition, "is a draft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := disputed()
			if tt.change != nil {
				tt.change(&r)
			}
			before := r.Clone()
			err := r.SettleWarranty(tt.outcome, " 顾客同意换机 ", "disp", at)
			if tt.code != "" {
				if ErrorCode(err) != tt.code || !strings.Contains(ErrorDetail(err), tt.detail) {
					t.Fatalf("err = %v, want %s naming %q", err, tt.code, tt.detail)
				}
				if r.WarrantyDisputed != before.WarrantyDisputed || r.WarrantySettled != before.WarrantySettled {
					t.Fatalf("a refused settlement changed the report: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := WarrantySettlement{Outcome: tt.outcome, Note: "顾客同意换机", By: "disp", At: at}
			if r.WarrantyDisputed || r.WarrantySettled == nil || *r.WarrantySettled != want {
				t.Fatalf("settled: disputed %v, %+v", r.WarrantyDisputed, r.WarrantySettled)
			}
			if string(r.Warranty.Decision) != string(before.Warranty.Decision) || string(r.WarrantyServer.Decision) != string(before.WarrantyServer.Decision) {
				t.Fatal("settling changed the device's or the server's decision")
			}
			c := r.ForCustomer()
			if c.WarrantySettled == nil || c.WarrantySettled.Outcome != tt.outcome || c.WarrantySettled.By != "" || r.WarrantySettled.By != "disp" {
				t.Fatalf("the customer's view: %+v (the report's %+v)", c.WarrantySettled, r.WarrantySettled)
			}
		})
	}
}
