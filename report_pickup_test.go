package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
)

const testPickup = `{"kind":"return","category":"tv","accessories":[{"accessory":"box","present":true},{"accessory":"remote","present":false},{"accessory":"stand","present":false}],` +
	`"deductions":[{"accessory":"remote","fen":3500},{"accessory":"stand","fen":8000}],"total_fen":11500,"price_list_version":"placeholder-2026-1","collected_at":"2026-03-12T09:30:00Z"}`

func TestReportSetFieldsKeepsThePickupSlip(t *testing.T) {
	r := reportIn(ReportDraft)
	changed, err := r.SetFields(map[string]json.RawMessage{"pickup": json.RawMessage(testPickup)}, nil, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := changed["pickup"]; !ok || r.Pickup == nil || r.Pickup.TotalFen != 11500 || len(r.Extra) != 0 {
		t.Fatalf("changed %v, pickup %+v, extra %v", changed, r.Pickup, r.Extra)
	}
	if m := r.Pickup.Missing(); strings.Join(m, ",") != "remote,stand" {
		t.Errorf("missing %v", m)
	}
	c := r.Clone()
	c.Pickup.Deductions[0].Fen = 1
	if r.Pickup.Deductions[0].Fen != 3500 {
		t.Error("a clone shares the deductions")
	}
}

func TestParseReportPickupRefuses(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"an unknown kind", `"kind":"return"`, `"kind":"repair"`, `pickup.kind: "repair" is not return or exchange`},
		{"no category", `"category":"tv"`, `"category":""`, "pickup.category"},
		{"an accessory checked twice", `{"accessory":"box","present":true}`, `{"accessory":"stand","present":true}`, `pickup.accessories[2]: "stand" is checked twice`},
		{"a deduction short", `{"accessory":"remote","fen":3500},`, ``, "pickup.deductions: 1, but the check finds 2 accessories missing"},
		{"a deduction for a present accessory", `"accessory":"remote","fen"`, `"accessory":"box","fen"`, `pickup.deductions[0].accessory: "box", but the missing accessory there is "remote"`},
		{"a negative deduction", `"fen":3500`, `"fen":-3500`, "pickup.deductions[0].fen: must not be negative"},
		{"a wrong total", `"total_fen":11500`, `"total_fen":11000`, "pickup.total_fen: 11000, but the deductions add up to 11500"},
		{"no price list version", `"price_list_version":"placeholder-2026-1"`, `"price_list_version":""`, "pickup.price_list_version"},
		{"a local collection time", `"2026-03-12T09:30:00Z"`, `"2026-03-12T17:30:00+08:00"`, "pickup.collected_at"},
		{"a fraction of a second", `"2026-03-12T09:30:00Z"`, `"2026-03-12T09:30:00.5Z"`, "pickup.collected_at"},
		{"an unknown member", `"kind":"return"`, `"kind":"return","refund_fen":1`, "pickup must be an object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := strings.Replace(testPickup, c.from, c.to, 1)
			if raw == testPickup {
				t.Fatalf("%q not in the slip", c.from)
			}
			_, err := ParseReportPickup(json.RawMessage(raw))
			if ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), c.want) {
				t.Fatalf("got %v, want EInvalid naming %q", err, c.want)
			}
		})
	}
}
