package warranty

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
)

func TestDefaultPolicy(t *testing.T) {
	p, err := ParsePolicy(DefaultSource())
	if err != nil {
		t.Fatal(err)
	}
	tv := p.Categories["tv"]
	if tv.Return != (Period{7, Days}) || tv.Exchange != (Period{30, Days}) || tv.Parts[PartUnit] != (Period{1, Years}) || tv.Parts[PartMajor] != (Period{3, Years}) {
		t.Errorf("tv terms = %+v", tv)
	}
	phone := p.Categories["phone"]
	if phone.Exchange != (Period{15, Days}) || phone.Parts[PartEarphones] != (Period{3, Months}) || phone.Parts[PartBattery] != (Period{6, Months}) ||
		phone.Parts[PartCharger] != (Period{1, Years}) || phone.Parts[PartCable] != (Period{1, Years}) {
		t.Errorf("phone terms = %+v", phone)
	}
	if f := p.Categories["furniture"]; f.Return.Unit != Workdays {
		t.Errorf("furniture terms = %+v, want working days", f)
	}
	if p.ManufactureGrace != (Period{3, Months}) || p.RepairWarranty != (Period{6, Months}) {
		t.Errorf("grace %v, repair warranty %v", p.ManufactureGrace, p.RepairWarranty)
	}
	// DefaultPolicy hands out copies.
	d := DefaultPolicy()
	d.Categories["tv"].Parts[PartUnit] = Period{9, Years}
	if DefaultPolicy().Categories["tv"].Parts[PartUnit] != (Period{1, Years}) {
		t.Error("changing a DefaultPolicy changed the next one")
	}
}

func TestParsePolicyIsStrict(t *testing.T) {
	valid := `{"manufacture_grace":{"amount":3,"unit":"months"},"repair_warranty":{"amount":90,"unit":"days"},
		"categories":{"tv":{"return":{"amount":7,"unit":"days"},"exchange":{"amount":30,"unit":"days"},"parts":{"unit":{"amount":1,"unit":"years"}},"accessories":["remote"]}}}`
	if _, err := ParsePolicy([]byte(valid)); err != nil {
		t.Fatalf("a valid policy: %v", err)
	}
	for _, tt := range []struct {
		name, from, to, detail string
	}{
		{"an unknown field", `"repair_warranty"`, `"repair_warranty_days":1,"repair_warranty"`, "repair_warranty_days"},
		{"a bad unit", `{"amount":7,"unit":"days"}`, `{"amount":7,"unit":"weeks"}`, `categories.tv.return: unknown unit "weeks"`},
		{"a missing unit", `{"amount":90,"unit":"days"}`, `{"amount":90}`, "repair_warranty: unit is missing"},
		{"a negative amount", `{"amount":30,"unit":"days"}`, `{"amount":-30,"unit":"days"}`, "categories.tv.exchange: amount -30"},
		{"a zero amount", `"unit":{"amount":1,`, `"unit":{"amount":0,`, "categories.tv.parts.unit: amount 0"},
		{"an absurd amount", `{"amount":3,"unit":"months"}`, `{"amount":3000,"unit":"months"}`, "manufacture_grace: amount 3000"},
		{"an unknown part", `"parts":{`, `"parts":{"screen":{"amount":1,"unit":"years"},`, `categories.tv.parts: unknown part "screen"`},
		{"no whole-unit period", `"unit":{"amount":1,"unit":"years"}`, `"major":{"amount":1,"unit":"years"}`, `categories.tv.parts: no period for "unit"`},
		{"a repeated accessory", `["remote"]`, `["remote","remote"]`, "categories.tv.accessories[1]"},
		{"a bad category name", `"tv":`, `"TV sets":`, "categories.TV sets"},
		{"a string amount", `{"amount":7,`, `{"amount":"7",`, "amount"},
		{"a trailing value", valid, valid + "{}", "more than one JSON value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(valid, tt.from, tt.to, 1)
			if bad == valid {
				t.Fatal("the test changes nothing")
			}
			_, err := ParsePolicy([]byte(bad))
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(fieldsync.ErrorDetail(err), tt.detail) {
				t.Fatalf("err = %v, want EInvalid naming %q", err, tt.detail)
			}
		})
	}
}
