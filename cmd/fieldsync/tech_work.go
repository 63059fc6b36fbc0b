package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/fieldsync/fieldsync"
)

// workItem is one operand of `tech work`: PART, PART:CODE, PARTxN or
// PART:CODExN.
var workItem = regexp.MustCompile(`^([a-z]+)(?::([A-Za-z0-9][A-Za-z0-9._-]*?))?(?:x([0-9]+))?$`)

// techWork records the work done in the visit's report
// (clientsdk.SetWork): a line per operand, the --note on each, replacing
// the lines recorded before.
func techWork(_ context.Context, t techCall) error {
	usage := fmt.Errorf("%w: work takes VISIT PART[:CODE][xN]... [--note TEXT]", errUsage)
	var visit, note string
	var items []string
	for i := 0; i < len(t.args); i++ {
		switch a := t.args[i]; {
		case a == "--note" || a == "-note":
			if i+1 == len(t.args) {
				return usage
			}
			i++
			note = t.args[i]
		case visit == "":
			visit = a
		default:
			items = append(items, a)
		}
	}
	if visit == "" || len(items) == 0 {
		return usage
	}
	lines := make([]fieldsync.WorkLine, 0, len(items))
	for _, it := range items {
		m := workItem.FindStringSubmatch(it)
		if m == nil {
			return fmt.Errorf("%w: work: %q is not PART[:CODE][xN], e.g. battery, major:PNL-55, cablex2", errUsage, it)
		}
		qty := 1
		if m[3] != "" {
			n, err := strconv.Atoi(m[3])
			if err != nil {
				return fmt.Errorf("%w: work: %q: the quantity is too large", errUsage, it)
			}
			qty = n
		}
		lines = append(lines, fieldsync.WorkLine{Part: m[1], Code: m[2], Qty: qty, Note: note})
	}
	report, err := draftOf(t.c, visit)
	if err != nil {
		return err
	}
	if err := t.c.SetWork(report, lines); err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintf(t.stdout, "work: %s", l.Part)
		if l.Code != "" {
			fmt.Fprintf(t.stdout, " (%s)", l.Code)
		}
		fmt.Fprintf(t.stdout, " x%d\n", l.Qty)
	}
	return pending(t.c, t.stdout, "work recorded; the visit's completion makes its work order and certificates")
}
