package warranty

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// Outcome is a remedy.
type Outcome string

const (
	Return     Outcome = "return"      // 退货: the item back, the price refunded
	Exchange   Outcome = "exchange"    // 换货: a new unit for the faulty one
	FreeRepair Outcome = "free_repair" // 保修: repaired (an accessory replaced) free
	PaidRepair Outcome = "paid_repair" // repaired at the customer's cost
	NotCovered Outcome = "not_covered" // no free remedy is left; a paid repair is on offer
)

// Outcomes lists every outcome, the strongest first.
var Outcomes = []Outcome{Return, Exchange, FreeRepair, PaidRepair, NotCovered}

// Checks are what the technician found about the item's condition. The
// zero value is "not confirmed", which allows no return or exchange: the
// technician confirms each condition.
type Checks struct {
	Unworn              bool `json:"unworn"`               // no trace of use (无使用痕迹)
	LabelsIntact        bool `json:"labels_intact"`        // labels and network-access sticker (入网证、背贴)
	SerialIntact        bool `json:"serial_intact"`        // serial / IMEI sticker (串号贴)
	AccessoriesComplete bool `json:"accessories_complete"` // everything in Terms.Accessories present
	// MissingAccessories names what is missing, from Terms.Accessories.
	MissingAccessories []string `json:"missing_accessories,omitempty"`
	// CrackedOnUnboxing says the screen was found cracked when the item
	// was unboxed at delivery (开箱碎屏): the appraisal then needs a fully
	// printed system slip, not a handwritten one. It changes no remedy.
	CrackedOnUnboxing bool `json:"cracked_on_unboxing,omitempty"`
}

// Repair is an earlier repair of the failed part.
type Repair struct {
	Date Date
	// UnderWarranty says the repair was free under a warranty; a paid
	// repair gives the part its own warranty all the same (the seeds:
	// "维修后的产品，其质保期可按政策延续").
	UnderWarranty bool
}

// Input is what a decision is made from.
type Input struct {
	Category Category
	// Invoice, Receipt and Manufacture date the purchase, in that order of
	// precedence; at least one is needed.
	Invoice, Receipt, Manufacture Date
	// Visit is the day of the appraisal.
	Visit          Date
	Responsibility fieldsync.Responsibility
	Checks         Checks
	FailedPart     Part
	// Repairs are earlier repairs of FailedPart; the latest one counts.
	Repairs []Repair
}

// Text is one sentence in both languages.
type Text struct {
	ZH string `json:"zh-CN"`
	EN string `json:"en"`
}

// Line is one step of an explanation: the rule applied and what it found.
type Line struct {
	Rule Rule `json:"rule"`
	Text Text `json:"text"`
}

// Rule names a rule of the decision, for explanations.
type Rule string

const (
	RuleCustomerDamage Rule = "customer_damage"        // damage by the customer voids free remedies
	RuleUnknown        Rule = "responsibility_unknown" // no appraised quality fault, no return or exchange
	RuleAccessory      Rule = "accessory_part"         // an accessory has only its own warranty
	RuleReturn         Rule = "return"                 // the return window
	RuleExchange       Rule = "exchange"               // the exchange window
	RuleCondition      Rule = "condition"              // unworn, labels and serial sticker intact
	RuleAccessories    Rule = "accessories"            // missing accessories are deducted
	RulePartWarranty   Rule = "part_warranty"          // the failed part's warranty
	RuleRepair         Rule = "repair_warranty"        // the repaired part's own warranty
	RuleCalendar       Rule = "calendar"               // working days counted without a holiday schedule
	RuleCracked        Rule = "cracked_on_unboxing"    // a screen cracked on unboxing needs a printed appraisal slip
)

// Decision is the answer: the recommended outcome, every remedy on offer,
// and why.
type Decision struct {
	// Outcome is the strongest remedy on offer, or not_covered when only a
	// paid repair is left for a fault that is not the customer's.
	Outcome Outcome `json:"outcome"`
	// Options are the remedies on offer, strongest first; paid_repair is
	// always last.
	Options []Outcome `json:"options"`
	// Deductions name the missing accessories a return or exchange deducts.
	Deductions []string `json:"deductions,omitempty"`
	// Explanation has a line per rule that was applied, in order.
	Explanation []Line `json:"explanation"`
}

// Decide applies policy p to in, counting working days on cal (nil means
// calendar.Default()). It returns EInvalid naming the field for an unknown
// category, a part the category does not cover, an unknown responsibility
// or missing accessory, a missing visit or purchase date, a visit before
// the purchase, or a repair without a date or after the visit.
//
// The rules, in order: damage the customer caused leaves only a paid
// repair. Otherwise a fault of the product itself (the unit or a major
// part) found to be a quality or transport fault may be returned or
// exchanged within those windows, if the item is unworn with its labels
// and serial sticker intact (missing accessories are deducted). The failed
// part is repaired free within its warranty, or within the repair
// warranty of its latest earlier repair. A paid repair is always on offer.
func Decide(p Policy, cal *calendar.Calendar, in Input) (Decision, error) {
	terms, start, err := p.check(in)
	if err != nil {
		return Decision{}, err
	}
	if cal == nil {
		cal = calendar.Default()
	}
	d := decider{cal: cal, visit: in.Visit}
	from := d.origin(p, in, start)
	if in.Checks.CrackedOnUnboxing {
		d.line(RuleCracked, "开箱碎屏：须开具全打印（无手写）的系统鉴定单，方可进行后续操作", "screen cracked on unboxing: a fully printed (system) appraisal slip, not a handwritten one, must be issued before the case goes on")
	}

	if in.Responsibility == fieldsync.ResponsibilityCustomerDamage {
		d.line(RuleCustomerDamage, "人为损坏：免费退换和保修不适用，付费维修", "customer damage: no free remedy applies; the repair is paid")
		return d.done(PaidRepair), nil
	}
	switch {
	case !in.FailedPart.product():
		d.line(RuleAccessory, "配件故障：按配件保修更换，不适用退换", "an accessory failed: it is replaced under its own warranty; the return and exchange windows do not apply")
	case in.Responsibility == fieldsync.ResponsibilityUnknown:
		d.line(RuleUnknown, "责任未定：退换须先鉴定为质量问题", "responsibility not established: a return or an exchange needs a quality fault found by appraisal")
	default:
		d.windows(terms, in.Checks, from)
	}

	period := terms.Parts[in.FailedPart]
	zhPart, enPart := partNames(in.FailedPart)
	if d.within(period, from) {
		d.options = append(d.options, FreeRepair)
		d.line(RulePartWarranty, from.zh(d)+"："+zhPart+"保修 "+zhPeriod(period)+"适用", from.en(d)+": the "+enPeriod(period)+" "+enPart+" warranty applies")
	} else {
		d.line(RulePartWarranty, from.zh(d)+"：已过"+zhPart+"保修 "+zhPeriod(period), from.en(d)+": past the "+enPeriod(period)+" "+enPart+" warranty")
		d.repairWarranty(p.RepairWarranty, in)
	}
	if len(d.options) == 0 {
		return d.done(NotCovered), nil
	}
	return d.done(d.options[0]), nil
}

// check validates in against p and returns the category's terms and the
// warranty's start date.
func (p Policy) check(in Input) (Terms, Date, error) {
	invalid := func(format string, a ...any) error { return fieldsync.Errorf(fieldsync.EInvalid, format, a...) }
	terms, ok := p.Categories[in.Category]
	if !ok {
		return Terms{}, Date{}, invalid("category: unknown category %q (valid: %s)", in.Category, p.categoryList())
	}
	if _, ok := terms.Parts[in.FailedPart]; !ok {
		covered := slices.DeleteFunc(slices.Clone(Parts), func(x Part) bool { _, ok := terms.Parts[x]; return !ok })
		return Terms{}, Date{}, invalid("failed_part: unknown part %q for category %s (valid: %s)", in.FailedPart, in.Category, partList(covered))
	}
	if !in.Responsibility.Valid() {
		rs := make([]string, len(fieldsync.Responsibilities))
		for i, r := range fieldsync.Responsibilities {
			rs[i] = string(r)
		}
		return Terms{}, Date{}, invalid("responsibility: unknown responsibility %q (valid: %s)", in.Responsibility, strings.Join(rs, ", "))
	}
	for _, a := range in.Checks.MissingAccessories {
		if !slices.Contains(terms.Accessories, a) {
			return Terms{}, Date{}, invalid("checks.missing_accessories: unknown accessory %q for category %s (valid: %s)", a, in.Category, strings.Join(terms.Accessories, ", "))
		}
	}
	if in.Visit.IsZero() {
		return Terms{}, Date{}, invalid("visit_date: missing")
	}
	start, field := in.Invoice, "invoice_date"
	switch {
	case !in.Invoice.IsZero():
	case !in.Receipt.IsZero():
		start, field = in.Receipt, "receipt_date"
	case !in.Manufacture.IsZero():
		start, field = in.Manufacture, "manufacture_date"
	default:
		return Terms{}, Date{}, invalid("invoice_date: missing, and so are receipt_date and manufacture_date; one of them dates the purchase")
	}
	if in.Visit.Before(start) {
		return Terms{}, Date{}, invalid("visit_date: %s is before the %s %s", in.Visit, field, start)
	}
	for i, r := range in.Repairs {
		if r.Date.IsZero() || r.Date.After(in.Visit) {
			return Terms{}, Date{}, invalid("repairs[%d].date: %q is missing or after the visit_date %s", i, r.Date, in.Visit)
		}
	}
	return terms, start, nil
}

// decider accumulates a decision.
type decider struct {
	cal        *calendar.Calendar
	visit      Date
	options    []Outcome
	deductions []string
	lines      []Line
	uncovered  []int // years counted in working days without a holiday schedule
	// elapsed is how far the last within call counted, for its text.
	elapsed elapsed
}

// elapsed is the time from a start date to the visit, in the unit a
// period counted it.
type elapsed struct {
	n        int
	workdays bool
	more     bool // counting stopped past the period: "more than n"
}

// origin is a date a period runs from, with how to name it.
type origin struct {
	date   Date
	zhName string
	enName string
}

func (o origin) zh(d decider) string { return o.zhName + "，" + d.elapsed.zh() }
func (o origin) en(d decider) string { return o.enName + ", " + d.elapsed.en() }

func (d *decider) origin(p Policy, in Input, start Date) origin {
	switch {
	case !in.Invoice.IsZero():
		return origin{start, "发票日期 " + start.String(), "invoice " + start.String()}
	case !in.Receipt.IsZero():
		return origin{start, "收据日期 " + start.String(), "receipt " + start.String()}
	}
	g := p.ManufactureGrace
	var from Date
	switch g.Unit {
	case Days:
		from = start.AddDays(g.Amount)
	case Months:
		from = start.AddMonths(g.Amount)
	case Years:
		from = start.AddMonths(12 * g.Amount)
	}
	return origin{from,
		"无发票和收据，出厂日期 " + start.String() + " 后延 " + zhPeriod(g) + "即 " + from.String(),
		"no invoice or receipt: made " + start.String() + ", plus " + strconv.Itoa(g.Amount) + " " + string(g.Unit) + " is " + from.String()}
}

func (d *decider) line(r Rule, zh, en string) { d.lines = append(d.lines, Line{r, Text{zh, en}}) }

func (d *decider) done(o Outcome) Decision {
	if !slices.Contains(d.options, PaidRepair) {
		d.options = append(d.options, PaidRepair)
	}
	for _, y := range d.uncovered {
		ys := strconv.Itoa(y)
		d.line(RuleCalendar, "营业日历未含 "+ys+" 年的节假日：工作日只扣除了周末", "the business calendar has no holidays for "+ys+": only weekends were skipped")
	}
	return Decision{Outcome: o, Options: d.options, Deductions: d.deductions, Explanation: d.lines}
}

// windows applies the return and exchange windows to a product fault.
func (d *decider) windows(t Terms, c Checks, from origin) {
	var open bool
	for _, w := range []struct {
		o        Outcome
		r        Rule
		p        Period
		zh, zhNo string
		en       string
	}{
		{Return, RuleReturn, t.Return, "包退适用", "包退期", "return"},
		{Exchange, RuleExchange, t.Exchange, "包换适用", "包换期", "exchange"},
	} {
		if d.within(w.p, from) {
			open = true
			d.options = append(d.options, w.o)
			d.line(w.r, from.zh(*d)+"："+zhPeriod(w.p)+w.zh, from.en(*d)+": the "+enPeriod(w.p)+" "+w.en+" applies")
		} else {
			d.line(w.r, from.zh(*d)+"：已过 "+zhPeriod(w.p)+w.zhNo, from.en(*d)+": past the "+enPeriod(w.p)+" "+w.en+" window")
		}
	}
	if !open {
		return
	}
	var zh, en []string
	if !c.Unworn {
		zh, en = append(zh, "商品有使用痕迹"), append(en, "the item shows wear")
	}
	if !c.LabelsIntact {
		zh, en = append(zh, "标签不完整"), append(en, "its labels are not intact")
	}
	if !c.SerialIntact {
		zh, en = append(zh, "序列号贴纸不完整"), append(en, "its serial sticker is not intact")
	}
	if len(zh) > 0 {
		d.options = slices.DeleteFunc(d.options, func(o Outcome) bool { return o == Return || o == Exchange })
		d.line(RuleCondition, strings.Join(zh, "、")+"：不能退换", strings.Join(en, ", ")+": no return or exchange")
		return
	}
	if !c.AccessoriesComplete || len(c.MissingAccessories) > 0 {
		d.deductions = slices.Clone(c.MissingAccessories)
		zhList, enList := "", ""
		if len(c.MissingAccessories) > 0 {
			zhList = "（" + strings.Join(c.MissingAccessories, "、") + "）"
			enList = " (" + strings.Join(c.MissingAccessories, ", ") + ")"
		}
		d.line(RuleAccessories, "附件不全"+zhList+"：退换时按政策扣款", "accessories missing"+enList+": the return or exchange deducts them")
	}
}

// repairWarranty applies the repaired part's own warranty, from the
// latest earlier repair.
func (d *decider) repairWarranty(rw Period, in Input) {
	if len(in.Repairs) == 0 {
		return
	}
	last := in.Repairs[0]
	for _, r := range in.Repairs[1:] {
		if r.Date.After(last.Date) {
			last = r
		}
	}
	zhPart, enPart := partNames(in.FailedPart)
	how, enHow := "（付费）", "(paid)"
	if last.UnderWarranty {
		how, enHow = "（保修内）", "(under warranty)"
	}
	enNoun := map[Part]string{PartUnit: "the unit", PartMajor: "the major part", PartEarphones: "the earphones"}[in.FailedPart]
	if enNoun == "" {
		enNoun = "the " + enPart
	}
	from := origin{last.Date, zhPart + " " + last.Date.String() + " 维修" + how, enNoun + " repaired " + last.Date.String() + " " + enHow}
	if d.within(rw, from) {
		d.options = append(d.options, FreeRepair)
		d.line(RuleRepair, from.zh(*d)+"：维修部件保修 "+zhPeriod(rw)+"适用", from.en(*d)+": the "+enPeriod(rw)+" repaired-part warranty applies")
		return
	}
	d.line(RuleRepair, from.zh(*d)+"：已过维修部件保修 "+zhPeriod(rw), from.en(*d)+": past the "+enPeriod(rw)+" repaired-part warranty")
}

// within reports whether the visit falls within period p from o's date,
// the date itself not counted ("within 7 days" of the 1st includes the
// 8th), and records the elapsed time for the line that follows.
func (d *decider) within(p Period, o origin) bool {
	days := d.visit.DaysAfter(o.date)
	switch p.Unit {
	case Days:
		d.elapsed = elapsed{n: days}
		return days <= p.Amount
	case Months:
		d.elapsed = elapsed{n: days}
		return !d.visit.After(o.date.AddMonths(p.Amount))
	case Years:
		d.elapsed = elapsed{n: days}
		return !d.visit.After(o.date.AddMonths(12 * p.Amount))
	}
	// Working days: count up to one past the period, no further.
	n := 0
	for day := o.date.AddDays(1); !day.After(d.visit); day = day.AddDays(1) {
		t := time.Date(day.t.Year(), day.t.Month(), day.t.Day(), 12, 0, 0, 0, calendar.Location())
		if y := t.Year(); !d.cal.Covers(y) && !slices.Contains(d.uncovered, y) {
			d.uncovered = append(d.uncovered, y)
		}
		if d.cal.IsWorkday(t) {
			n++
		}
		if n > p.Amount {
			d.elapsed = elapsed{n: p.Amount, workdays: true, more: true}
			return false
		}
	}
	d.elapsed = elapsed{n: n, workdays: true}
	return true
}

func (e elapsed) zh() string {
	unit := " 天"
	if e.workdays {
		unit = " 个工作日"
	}
	if e.more {
		return "已超过 " + strconv.Itoa(e.n) + unit
	}
	return "已 " + strconv.Itoa(e.n) + unit
}

func (e elapsed) en() string {
	unit := " day"
	if e.workdays {
		unit = " working day"
	}
	if e.n != 1 {
		unit += "s"
	}
	if e.more {
		return "more than " + strconv.Itoa(e.n) + unit + " ago"
	}
	return strconv.Itoa(e.n) + unit + " ago"
}

func zhPeriod(p Period) string {
	unit := " 天"
	switch p.Unit {
	case Workdays:
		unit = " 个工作日"
	case Months:
		unit = " 个月"
	case Years:
		unit = " 年"
	}
	return strconv.Itoa(p.Amount) + unit
}

func enPeriod(p Period) string {
	unit := "-day"
	switch p.Unit {
	case Workdays:
		unit = "-working-day"
	case Months:
		unit = "-month"
	case Years:
		unit = "-year"
	}
	return strconv.Itoa(p.Amount) + unit
}

func partNames(p Part) (zh, en string) {
	switch p {
	case PartUnit:
		return "整机", "whole-unit"
	case PartMajor:
		return "主要部件", "major-part"
	case PartBattery:
		return "电池", "battery"
	case PartEarphones:
		return "耳机", "earphone"
	case PartCharger:
		return "充电器", "charger"
	}
	return "数据线", "cable"
}
