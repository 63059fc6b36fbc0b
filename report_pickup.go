package fieldsync

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
)

// PickupKind is what a pick-up collects the item for.
type PickupKind string

const (
	PickupReturn   PickupKind = "return"   // 退货: refunded at the point of purchase against the slip
	PickupExchange PickupKind = "exchange" // 换货: the new unit delivered as the old one is collected
)

// ReportPickup is the pick-up slip (取货单) of a return or an exchange,
// made on the tablet at the visit that collects the item and signed by
// the customer with the report: the accessory check (every accessory the
// warranty policy lists for the asset's category, each present or not),
// what the missing ones deduct from the refund, priced on the price list
// version it names, and when the item was collected. The typed work
// (which kinds the warranty decision offers, the amounts) is the quote
// and warranty packages'; this type checks the slip's shape.
type ReportPickup struct {
	Kind             PickupKind        `json:"kind"`
	Category         string            `json:"category"`
	Accessories      []PickupCheck     `json:"accessories"`
	Deductions       []PickupDeduction `json:"deductions"`
	TotalFen         int64             `json:"total_fen"`
	PriceListVersion string            `json:"price_list_version"`
	// CollectedAt is when the item was collected, by the device's clock,
	// in UTC to the second (it is in the signed document).
	CollectedAt time.Time `json:"collected_at"`
}

// PickupCheck is one accessory of the check.
type PickupCheck struct {
	Accessory string `json:"accessory"`
	Present   bool   `json:"present"`
}

// PickupDeduction is what a missing accessory deducts, in fen.
type PickupDeduction struct {
	Accessory string `json:"accessory"`
	Fen       int64  `json:"fen"`
}

// MaxPickupAccessories bounds the accessory check of one slip.
const MaxPickupAccessories = 64

// Missing lists the accessories the check found missing, in its order.
func (p ReportPickup) Missing() []string {
	var out []string
	for _, c := range p.Accessories {
		if !c.Present {
			out = append(out, c.Accessory)
		}
	}
	return out
}

// ParseReportPickup reads the pickup field of an edit and checks its
// shape: kind return or exchange; a category; the accessory check, each
// accessory once; one deduction per missing accessory, in the check's
// order, none for a present one, no amount negative; total_fen their sum;
// a price_list_version; collected_at in UTC to the second. EInvalid names
// what is wrong.
func ParseReportPickup(raw json.RawMessage) (ReportPickup, error) {
	var p ReportPickup
	bad := func(format string, a ...any) (ReportPickup, error) {
		return ReportPickup{}, Errorf(EInvalid, "pickup."+format, a...)
	}
	if strict(raw, &p) != nil {
		return ReportPickup{}, Errorf(EInvalid, "pickup must be an object {kind, category, accessories, deductions, total_fen, price_list_version, collected_at}")
	}
	if p.Kind != PickupReturn && p.Kind != PickupExchange {
		return bad("kind: %q is not return or exchange", p.Kind)
	}
	if p.Category == "" || len(p.Category) > 64 {
		return bad("category: 1..64 bytes, the asset's category")
	}
	if p.Accessories == nil || len(p.Accessories) > MaxPickupAccessories {
		return bad("accessories: a list of {accessory, present}, at most %d", MaxPickupAccessories)
	}
	for i, c := range p.Accessories {
		if c.Accessory == "" || len(c.Accessory) > 64 {
			return bad("accessories[%d].accessory: 1..64 bytes", i)
		}
		if slices.IndexFunc(p.Accessories, func(o PickupCheck) bool { return o.Accessory == c.Accessory }) != i {
			return bad("accessories[%d]: %q is checked twice", i, c.Accessory)
		}
	}
	missing := p.Missing()
	if len(p.Deductions) != len(missing) {
		return bad("deductions: %d, but the check finds %d accessories missing; one deduction per missing accessory", len(p.Deductions), len(missing))
	}
	var sum int64
	for i, d := range p.Deductions {
		switch {
		case d.Accessory != missing[i]:
			return bad("deductions[%d].accessory: %q, but the missing accessory there is %q", i, d.Accessory, missing[i])
		case d.Fen < 0:
			return bad("deductions[%d].fen: must not be negative, not %d", i, d.Fen)
		case sum > math.MaxInt64-d.Fen:
			return bad("deductions[%d].fen: the total overflows", i)
		}
		sum += d.Fen
	}
	if p.TotalFen != sum {
		return bad("total_fen: %d, but the deductions add up to %d", p.TotalFen, sum)
	}
	if p.PriceListVersion == "" || len(p.PriceListVersion) > 64 {
		return bad("price_list_version: 1..64 bytes, the version the deductions are priced on")
	}
	if p.CollectedAt.IsZero() || p.CollectedAt.Location() != time.UTC || !p.CollectedAt.Equal(p.CollectedAt.Truncate(time.Second)) {
		return bad("collected_at: an RFC 3339 time in UTC to the second, YYYY-MM-DDTHH:MM:SSZ")
	}
	return p, nil
}

// Codes of a pick-up slip refused (SDK errors and push results).
const (
	// EPickupNotOffered: the slip's kind is not among the options of the
	// ticket's warranty decision (or the ticket has none).
	EPickupNotOffered = "pickup_not_offered"
	// EPickupDeductions: the slip names the server's price list version
	// but deducts other amounts than that list does.
	EPickupDeductions = "pickup_deductions_mismatch"
)

// WarrantyOptions returns the options of a warranty decision (a
// warranty.Decision as JSON), nil when it has none.
func WarrantyOptions(decision json.RawMessage) []string {
	var d struct {
		Options []string `json:"options"`
	}
	if json.Unmarshal(decision, &d) != nil {
		return nil
	}
	return d.Options
}

// CheckPickupOffered is EPickupNotOffered, naming the options, unless
// kind is one of the options of the warranty decision (nil: none made).
func CheckPickupOffered(kind PickupKind, decision json.RawMessage) error {
	if decision == nil {
		return Errorf(EPickupNotOffered, "pickup.kind: %s needs a warranty decision that offers it, and the ticket has none", kind)
	}
	options := WarrantyOptions(decision)
	if !slices.Contains(options, string(kind)) {
		return Errorf(EPickupNotOffered, "pickup.kind: the warranty decision does not offer %s (options: %s)", kind, strings.Join(options, ", "))
	}
	return nil
}
