package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
)

// techPickup makes the pick-up slip of the visit's report offline
// (clientsdk.SetPickup) and prints the accessory check and what the
// missing accessories deduct, in yuan.
func techPickup(_ context.Context, t techCall) error {
	flags := flag.NewFlagSet("tech pickup", flag.ContinueOnError)
	flags.SetOutput(t.stderr)
	missingList := flags.String("missing", "", "the accessories missing at pick-up, comma-separated (e.g. remote,stand)")
	// The operands may come before, among or after the flags.
	var operands []string
	for args := t.args; ; args = flags.Args()[1:] {
		if err := flags.Parse(args); err != nil {
			return fmt.Errorf("%w: pickup: %v", errUsage, err)
		}
		if flags.NArg() == 0 {
			break
		}
		operands = append(operands, flags.Arg(0))
	}
	if len(operands) != 2 || (operands[1] != string(fieldsync.PickupReturn) && operands[1] != string(fieldsync.PickupExchange)) {
		return fmt.Errorf("%w: pickup takes VISIT return|exchange [--missing ACCESSORY,…]", errUsage)
	}
	var missing []string
	if *missingList != "" {
		missing = strings.Split(*missingList, ",")
	}
	report, err := draftOf(t.c, operands[0])
	if err != nil {
		return err
	}
	slip, err := t.c.SetPickup(report, fieldsync.PickupKind(operands[1]), missing)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "pickup: %s of a %s, collected %s\n", slip.Kind, slip.Category, local(slip.CollectedAt))
	for _, c := range slip.Accessories {
		mark := "present"
		if !c.Present {
			mark = "MISSING"
		}
		fmt.Fprintf(t.stdout, "  %-14s %s\n", c.Accessory, mark)
	}
	for _, d := range slip.Deductions {
		fmt.Fprintf(t.stdout, "  deduct %-7s %s\n", d.Accessory, quote.Yuan(d.Fen))
	}
	// A return refunds the price less the deductions; an exchange refunds
	// nothing, so the customer pays them.
	total := "deducted from the refund"
	if slip.Kind == fieldsync.PickupExchange {
		total = "charged for the exchange"
	}
	fmt.Fprintf(t.stdout, "%s: %s (price list %s)\n", total, quote.Yuan(slip.TotalFen), slip.PriceListVersion)
	return pending(t.c, t.stdout, "slip kept in the report")
}
