package quote

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/strictjson"
)

// Currency is the only currency a price list is in.
const Currency = "CNY"

// ListID is the id under which the server publishes its price list to
// devices (fieldsync.EntityPriceList).
const ListID = "default"

// Bounds of a quote: more is a typing mistake on the tablet.
const (
	MaxQty   = 999 // of one line
	MaxLines = 100 // of one quote
)

// Names is a name in both languages of the app.
type Names struct {
	ZhCN string `json:"zh-CN"`
	En   string `json:"en"`
}

// Part is a spare part with its price.
type Part struct {
	Code     string `json:"code"`
	Name     Names  `json:"name"`
	Category string `json:"category"`
	PriceFen int64  `json:"price_fen"`
}

// Labour is a labour item with its price, e.g. a diagnosis.
type Labour struct {
	Code     string `json:"code"`
	Name     Names  `json:"name"`
	PriceFen int64  `json:"price_fen"`
}

// PriceList is what paid work costs, under a version a quote names.
type PriceList struct {
	Version    string   `json:"version"`
	Currency   string   `json:"currency"`
	CalloutFen int64    `json:"callout_fen"`
	Labour     []Labour `json:"labour"`
	Parts      []Part   `json:"parts"`
	// Accessories price what a return or an exchange deducts for an
	// accessory the customer no longer has (see Deductions).
	Accessories []Accessory `json:"accessories,omitempty"`
}

// Kind is what a quote line charges for.
type Kind string

const (
	KindPart    Kind = "part"
	KindLabour  Kind = "labour"
	KindCallout Kind = "callout" // code "callout", quantity 1
)

// CalloutCode is the code of the call-out line.
const CalloutCode = "callout"

// Item is what the technician asks to quote: a part or labour item by
// code and how many, or the call-out fee.
type Item struct {
	Kind Kind   `json:"kind"`
	Code string `json:"code"`
	Qty  int64  `json:"qty"`
}

// Line is an item priced: TotalFen = UnitFen × Qty.
type Line struct {
	Kind     Kind   `json:"kind"`
	Code     string `json:"code"`
	Name     Names  `json:"name"`
	Qty      int64  `json:"qty"`
	UnitFen  int64  `json:"unit_fen"`
	TotalFen int64  `json:"total_fen"`
}

// Decision is the customer's answer to a quote.
type Decision string

const (
	Pending  Decision = "pending"
	Accepted Decision = "accepted"
	Declined Decision = "declined"
)

// Quote is priced paid work and the customer's decision on it.
type Quote struct {
	PriceListVersion string     `json:"price_list_version"`
	Currency         string     `json:"currency"`
	Lines            []Line     `json:"lines"`
	TotalFen         int64      `json:"total_fen"`
	Decision         Decision   `json:"decision"`
	DecidedAt        *time.Time `json:"decided_at,omitempty"`
}

//go:embed default.json
var defaultJSON []byte

// defaultList is parsed at init; TestDefaultList checks the file, so
// the parse cannot fail in a built binary.
var defaultList = func() PriceList {
	l, err := Parse(defaultJSON)
	if err != nil {
		panic(err)
	}
	return l
}()

// Default returns the shipped price list. Its amounts are placeholders
// (see the package documentation).
func Default() PriceList { return clone(defaultList) }

// DefaultSource returns the shipped price list's JSON, for publishing it
// to tablets as it is.
func DefaultSource() []byte { return bytes.Clone(defaultJSON) }

func clone(l PriceList) PriceList {
	l.Labour = append([]Labour(nil), l.Labour...)
	l.Parts = append([]Part(nil), l.Parts...)
	l.Accessories = append([]Accessory(nil), l.Accessories...)
	return l
}

// Parse parses a price list in the JSON form of default.json and validates
// it. It is strict: an unknown field, a non-integer amount, a negative
// amount or a trailing value is EInvalid, with a detail naming the field
// (parts[2].price_fen: …).
func Parse(data []byte) (PriceList, error) {
	var l PriceList
	if err := strictjson.Decode("price list", data, &l); err != nil {
		return PriceList{}, err
	}
	if err := l.Validate(); err != nil {
		return PriceList{}, err
	}
	return l, nil
}

var codeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Validate returns EInvalid naming the first field that is wrong.
func (l PriceList) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fieldsync.Errorf(fieldsync.EInvalid, "price list: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(l.Version) == "" || len(l.Version) > 64 {
		return bad("version", "must be 1..64 characters")
	}
	if l.Currency != Currency {
		return bad("currency", "must be %q, not %q", Currency, l.Currency)
	}
	if l.CalloutFen < 0 {
		return bad("callout_fen", "must not be negative, not %d", l.CalloutFen)
	}
	seen := map[string]string{CalloutCode: "callout"}
	item := func(field, code string, name Names, price int64) error {
		switch {
		case !codeRe.MatchString(code):
			return bad(field+".code", "%q is not a code (lower-case letters, digits, _ . -)", code)
		case seen[code] != "":
			return bad(field+".code", "%q is also %s", code, seen[code])
		case strings.TrimSpace(name.ZhCN) == "" || strings.TrimSpace(name.En) == "":
			return bad(field+".name", "needs zh-CN and en")
		case price < 0:
			return bad(field+".price_fen", "must not be negative, not %d", price)
		}
		seen[code] = field
		return nil
	}
	for i, x := range l.Labour {
		if err := item(fmt.Sprintf("labour[%d]", i), x.Code, x.Name, x.PriceFen); err != nil {
			return err
		}
	}
	for i, p := range l.Parts {
		f := fmt.Sprintf("parts[%d]", i)
		if err := item(f, p.Code, p.Name, p.PriceFen); err != nil {
			return err
		}
		if strings.TrimSpace(p.Category) == "" {
			return bad(f+".category", "is missing")
		}
	}
	return l.validateAccessories(bad)
}

// price returns the unit price and name of an item, EInvalid naming the
// field when the list has no such item.
func (l PriceList) price(field string, kind Kind, code string) (int64, Names, error) {
	switch kind {
	case KindCallout:
		if code != CalloutCode {
			return 0, Names{}, fieldsync.Errorf(fieldsync.EInvalid, "quote: %s.code: the call-out line has code %q, not %q", field, CalloutCode, code)
		}
		return l.CalloutFen, Names{ZhCN: "上门费", En: "call-out fee"}, nil
	case KindLabour:
		for _, x := range l.Labour {
			if x.Code == code {
				return x.PriceFen, x.Name, nil
			}
		}
	case KindPart:
		for _, p := range l.Parts {
			if p.Code == code {
				return p.PriceFen, p.Name, nil
			}
		}
	default:
		return 0, Names{}, fieldsync.Errorf(fieldsync.EInvalid, "quote: %s.kind: %q is not part, labour or callout", field, kind)
	}
	return 0, Names{}, fieldsync.Errorf(fieldsync.EInvalid, "quote: %s.code: price list %s has no %s %q", field, l.Version, kind, code)
}

// checkQty is EInvalid unless qty is 1..MaxQty (exactly 1 for call-out).
func checkQty(field string, kind Kind, qty int64) error {
	max := int64(MaxQty)
	if kind == KindCallout {
		max = 1
	}
	if qty < 1 || qty > max {
		return fieldsync.Errorf(fieldsync.EInvalid, "quote: %s.qty: %d is outside 1..%d", field, qty, max)
	}
	return nil
}

// mul and add are a×b and a+b, or EInvalid naming the field when the
// result does not fit in int64.
func mul(field string, a, b int64) (int64, error) {
	if a != 0 && b != 0 && (a > math.MaxInt64/b) {
		return 0, fieldsync.Errorf(fieldsync.EInvalid, "quote: %s: %d × %d fen overflows", field, a, b)
	}
	return a * b, nil
}

func add(field string, a, b int64) (int64, error) {
	if a > math.MaxInt64-b {
		return 0, fieldsync.Errorf(fieldsync.EInvalid, "quote: %s: the total overflows", field)
	}
	return a + b, nil
}

// Build prices items on a price list: one line per item, in order, and
// their total. The quote is pending. EInvalid names the item that is
// wrong (items[1].code: price list … has no part "x"), a quantity out of
// bounds, or an amount that overflows.
func Build(l PriceList, items []Item) (Quote, error) {
	if len(items) == 0 || len(items) > MaxLines {
		return Quote{}, fieldsync.Errorf(fieldsync.EInvalid, "quote: items: %d items, want 1..%d", len(items), MaxLines)
	}
	q := Quote{PriceListVersion: l.Version, Currency: l.Currency, Lines: make([]Line, 0, len(items)), Decision: Pending}
	for i, it := range items {
		f := fmt.Sprintf("items[%d]", i)
		unit, name, err := l.price(f, it.Kind, it.Code)
		if err != nil {
			return Quote{}, err
		}
		if err := checkQty(f, it.Kind, it.Qty); err != nil {
			return Quote{}, err
		}
		total, err := mul(f, unit, it.Qty)
		if err != nil {
			return Quote{}, err
		}
		if q.TotalFen, err = add(f, q.TotalFen, total); err != nil {
			return Quote{}, err
		}
		q.Lines = append(q.Lines, Line{Kind: it.Kind, Code: it.Code, Name: name, Qty: it.Qty, UnitFen: unit, TotalFen: total})
	}
	return q, nil
}

// Validate re-checks a quote against the price list it names: the version
// and currency, every line's unit price, name and total, the quote's
// total and its decision. EInvalid names what is wrong (lines[2].total_fen:
// …); a quote of another version is EInvalid naming price_list_version.
func Validate(q Quote, l PriceList) error {
	bad := func(field, format string, args ...any) error {
		return fieldsync.Errorf(fieldsync.EInvalid, "quote: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if q.PriceListVersion != l.Version {
		return bad("price_list_version", "%q is not the price list in force (%q)", q.PriceListVersion, l.Version)
	}
	if q.Currency != l.Currency {
		return bad("currency", "must be %q, not %q", l.Currency, q.Currency)
	}
	if len(q.Lines) == 0 || len(q.Lines) > MaxLines {
		return bad("lines", "%d lines, want 1..%d", len(q.Lines), MaxLines)
	}
	var sum int64
	for i, ln := range q.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		unit, name, err := l.price(f, ln.Kind, ln.Code)
		if err != nil {
			return err
		}
		if err := checkQty(f, ln.Kind, ln.Qty); err != nil {
			return err
		}
		if ln.UnitFen != unit {
			return bad(f+".unit_fen", "%d, but price list %s has %d for %s %q", ln.UnitFen, l.Version, unit, ln.Kind, ln.Code)
		}
		if ln.Name != name {
			return bad(f+".name", "is not the price list's name of %s %q", ln.Kind, ln.Code)
		}
		total, err := mul(f, unit, ln.Qty)
		if err != nil {
			return err
		}
		if ln.TotalFen != total {
			return bad(f+".total_fen", "%d, but %d × %d is %d", ln.TotalFen, ln.Qty, unit, total)
		}
		if sum, err = add(f, sum, total); err != nil {
			return err
		}
	}
	if q.TotalFen != sum {
		return bad("total_fen", "%d, but the lines add up to %d", q.TotalFen, sum)
	}
	switch q.Decision {
	case Pending:
		if q.DecidedAt != nil {
			return bad("decided_at", "a pending quote is not decided yet")
		}
	case Accepted, Declined:
		if q.DecidedAt == nil {
			return bad("decided_at", "is missing for a %s quote", q.Decision)
		}
	default:
		return bad("decision", "%q is not pending, accepted or declined", q.Decision)
	}
	return nil
}

// Decide records the customer's answer on a pending quote. EConflict when
// the quote is already decided: a changed mind is a new quote.
func Decide(q Quote, accepted bool, at time.Time) (Quote, error) {
	if q.Decision != Pending {
		return q, fieldsync.Errorf(fieldsync.EConflict, "quote: already %s", q.Decision)
	}
	q.Lines = append([]Line(nil), q.Lines...)
	q.Decision = Declined
	if accepted {
		q.Decision = Accepted
	}
	at = at.UTC()
	q.DecidedAt = &at
	return q, nil
}

// FromReport returns the quote a report keeps (fieldsync.ReportQuote, the
// same JSON) as a Quote; the customer's reason for declining stays in the
// report.
func FromReport(rq fieldsync.ReportQuote) Quote {
	q := Quote{PriceListVersion: rq.PriceListVersion, Currency: rq.Currency, TotalFen: rq.TotalFen, Decision: Decision(rq.Decision), DecidedAt: rq.DecidedAt}
	for _, ln := range rq.Lines {
		q.Lines = append(q.Lines, Line{Kind: Kind(ln.Kind), Code: ln.Code, Name: Names{ZhCN: ln.Name.ZhCN, En: ln.Name.En}, Qty: ln.Qty, UnitFen: ln.UnitFen, TotalFen: ln.TotalFen})
	}
	return q
}

// ToReport returns q as a report keeps it.
func ToReport(q Quote) fieldsync.ReportQuote {
	rq := fieldsync.ReportQuote{PriceListVersion: q.PriceListVersion, Currency: q.Currency, TotalFen: q.TotalFen, Decision: string(q.Decision), DecidedAt: q.DecidedAt}
	for _, ln := range q.Lines {
		rq.Lines = append(rq.Lines, fieldsync.QuoteLine{Kind: string(ln.Kind), Code: ln.Code, Name: fieldsync.QuoteNames{ZhCN: ln.Name.ZhCN, En: ln.Name.En}, Qty: ln.Qty, UnitFen: ln.UnitFen, TotalFen: ln.TotalFen})
	}
	return rq
}
