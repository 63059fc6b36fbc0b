package warranty

import (
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

func date(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// good is the item in the condition a return needs.
var good = Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, AccessoriesComplete: true}

// in builds an input with a quality fault of the whole unit in good
// condition, bought (invoice) on bought and seen on visit.
func in(t testing.TB, category Category, bought, visit string) Input {
	t.Helper()
	return Input{Category: category, Invoice: date(t, bought), Visit: date(t, visit),
		Responsibility: fieldsync.ResponsibilityQuality, Checks: good, FailedPart: PartUnit}
}

func TestDecide(t *testing.T) {
	all := []Outcome{Return, Exchange, FreeRepair, PaidRepair}
	tests := []struct {
		name    string
		in      Input
		want    Outcome
		options []Outcome
		rule    Rule // the line that decided it
	}{
		{"day 7 is still within the return window", in(t, "phone", "2026-03-01", "2026-03-08"), Return, all, RuleReturn},
		{"day 8 is past the return window but within exchange", in(t, "phone", "2026-03-01", "2026-03-09"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"day 15 is still within a phone's exchange window", in(t, "phone", "2026-03-01", "2026-03-16"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"day 16 is past a phone's exchange window", in(t, "phone", "2026-03-01", "2026-03-17"), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"day 16 is still within a TV's exchange window", in(t, "tv", "2026-03-01", "2026-03-17"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"day 30 is still within a TV's exchange window", in(t, "tv", "2026-03-01", "2026-03-31"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"day 31 is past a TV's exchange window", in(t, "tv", "2026-03-01", "2026-04-01"), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"an appliance exchanges within 15 days", in(t, "appliance", "2026-03-01", "2026-03-16"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"a year to the day is within the whole-unit warranty", in(t, "tv", "2026-03-01", "2027-03-01"), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"a year and a day is past the whole-unit warranty", in(t, "tv", "2026-03-01", "2027-03-02"), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"a major part is covered for three years to the day", withPart(in(t, "tv", "2026-03-01", "2029-03-01"), PartMajor), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"a major part is not covered three years and a day on", withPart(in(t, "tv", "2026-03-01", "2029-03-02"), PartMajor), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"a major part fault on day 5 may be returned", withPart(in(t, "tv", "2026-03-01", "2026-03-06"), PartMajor), Return, all, RuleReturn},
		{"without an invoice the receipt starts the warranty", func() Input {
			i := in(t, "phone", "2026-03-01", "2026-03-08")
			i.Invoice, i.Receipt = Date{}, date(t, "2026-03-01")
			return i
		}(), Return, all, RuleReturn},
		{"the invoice wins over a receipt", func() Input {
			i := in(t, "phone", "2026-03-01", "2026-03-08")
			i.Receipt = date(t, "2026-01-01")
			return i
		}(), Return, all, RuleReturn},
		{"without invoice or receipt: manufacture plus 3 months, day 7", manufactured(t, "tv", "2026-01-15", "2026-04-22"), Return, all, RuleReturn},
		{"without invoice or receipt: manufacture plus 3 months plus a year", manufactured(t, "tv", "2026-01-15", "2027-04-15"), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"without invoice or receipt: a day later is past the warranty", manufactured(t, "tv", "2026-01-15", "2027-04-16"), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"made 2027-11-30, the warranty starts 2028-02-29 (leap day)", manufactured(t, "tv", "2027-11-30", "2028-03-07"), Return, all, RuleReturn},
		{"bought 2028-02-29, covered on 2029-02-28", in(t, "tv", "2028-02-29", "2029-02-28"), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"bought 2028-02-29, not covered on 2029-03-01", in(t, "tv", "2028-02-29", "2029-03-01"), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"bought 2028-02-29, day 7 is 2028-03-07", in(t, "phone", "2028-02-29", "2028-03-07"), Return, all, RuleReturn},
		{"bought 2028-02-29, day 8 is 2028-03-08", in(t, "phone", "2028-02-29", "2028-03-08"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"customer damage on day 1 leaves only a paid repair", func() Input {
			i := in(t, "phone", "2026-03-01", "2026-03-02")
			i.Responsibility = fieldsync.ResponsibilityCustomerDamage
			return i
		}(), PaidRepair, []Outcome{PaidRepair}, RuleCustomerDamage},
		{"transport damage is not the customer's: return", func() Input {
			i := in(t, "tv", "2026-03-01", "2026-03-02")
			i.Responsibility = fieldsync.ResponsibilityTransport
			return i
		}(), Return, all, RuleReturn},
		{"unknown responsibility: no return, a free repair", func() Input {
			i := in(t, "tv", "2026-03-01", "2026-03-02")
			i.Responsibility = fieldsync.ResponsibilityUnknown
			return i
		}(), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleUnknown},
		{"a worn item is not returned", withChecks(in(t, "phone", "2026-03-01", "2026-03-02"), Checks{LabelsIntact: true, SerialIntact: true, AccessoriesComplete: true}), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleCondition},
		{"broken labels refuse an exchange", withChecks(in(t, "phone", "2026-03-01", "2026-03-12"), Checks{Unworn: true, SerialIntact: true, AccessoriesComplete: true}), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleCondition},
		{"a broken serial sticker refuses a return", withChecks(in(t, "tv", "2026-03-01", "2026-03-02"), Checks{Unworn: true, LabelsIntact: true, AccessoriesComplete: true}), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleCondition},
		{"a screen cracked on unboxing changes no remedy", withChecks(in(t, "tv", "2026-03-01", "2026-03-02"), Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, AccessoriesComplete: true, CrackedOnUnboxing: true}), Return, all, RuleCracked},
		{"a missing remote is deducted, the return stands", withChecks(in(t, "tv", "2026-03-01", "2026-03-02"), Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, MissingAccessories: []string{"remote"}}), Return, all, RuleAccessories},
		{"earphones are covered for 3 months (Jan 31 to Apr 30)", withPart(in(t, "phone", "2026-01-31", "2026-04-30"), PartEarphones), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"earphones are not covered a day past 3 months", withPart(in(t, "phone", "2026-01-31", "2026-05-01"), PartEarphones), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"a battery is covered for 6 months", withPart(in(t, "phone", "2026-03-01", "2026-09-01"), PartBattery), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"a battery is not covered a day past 6 months", withPart(in(t, "phone", "2026-03-01", "2026-09-02"), PartBattery), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"a charger is covered for a year", withPart(in(t, "phone", "2026-03-01", "2027-03-01"), PartCharger), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"a charger is not covered a year and a day on", withPart(in(t, "phone", "2026-03-01", "2027-03-02"), PartCharger), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"a cable is covered for a year", withPart(in(t, "phone", "2026-03-01", "2027-03-01"), PartCable), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"a cable is not covered a year and a day on", withPart(in(t, "phone", "2026-03-01", "2027-03-02"), PartCable), NotCovered, []Outcome{PaidRepair}, RulePartWarranty},
		{"a faulty charger on day 3 is replaced, not a return", withPart(in(t, "phone", "2026-03-01", "2026-03-04"), PartCharger), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleAccessory},
		{"a battery repaired in January is covered for 6 months from its repair", withRepair(withPart(in(t, "phone", "2025-01-01", "2026-07-10"), PartBattery), "2026-01-10", true), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleRepair},
		{"a battery repaired in January is not covered a day past 6 months", withRepair(withPart(in(t, "phone", "2025-01-01", "2026-07-11"), PartBattery), "2026-01-10", true), NotCovered, []Outcome{PaidRepair}, RuleRepair},
		{"a paid repair gives the part its own warranty too", withRepair(in(t, "tv", "2024-01-01", "2026-03-01"), "2026-01-01", false), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleRepair},
		{"the latest of several repairs counts", withRepair(withRepair(in(t, "tv", "2024-01-01", "2026-03-01"), "2026-01-01", false), "2025-01-01", true), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RuleRepair},
		// Furniture counts working days on cn-2026: bought Monday
		// 2026-09-28; 09-29, 09-30 are days 1-2, 10-01..07 National Day,
		// 10-08, 10-09 days 3-4, Saturday 10-10 a make-up working day (5),
		// 10-12, 10-13 days 6-7, and so on.
		{"furniture: the 7th working day falls after Golden Week", in(t, "furniture", "2026-09-28", "2026-10-13"), Return, all, RuleReturn},
		{"furniture: the 8th working day is past the return window", in(t, "furniture", "2026-09-28", "2026-10-14"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"furniture: the 15th working day still exchanges", in(t, "furniture", "2026-09-28", "2026-10-23"), Exchange, []Outcome{Exchange, FreeRepair, PaidRepair}, RuleExchange},
		{"furniture: the 16th working day is past the exchange window", in(t, "furniture", "2026-09-28", "2026-10-26"), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
		{"furniture is covered for 2 years", in(t, "furniture", "2026-03-01", "2028-03-01"), FreeRepair, []Outcome{FreeRepair, PaidRepair}, RulePartWarranty},
	}
	p := DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(p, calendar.Default(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.want || !slices.Equal(d.Options, tt.options) {
				t.Errorf("got %s %v, want %s %v\n%s", d.Outcome, d.Options, tt.want, tt.options, explain(d))
			}
			if !slices.ContainsFunc(d.Explanation, func(l Line) bool { return l.Rule == tt.rule }) {
				t.Errorf("no %s line in the explanation\n%s", tt.rule, explain(d))
			}
		})
	}
}

func explain(d Decision) string {
	var b strings.Builder
	for _, l := range d.Explanation {
		b.WriteString("  " + string(l.Rule) + ": " + l.Text.ZH + " / " + l.Text.EN + "\n")
	}
	return b.String()
}

func withPart(i Input, p Part) Input     { i.FailedPart = p; return i }
func withChecks(i Input, c Checks) Input { i.Checks = c; return i }

func withRepair(i Input, on string, free bool) Input {
	d, err := ParseDate(on)
	if err != nil {
		panic(err)
	}
	i.Repairs = append(i.Repairs, Repair{Date: d, UnderWarranty: free})
	return i
}

func manufactured(t *testing.T, c Category, made, visit string) Input {
	i := in(t, c, made, visit)
	i.Invoice, i.Manufacture = Date{}, date(t, made)
	return i
}

func TestExplanationNamesTheDecidingRuleInBothLanguages(t *testing.T) {
	tests := []struct {
		name   string
		in     Input
		rule   Rule
		zh, en string
	}{
		{"the whole-unit warranty", in(t, "tv", "2026-03-02", "2026-11-22"), RulePartWarranty,
			"发票日期 2026-03-02，已 265 天：整机保修 1 年适用", "invoice 2026-03-02, 265 days ago: the 1-year whole-unit warranty applies"},
		{"a TV exchanged on day 20", in(t, "tv", "2026-03-02", "2026-03-22"), RuleExchange,
			"发票日期 2026-03-02，已 20 天：30 天包换适用", "invoice 2026-03-02, 20 days ago: the 30-day exchange applies"},
		{"the return window passed", in(t, "tv", "2026-03-02", "2026-03-22"), RuleReturn,
			"发票日期 2026-03-02，已 20 天：已过 7 天包退期", "invoice 2026-03-02, 20 days ago: past the 7-day return window"},
		{"customer damage", func() Input {
			i := in(t, "phone", "2026-03-02", "2026-03-12")
			i.Responsibility = fieldsync.ResponsibilityCustomerDamage
			return i
		}(), RuleCustomerDamage, "人为损坏：免费退换和保修不适用，付费维修", "customer damage: no free remedy applies; the repair is paid"},
		{"furniture in working days", in(t, "furniture", "2026-09-28", "2026-10-13"), RuleReturn,
			"发票日期 2026-09-28，已 7 个工作日：7 个工作日包退适用", "invoice 2026-09-28, 7 working days ago: the 7-working-day return applies"},
		{"furniture past its exchange window", in(t, "furniture", "2026-09-28", "2026-10-26"), RuleExchange,
			"发票日期 2026-09-28，已超过 15 个工作日：已过 15 个工作日包换期", "invoice 2026-09-28, more than 15 working days ago: past the 15-working-day exchange window"},
		{"the manufacture date", manufactured(t, "tv", "2026-01-15", "2026-04-22"), RuleReturn,
			"无发票和收据，出厂日期 2026-01-15 后延 3 个月即 2026-04-15，已 7 天：7 天包退适用", "no invoice or receipt: made 2026-01-15, plus 3 months is 2026-04-15, 7 days ago: the 7-day return applies"},
		{"a repaired battery", withRepair(withPart(in(t, "phone", "2025-01-01", "2026-02-09"), PartBattery), "2026-01-10", true), RuleRepair,
			"电池 2026-01-10 维修（保修内），已 30 天：维修部件保修 6 个月适用", "the battery repaired 2026-01-10 (under warranty), 30 days ago: the 6-month repaired-part warranty applies"},
		{"a missing remote", withChecks(in(t, "tv", "2026-03-01", "2026-03-02"), Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, MissingAccessories: []string{"remote"}}), RuleAccessories,
			"附件不全（remote）：退换时按政策扣款", "accessories missing (remote): the return or exchange deducts them"},
		{"a screen cracked on unboxing", withChecks(in(t, "tv", "2026-03-01", "2026-03-02"), Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, AccessoriesComplete: true, CrackedOnUnboxing: true}), RuleCracked,
			"开箱碎屏：须开具全打印（无手写）的系统鉴定单，方可进行后续操作", "screen cracked on unboxing: a fully printed (system) appraisal slip, not a handwritten one, must be issued before the case goes on"},
		{"a year without holidays", in(t, "furniture", "2026-12-28", "2027-01-05"), RuleCalendar,
			"营业日历未含 2027 年的节假日：工作日只扣除了周末", "the business calendar has no holidays for 2027: only weekends were skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(DefaultPolicy(), nil, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want := Line{tt.rule, Text{tt.zh, tt.en}}
			if !slices.Contains(d.Explanation, want) {
				t.Errorf("explanation lacks\n  %s: %s / %s\ngot\n%s", want.Rule, want.Text.ZH, want.Text.EN, explain(d))
			}
		})
	}
}

func TestDecideRefusesBadInput(t *testing.T) {
	base := in(t, "tv", "2026-03-01", "2026-03-08")
	tests := []struct {
		name   string
		change func(*Input)
		detail []string // the detail names the field and what is valid
	}{
		{"an unknown category", func(i *Input) { i.Category = "car" }, []string{"category", `"car"`, "appliance, furniture, phone, tv"}},
		{"an unknown part", func(i *Input) { i.FailedPart = "engine" }, []string{"failed_part", `"engine"`, "unit, major"}},
		{"a part the category does not have", func(i *Input) { i.Category, i.FailedPart = "furniture", PartBattery }, []string{"failed_part", `"battery"`, "valid: unit)"}},
		{"no responsibility", func(i *Input) { i.Responsibility = "" }, []string{"responsibility", "quality, customer_damage"}},
		{"an unknown accessory", func(i *Input) { i.Checks.MissingAccessories = []string{"antenna"} }, []string{"checks.missing_accessories", `"antenna"`, "box, remote, stand"}},
		{"no visit date", func(i *Input) { i.Visit = Date{} }, []string{"visit_date"}},
		{"no date of purchase", func(i *Input) { i.Invoice = Date{} }, []string{"invoice_date", "receipt_date", "manufacture_date"}},
		{"a visit before the purchase", func(i *Input) { i.Visit = date(t, "2026-02-01") }, []string{"visit_date", "2026-02-01", "invoice_date 2026-03-01"}},
		{"a repair after the visit", func(i *Input) { i.Repairs = []Repair{{Date: date(t, "2026-04-01")}} }, []string{"repairs[0].date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := base
			tt.change(&i)
			_, err := Decide(DefaultPolicy(), nil, i)
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid {
				t.Fatalf("err = %v, want %s", err, fieldsync.EInvalid)
			}
			for _, w := range tt.detail {
				if !strings.Contains(fieldsync.ErrorDetail(err), w) {
					t.Errorf("detail %q does not name %q", fieldsync.ErrorDetail(err), w)
				}
			}
		})
	}
}

func TestRequestNamesTheBadDate(t *testing.T) {
	for field, r := range map[string]Request{
		"invoice_date":     {InvoiceDate: "2026-3-2", VisitDate: "2026-03-08"},
		"receipt_date":     {ReceiptDate: "2026-02-30", VisitDate: "2026-03-08"},
		"manufacture_date": {ManufactureDate: "yesterday", VisitDate: "2026-03-08"},
		"visit_date":       {InvoiceDate: "2026-03-02", VisitDate: "2026-03-08T10:00:00Z"},
		"repairs[1].date":  {InvoiceDate: "2026-03-02", VisitDate: "2026-03-08", Repairs: []RequestRepair{{Date: "2026-03-03"}, {Date: "03/04/2026"}}},
	} {
		_, err := r.Input()
		if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.HasPrefix(fieldsync.ErrorDetail(err), field+":") {
			t.Errorf("%s: err = %v, want EInvalid naming the field", field, err)
		}
	}
	i, err := Request{Category: "tv", InvoiceDate: "2026-03-02", VisitDate: "2026-03-08", Responsibility: "quality", FailedPart: "unit",
		Repairs: []RequestRepair{{Date: "2026-03-03", UnderWarranty: true}}}.Input()
	if err != nil || i.Invoice != NewDate(2026, 3, 2) || i.Visit != NewDate(2026, 3, 8) || !i.Receipt.IsZero() || len(i.Repairs) != 1 || !i.Repairs[0].UnderWarranty {
		t.Fatalf("Input() = %+v, %v", i, err)
	}
}

func TestAddMonthsEndsOnTheMonthsLastDay(t *testing.T) {
	for _, tt := range []struct {
		from string
		n    int
		want string
	}{
		{"2028-02-29", 12, "2029-02-28"},
		{"2028-02-29", 48, "2032-02-29"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2027-11-30", 3, "2028-02-29"},
		{"2026-03-02", 12, "2027-03-02"},
		{"2026-12-15", 3, "2027-03-15"},
	} {
		if got := date(t, tt.from).AddMonths(tt.n).String(); got != tt.want {
			t.Errorf("%s + %d months = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}
