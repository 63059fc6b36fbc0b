package warranty

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/strictjson"
)

// Unit is how a Period's amount is counted.
type Unit string

const (
	// Days are whole calendar days after the start date.
	Days Unit = "days"
	// Workdays are working days on the business calendar after the start
	// date (weekends and public holidays skipped, make-up days counted).
	Workdays Unit = "workdays"
	// Months end on the same day of the month, or the month's last day
	// when it has no such day (Date.AddMonths).
	Months Unit = "months"
	// Years are twelve months.
	Years Unit = "years"
)

// Units lists every unit.
var Units = []Unit{Days, Workdays, Months, Years}

// maxDays bounds any period: nothing in after-sales service runs longer
// than ten years, and a bigger number is a typing mistake in a policy file.
const maxDays = 3660

// Period is an amount of a unit, e.g. {7, "days"}.
type Period struct {
	Amount int  `json:"amount"`
	Unit   Unit `json:"unit"`
}

func (p Period) validate() error {
	max := maxDays
	switch p.Unit {
	case Days, Workdays:
	case Months:
		max = maxDays / 30
	case Years:
		max = maxDays / 365
	case "":
		return fmt.Errorf("unit is missing (want %s)", unitList())
	default:
		return fmt.Errorf("unknown unit %q (want %s)", p.Unit, unitList())
	}
	if p.Amount < 1 || p.Amount > max {
		return fmt.Errorf("amount %d %s is outside 1..%d", p.Amount, p.Unit, max)
	}
	return nil
}

func unitList() string {
	s := make([]string, len(Units))
	for i, u := range Units {
		s[i] = string(u)
	}
	return strings.Join(s, ", ")
}

// Category names a kind of product with its own terms, e.g. "tv".
type Category string

// Part names what failed. Each part has names in both languages for the
// explanations, so the set is fixed here; a policy says which parts a
// category covers and for how long.
type Part string

const (
	PartUnit      Part = "unit"      // the whole product (整机)
	PartMajor     Part = "major"     // a major part, e.g. a TV panel (主要部件)
	PartBattery   Part = "battery"   // 电池
	PartEarphones Part = "earphones" // 耳机
	PartCharger   Part = "charger"   // 充电器
	PartCable     Part = "cable"     // 数据线
)

// Parts lists every part.
var Parts = []Part{PartUnit, PartMajor, PartBattery, PartEarphones, PartCharger, PartCable}

// product reports whether p is the product itself (the unit or a major
// part of it), to which the return and exchange windows apply; a faulty
// accessory is replaced under its own warranty instead ("什么有故障就换
// 什么", the phone seed).
func (p Part) product() bool { return p == PartUnit || p == PartMajor }

// Terms are one category's windows and warranties.
type Terms struct {
	// Return and Exchange run from the warranty's start date.
	Return   Period `json:"return"`
	Exchange Period `json:"exchange"`
	// Parts are the warranty periods of the parts the category covers;
	// "unit" is required.
	Parts map[Part]Period `json:"parts"`
	// Accessories are what a return or exchange collects with the item
	// (box, remote …); each missing one is deducted from the refund or the
	// exchange. The amounts are not policy: they come from the price list.
	Accessories []string `json:"accessories"`
}

// Policy is the whole set of warranty terms.
type Policy struct {
	// ManufactureGrace is added to the manufacture date when neither an
	// invoice nor a receipt dates the purchase.
	ManufactureGrace Period `json:"manufacture_grace"`
	// RepairWarranty is the warranty of a repaired part, from its repair.
	RepairWarranty Period `json:"repair_warranty"`
	// Categories are the terms per product category.
	Categories map[Category]Terms `json:"categories"`
}

// defaultJSON is the shipped policy, from the seeds:
//
//   - TVs: 7-day return, 30-day exchange, whole unit 1 year, major parts
//     (the panel) 3 years ("7天包退、30天包换、1年整机保修、3年重要部件保修");
//     without an invoice the receipt counts, without either the
//     manufacture date plus 3 months ("按产品出厂日期后延3个月").
//   - phones: 7-day return, 15-day exchange, 1 year ("7天包退、15天包换、
//     1年保修"); earphones 3 months, battery 6 months, charger and cable
//     1 year ("耳机保修3个月,电池保修半年,充电器/数据线保修一年").
//   - appliances: the 三包 terms of the seeds' general rules: 7-day
//     return, 15-day exchange ("15天质量问题退换"), 1 year, major parts 3
//     years.
//   - furniture: return within 7 working days ("购买后的7个工作日内提出退货
//     申请"), exchange within 15 working days ("发现问题后的15个工作日内通知"),
//     warranty 2 years ("家居用品类产品保修期为2年").
//   - repair_warranty is 6 months: the seeds give it only as an example
//     ("维修后的产品，其质保期可按政策延续（如维修部件质保6个月）"), so it is a
//     setting; 6 months is that example and equals the shortest accessory
//     warranty a customer already knows (the battery's).
//   - accessories: what the TV seed checks at pick-up ("包装箱、遥控器、
//     底座"), and for the other categories what they ship with.
//
//go:embed default.json
var defaultJSON []byte

// defaultPolicy is parsed at init; TestDefaultPolicy checks the file, so
// mustParse cannot fail in a built binary.
var defaultPolicy = mustParse(defaultJSON)

func mustParse(data []byte) Policy {
	p, err := ParsePolicy(data)
	if err != nil {
		panic(err)
	}
	return p
}

// DefaultPolicy returns the shipped policy (default.json, see the package
// doc). Each call returns a fresh copy, which the caller may modify.
func DefaultPolicy() Policy {
	p := defaultPolicy
	p.Categories = make(map[Category]Terms, len(defaultPolicy.Categories))
	for c, t := range defaultPolicy.Categories {
		t.Parts = maps.Clone(t.Parts)
		t.Accessories = slices.Clone(t.Accessories)
		p.Categories[c] = t
	}
	return p
}

// PolicyID is the id under which the server publishes its policy to
// devices (fieldsync.EntityWarrantyPolicy).
const PolicyID = "default"

// DefaultSource returns the shipped policy's JSON, for publishing it to
// tablets as it is.
func DefaultSource() []byte { return bytes.Clone(defaultJSON) }

// ParsePolicy parses a policy in the JSON form of default.json and
// validates it. It is strict: an unknown field, a missing or unknown unit,
// an amount below 1 or a trailing value is EInvalid, with a detail naming
// the field (categories.tv.parts.major: …).
func ParsePolicy(data []byte) (Policy, error) {
	var p Policy
	if err := strictjson.Decode("warranty policy", data, &p); err != nil {
		return Policy{}, err
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

var categoryName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Validate returns EInvalid naming the first field that is wrong: a
// period with a bad unit or amount, a category without terms for its
// whole unit, an unknown part, an empty or repeated accessory.
func (p Policy) Validate() error {
	bad := func(field string, err error) error {
		return fieldsync.Errorf(fieldsync.EInvalid, "warranty policy: %s: %v", field, err)
	}
	if err := p.ManufactureGrace.validate(); err != nil {
		return bad("manufacture_grace", err)
	}
	if p.ManufactureGrace.Unit == Workdays {
		return bad("manufacture_grace", errors.New("a purchase date is estimated in calendar time, not working days"))
	}
	if err := p.RepairWarranty.validate(); err != nil {
		return bad("repair_warranty", err)
	}
	if len(p.Categories) == 0 {
		return bad("categories", errors.New("no category"))
	}
	for _, c := range slices.Sorted(maps.Keys(p.Categories)) {
		t, f := p.Categories[c], "categories."+string(c)
		if !categoryName.MatchString(string(c)) {
			return bad(f, errors.New("a category name is lower-case letters, digits and _"))
		}
		if err := t.Return.validate(); err != nil {
			return bad(f+".return", err)
		}
		if err := t.Exchange.validate(); err != nil {
			return bad(f+".exchange", err)
		}
		if _, ok := t.Parts[PartUnit]; !ok {
			return bad(f+".parts", errors.New(`no period for "unit", the whole product`))
		}
		for _, part := range slices.Sorted(maps.Keys(t.Parts)) {
			if !slices.Contains(Parts, part) {
				return bad(f+".parts", fmt.Errorf("unknown part %q (valid: %s)", part, partList(Parts)))
			}
			if err := t.Parts[part].validate(); err != nil {
				return bad(f+".parts."+string(part), err)
			}
		}
		for i, a := range t.Accessories {
			if !categoryName.MatchString(a) || slices.Index(t.Accessories, a) != i {
				return bad(f+".accessories["+strconv.Itoa(i)+"]", fmt.Errorf("%q is empty, repeated or not lower-case letters, digits and _", a))
			}
		}
	}
	return nil
}

func partList(ps []Part) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// categoryList lists the policy's categories, sorted.
func (p Policy) categoryList() string {
	cs := slices.Sorted(maps.Keys(p.Categories))
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
