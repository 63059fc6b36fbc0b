package fieldsync

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// ReportQuote is the priced paid work a device put on a report and the
// customer's decision on it (a quote.Quote, the same JSON, plus the
// customer's reason for declining). It is kept as the device sent it and
// signed with the report, so the customer signs the price they accepted;
// the pricing is the quote package's.
type ReportQuote struct {
	PriceListVersion string      `json:"price_list_version"`
	Currency         string      `json:"currency"`
	Lines            []QuoteLine `json:"lines"`
	TotalFen         int64       `json:"total_fen"`
	// Decision is pending, accepted or declined; DecidedAt is set exactly
	// when it is decided.
	Decision  string     `json:"decision"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Reason is why the customer declined, as the technician noted it;
	// only on a declined quote, and optional there.
	Reason string `json:"reason,omitempty"`
}

// QuoteLine is one priced line: TotalFen = UnitFen × Qty, in integer fen.
type QuoteLine struct {
	Kind     string     `json:"kind"` // part, labour or callout
	Code     string     `json:"code"`
	Name     QuoteNames `json:"name"`
	Qty      int64      `json:"qty"`
	UnitFen  int64      `json:"unit_fen"`
	TotalFen int64      `json:"total_fen"`
}

// QuoteNames is a line's name in both languages of the app.
type QuoteNames struct {
	ZhCN string `json:"zh-CN"`
	En   string `json:"en"`
}

// The decisions of a quote.
const (
	QuotePending  = "pending"
	QuoteAccepted = "accepted"
	QuoteDeclined = "declined"
)

// EndQuoteDeclined is the Visit.EndReason of a visit completed because
// the customer declined the quote of its report.
const EndQuoteDeclined = "quote_declined"

// Bounds of a report's quote. Unit prices stay far below 2^53 fen so
// every total is exact in the JSON numbers a signature covers.
const (
	MaxQuoteBytes   = 32 << 10
	MaxQuoteLines   = 100
	MaxQuoteQty     = 999
	MaxQuoteUnitFen = 10_000_000_000 // ¥100,000,000
)

var quoteCodeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ParseReportQuote reads the quote field of an edit and checks its shape
// strictly: price_list_version set, currency CNY, 1..MaxQuoteLines lines
// of kind part, labour or callout (code "callout", qty 1), each with a
// code, both names, qty 1..MaxQuoteQty, unit_fen 0..MaxQuoteUnitFen and
// total_fen = unit_fen × qty; total_fen the sum of the lines; decision
// pending, accepted or declined with decided_at set exactly when decided;
// a reason only on a declined quote. Amounts are integers. It does not
// price the lines: the server does that with its price list. EInvalid
// names what is wrong.
func ParseReportQuote(raw json.RawMessage) (ReportQuote, error) {
	var q ReportQuote
	bad := func(field, format string, args ...any) error {
		return Errorf(EInvalid, "quote.%s: %s", field, fmt.Sprintf(format, args...))
	}
	if len(raw) > MaxQuoteBytes {
		return q, Errorf(EInvalid, "quote: at most %d bytes", MaxQuoteBytes)
	}
	if err := strict(raw, &q); err != nil {
		return q, Errorf(EInvalid, "quote must be an object {price_list_version, currency, lines, total_fen, decision, decided_at, reason} with integer amounts in fen: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if strings.TrimSpace(q.PriceListVersion) == "" || len(q.PriceListVersion) > 64 || !utf8.ValidString(q.PriceListVersion) {
		return q, bad("price_list_version", "must be 1..64 characters")
	}
	if q.Currency != "CNY" {
		return q, bad("currency", "must be \"CNY\", not %q", q.Currency)
	}
	if len(q.Lines) == 0 || len(q.Lines) > MaxQuoteLines {
		return q, bad("lines", "%d lines, want 1..%d", len(q.Lines), MaxQuoteLines)
	}
	var sum int64
	for i, ln := range q.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		maxQty := int64(MaxQuoteQty)
		switch ln.Kind {
		case "part", "labour":
			if !quoteCodeRe.MatchString(ln.Code) || ln.Code == "callout" {
				return q, bad(f+".code", "%q is not a part or labour code", ln.Code)
			}
		case "callout":
			if ln.Code != "callout" {
				return q, bad(f+".code", "the call-out line has code \"callout\", not %q", ln.Code)
			}
			maxQty = 1
		default:
			return q, bad(f+".kind", "%q is not part, labour or callout", ln.Kind)
		}
		if err := requireText(f+".name.zh-CN", ln.Name.ZhCN, MaxShortText); err != nil {
			return q, bad(f+".name", "needs zh-CN and en, each 1..%d bytes", MaxShortText)
		}
		if err := requireText(f+".name.en", ln.Name.En, MaxShortText); err != nil {
			return q, bad(f+".name", "needs zh-CN and en, each 1..%d bytes", MaxShortText)
		}
		if ln.Qty < 1 || ln.Qty > maxQty {
			return q, bad(f+".qty", "%d is outside 1..%d", ln.Qty, maxQty)
		}
		if ln.UnitFen < 0 || ln.UnitFen > MaxQuoteUnitFen {
			return q, bad(f+".unit_fen", "%d is outside 0..%d", ln.UnitFen, int64(MaxQuoteUnitFen))
		}
		if want := ln.UnitFen * ln.Qty; ln.TotalFen != want {
			return q, bad(f+".total_fen", "%d, but %d × %d is %d", ln.TotalFen, ln.Qty, ln.UnitFen, want)
		}
		sum += ln.TotalFen
	}
	if q.TotalFen != sum {
		return q, bad("total_fen", "%d, but the lines add up to %d", q.TotalFen, sum)
	}
	switch q.Decision {
	case QuotePending:
		if q.DecidedAt != nil {
			return q, bad("decided_at", "a pending quote is not decided yet")
		}
	case QuoteAccepted, QuoteDeclined:
		if q.DecidedAt == nil {
			return q, bad("decided_at", "is missing for a %s quote", q.Decision)
		}
	default:
		return q, bad("decision", "%q is not pending, accepted or declined", q.Decision)
	}
	if q.Reason != "" && q.Decision != QuoteDeclined {
		return q, bad("reason", "only a declined quote has a reason")
	}
	if err := optionalText("quote.reason", q.Reason, MaxShortText*2); err != nil {
		return q, err
	}
	return q, nil
}

// checkQuoteDecided returns EReportIncomplete while r's quote waits for
// the customer: they sign the price they accepted or declined.
func (r *Report) checkQuoteDecided() error {
	if r.Quote != nil && r.Quote.Decision == QuotePending {
		return Errorf(EReportIncomplete, "the quote of %s is pending: record the customer's decision (accept or decline it) before signing", FormatFen(r.Quote.TotalFen))
	}
	return nil
}

// FormatFen writes an amount in fen as yuan, ¥123.45, without floating
// point.
func FormatFen(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-(fen+1))+1
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, u/100, u%100)
}

// CheckQuoteEnd returns nil when r, a report of visit v, lets the visit
// end as EndQuoteDeclined: its quote is declined. EInvalid says what is
// missing.
func CheckQuoteEnd(r *Report, v *Visit) error {
	switch {
	case r == nil || r.VisitID != v.ID:
		return Errorf(EInvalid, "report_id: visit %s has no such report; name the report whose quote the customer declined", v.ID)
	case r.Quote == nil:
		return Errorf(EInvalid, "report %s has no quote: a visit ends as %s only after the customer declines its quote", r.ID, EndQuoteDeclined)
	case r.Quote.Decision != QuoteDeclined:
		return Errorf(EInvalid, "the quote of report %s is %s, not declined: record the decline first", r.ID, r.Quote.Decision)
	}
	return nil
}
