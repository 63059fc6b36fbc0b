package quote_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/warranty"
)

func TestDeductions(t *testing.T) {
	l := quote.Default()
	for _, c := range []struct {
		name     string
		category string
		missing  []string
		want     []int64
		total    int64
	}{
		{"nothing missing deducts nothing", "tv", nil, []int64{}, 0},
		{"a missing remote deducts the remote", "tv", []string{"remote"}, []int64{3500}, 3500},
		{"two missing add up, in the order named", "tv", []string{"stand", "box"}, []int64{8000, 5000}, 13000},
		{"the same accessory is priced per category", "appliance", []string{"remote"}, []int64{3000}, 3000},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds, total, err := quote.Deductions(l, c.category, c.missing)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int64, len(ds))
			for i, d := range ds {
				got[i] = d.Fen
				if d.Accessory != c.missing[i] || d.Name.ZhCN == "" {
					t.Fatalf("deduction %d = %+v", i, d)
				}
			}
			if !slices.Equal(got, c.want) || total != c.total {
				t.Fatalf("got %v total %d, want %v total %d", got, total, c.want, c.total)
			}
		})
	}
}

func TestDeductionsRefuse(t *testing.T) {
	l := quote.Default()
	_, _, err := quote.Deductions(l, "tv", []string{"antenna"})
	invalid(t, err, `missing[0]: price list placeholder-2026-2 has no deduction for accessory "antenna" of category tv (priced: box, remote, stand)`)
	_, _, err = quote.Deductions(l, "tv", []string{"remote", "remote"})
	invalid(t, err, `missing[1]: "remote" is named twice`)
	l.Accessories = []quote.Accessory{
		{Category: "tv", Accessory: "a", Name: quote.Names{ZhCN: "甲", En: "a"}, DeductionFen: math.MaxInt64},
		{Category: "tv", Accessory: "b", Name: quote.Names{ZhCN: "乙", En: "b"}, DeductionFen: 1},
	}
	_, _, err = quote.Deductions(l, "tv", []string{"a", "b"})
	invalid(t, err, "missing[1]: the total overflows")
}

// Every accessory the warranty policy collects has a deduction in the
// shipped price list, so a tablet can always price a pick-up.
func TestDefaultListPricesEveryAccessory(t *testing.T) {
	l := quote.Default()
	for c, terms := range warranty.DefaultPolicy().Categories {
		if _, _, err := quote.Deductions(l, string(c), terms.Accessories); err != nil {
			t.Error(err)
		}
	}
}

func TestParseRefusesBadAccessories(t *testing.T) {
	src := string(quote.DefaultSource())
	for _, c := range []struct{ from, to, want string }{
		{`"deduction_fen": 3500`, `"deduction_fen": -1`, "accessories[1].deduction_fen: must not be negative"},
		{`"deduction_fen": 3500`, `"deduction_fen": 35.5`, "accessories.deduction_fen: must be int64"},
		{`"accessory": "remote", "name": {"zh-CN": "遥控器", "en": "remote control"}, "deduction_fen": 3500`, `"accessory": "box", "name": {"zh-CN": "遥控器", "en": "remote control"}, "deduction_fen": 3500`, `accessories[1].accessory: "box" is priced twice for category tv`},
		{`{"category": "tv", "accessory": "box"`, `{"category": "", "accessory": "box"`, "accessories[0].category: is missing"},
		{`"accessory": "stand"`, `"accessory": "Stand"`, "accessories[2].accessory"},
		{`"deduction_fen": 3500`, `"deduction_fen": 3500, "vat": 1`, `unknown field "vat"`},
	} {
		data := strings.Replace(src, c.from, c.to, 1)
		if data == src {
			t.Fatalf("%q not in default.json", c.from)
		}
		_, err := quote.Parse([]byte(data))
		invalid(t, err, c.want)
	}
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "¥0.00", 5: "¥0.05", 3500: "¥35.00", 13001: "¥130.01", -5: "-¥0.05", math.MinInt64: "-¥92233720368547758.08"} {
		if got := quote.Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}
