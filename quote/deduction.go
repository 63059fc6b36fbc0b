package quote

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync"
)

// Accessory is what a return or an exchange deducts from the refund when
// an accessory of a category is missing at pick-up (the warranty policy
// lists which accessories are collected; the price list prices them).
type Accessory struct {
	Category     string `json:"category"`
	Accessory    string `json:"accessory"`
	Name         Names  `json:"name"`
	DeductionFen int64  `json:"deduction_fen"`
}

// Deduction is one missing accessory priced.
type Deduction struct {
	Accessory string `json:"accessory"`
	Name      Names  `json:"name"`
	Fen       int64  `json:"fen"`
}

// validateAccessories checks the accessories of l: each a code in a
// category, once, with both names and an amount that is not negative.
func (l PriceList) validateAccessories(bad func(field, format string, args ...any) error) error {
	seen := make(map[[2]string]bool, len(l.Accessories))
	for i, a := range l.Accessories {
		f := fmt.Sprintf("accessories[%d]", i)
		switch {
		case strings.TrimSpace(a.Category) == "":
			return bad(f+".category", "is missing")
		case !codeRe.MatchString(a.Accessory):
			return bad(f+".accessory", "%q is not a code (lower-case letters, digits, _ . -)", a.Accessory)
		case seen[[2]string{a.Category, a.Accessory}]:
			return bad(f+".accessory", "%q is priced twice for category %s", a.Accessory, a.Category)
		case strings.TrimSpace(a.Name.ZhCN) == "" || strings.TrimSpace(a.Name.En) == "":
			return bad(f+".name", "needs zh-CN and en")
		case a.DeductionFen < 0:
			return bad(f+".deduction_fen", "must not be negative, not %d", a.DeductionFen)
		}
		seen[[2]string{a.Category, a.Accessory}] = true
	}
	return nil
}

// Deductions prices the accessories missing from an item of category at
// pick-up, in the order given, and their total. None missing is no
// deduction and a total of 0. EInvalid names the accessory the price list
// does not price for the category (listing those it does), one named
// twice, or a total that overflows.
func Deductions(l PriceList, category string, missing []string) ([]Deduction, int64, error) {
	out := make([]Deduction, 0, len(missing))
	var total int64
	for i, m := range missing {
		f := fmt.Sprintf("missing[%d]", i)
		if slices.Index(missing, m) != i {
			return nil, 0, fieldsync.Errorf(fieldsync.EInvalid, "deduction: %s: %q is named twice", f, m)
		}
		j := slices.IndexFunc(l.Accessories, func(a Accessory) bool { return a.Category == category && a.Accessory == m })
		if j < 0 {
			return nil, 0, fieldsync.Errorf(fieldsync.EInvalid, "deduction: %s: price list %s has no deduction for accessory %q of category %s (priced: %s)",
				f, l.Version, m, category, strings.Join(l.AccessoriesOf(category), ", "))
		}
		a := l.Accessories[j]
		var err error
		if total, err = add(f, total, a.DeductionFen); err != nil {
			return nil, 0, err
		}
		out = append(out, Deduction{Accessory: a.Accessory, Name: a.Name, Fen: a.DeductionFen})
	}
	return out, total, nil
}

// AccessoriesOf lists the accessories l prices for category, in list order.
func (l PriceList) AccessoriesOf(category string) []string {
	var out []string
	for _, a := range l.Accessories {
		if a.Category == category {
			out = append(out, a.Accessory)
		}
	}
	return out
}

// Yuan formats an amount in fen as yuan with two decimals, "¥35.00",
// "-¥0.05", without floats.
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-(fen+1))+1
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, u/100, u%100)
}
