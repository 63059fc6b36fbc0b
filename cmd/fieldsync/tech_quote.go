package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
)

const quoteUsage = "quote takes VISIT ITEM… (part:CODE[xN], labour:CODE[xN], callout), VISIT --accept, or VISIT --decline [--reason TEXT]"

// techQuote prices paid work offline and keeps the quote in the visit's
// report (clientsdk.SetQuote), printing its lines and total in yuan; with
// --accept or --decline it records the customer's decision, a decline
// ending the visit (clientsdk.DeclineQuoteAndEnd).
func techQuote(_ context.Context, t techCall) error {
	var (
		visit, reason              string
		accept, decline, hasReason bool
		items                      []string
	)
	for i := 0; i < len(t.args); i++ {
		switch a := t.args[i]; {
		case a == "--accept":
			accept = true
		case a == "--decline":
			decline = true
		case a == "--reason":
			if i+1 >= len(t.args) {
				return fmt.Errorf("%w: quote: --reason needs TEXT", errUsage)
			}
			i++
			reason, hasReason = t.args[i], true
		case strings.HasPrefix(a, "--reason="):
			reason, hasReason = strings.TrimPrefix(a, "--reason="), true
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("%w: quote: unknown flag %s; %s", errUsage, a, quoteUsage)
		case visit == "":
			visit = a
		default:
			items = append(items, a)
		}
	}
	switch {
	case visit == "":
		return fmt.Errorf("%w: %s", errUsage, quoteUsage)
	case accept && decline, (accept || decline) && len(items) > 0, !accept && !decline && len(items) == 0:
		return fmt.Errorf("%w: %s", errUsage, quoteUsage)
	case hasReason && !decline:
		return fmt.Errorf("%w: quote: --reason goes with --decline", errUsage)
	}
	report, err := draftOf(t.c, visit)
	if err != nil {
		return err
	}
	switch {
	case accept:
		q, err := t.c.AcceptQuote(report)
		if err != nil {
			return err
		}
		return pending(t.c, t.stdout, "quote of "+fieldsync.FormatFen(q.TotalFen)+" accepted: the report can be signed")
	case decline:
		q, err := t.c.DeclineQuoteAndEnd(report, reason)
		if err != nil {
			return err
		}
		return pending(t.c, t.stdout, "quote of "+fieldsync.FormatFen(q.TotalFen)+" declined; visit completed ("+fieldsync.EndQuoteDeclined+")")
	}
	l, err := t.c.PriceList()
	if err != nil {
		return err
	}
	parsed := make([]quote.Item, len(items))
	for i, s := range items {
		if parsed[i], err = quoteItem(l, s); err != nil {
			return err
		}
	}
	q, err := t.c.SetQuote(report, parsed)
	if err != nil {
		return err
	}
	printQuote(t, q)
	return pending(t.c, t.stdout, "quote kept in the report, pending the customer's decision (quote "+visit+" --accept|--decline)")
}

// quoteItem reads one ITEM: part:CODE or labour:CODE, either with xN for
// a quantity other than 1, or callout. A code the list does not have is
// refused with the codes it has.
func quoteItem(l quote.PriceList, s string) (quote.Item, error) {
	if s == quote.CalloutCode {
		return quote.Item{Kind: quote.KindCallout, Code: quote.CalloutCode, Qty: 1}, nil
	}
	kind, code, ok := strings.Cut(s, ":")
	var codes []string
	switch quote.Kind(kind) {
	case quote.KindPart:
		for _, p := range l.Parts {
			codes = append(codes, p.Code)
		}
	case quote.KindLabour:
		for _, x := range l.Labour {
			codes = append(codes, x.Code)
		}
	default:
		ok = false
	}
	if !ok || code == "" {
		return quote.Item{}, fmt.Errorf("%w: quote: %q is not an item: part:CODE[xN], labour:CODE[xN] or callout", errUsage, s)
	}
	qty := int64(1)
	if !slices.Contains(codes, code) {
		// A code is taken whole when the list has it: "box2" is not "bo" × 2.
		if i := strings.LastIndexByte(code, 'x'); i > 0 {
			if n, err := strconv.ParseInt(code[i+1:], 10, 64); err == nil && slices.Contains(codes, code[:i]) {
				code, qty = code[:i], n
			}
		}
	}
	if !slices.Contains(codes, code) {
		return quote.Item{}, fmt.Errorf("%w: quote: price list %s has no %s %q; its %s codes: %s", errUsage, l.Version, kind, code, kind, briefList(codes))
	}
	return quote.Item{Kind: quote.Kind(kind), Code: code, Qty: qty}, nil
}

// briefList names at most a dozen codes.
func briefList(codes []string) string {
	const most = 12
	if len(codes) > most {
		return strings.Join(codes[:most], ", ") + fmt.Sprintf(" … (%d more)", len(codes)-most)
	}
	if len(codes) == 0 {
		return "none"
	}
	return strings.Join(codes, ", ")
}

// printQuote writes the quote's lines and total in yuan.
func printQuote(t techCall, q quote.Quote) {
	fmt.Fprintf(t.stdout, "quote on price list %s:\n", q.PriceListVersion)
	tw := tabwriter.NewWriter(t.stdout, 0, 0, 2, ' ', 0)
	for _, ln := range q.Lines {
		fmt.Fprintf(tw, "  %s\t%s %s\t%d ×\t%s\t%s\n", ln.Code, ln.Name.ZhCN, ln.Name.En, ln.Qty, fieldsync.FormatFen(ln.UnitFen), fieldsync.FormatFen(ln.TotalFen))
	}
	fmt.Fprintf(tw, "  total\t\t\t\t%s\n", fieldsync.FormatFen(q.TotalFen))
	tw.Flush()
}
