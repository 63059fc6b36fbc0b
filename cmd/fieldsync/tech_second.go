package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync"
)

// techSecondVisit ends the visit needs_second_visit with the parts the
// next visit must bring: VISIT [--part CODE[xN]]... [--note TEXT].
func techSecondVisit(_ context.Context, t techCall) error {
	if len(t.args) < 1 || strings.HasPrefix(t.args[0], "-") {
		return fmt.Errorf("%w: second-visit takes VISIT [--part CODE[xN]]... [--note TEXT]", errUsage)
	}
	need := fieldsync.SecondVisit{Parts: []fieldsync.PartNeed{}}
	args := t.args[1:]
	for len(args) > 0 {
		flag, value, ok := strings.Cut(args[0], "=")
		if !strings.HasPrefix(flag, "--") {
			return fmt.Errorf("%w: second-visit takes VISIT [--part CODE[xN]]... [--note TEXT], not %q", errUsage, args[0])
		}
		if !ok {
			if len(args) < 2 {
				return fmt.Errorf("%w: second-visit: %s takes a value", errUsage, args[0])
			}
			value, args = args[1], args[1:]
		}
		args = args[1:]
		switch flag {
		case "--part":
			p, err := parsePartNeed(value)
			if err != nil {
				return err
			}
			need.Parts = append(need.Parts, p)
		case "--note":
			need.Note = value
		default:
			return fmt.Errorf("%w: second-visit: unknown flag %q (--part CODE[xN], --note TEXT)", errUsage, flag)
		}
	}
	if err := t.c.NeedSecondVisit(t.args[0], need); err != nil {
		return err
	}
	return pending(t.c, t.stdout, t.name+" recorded")
}

// parsePartNeed reads CODE or CODExN (N parts of CODE).
func parsePartNeed(s string) (fieldsync.PartNeed, error) {
	p := fieldsync.PartNeed{Code: s, Qty: 1}
	if i := strings.LastIndex(s, "x"); i > 0 {
		if n, err := strconv.Atoi(s[i+1:]); err == nil {
			p.Code, p.Qty = s[:i], n
		}
	}
	if p.Code == "" {
		return p, fmt.Errorf("%w: second-visit: --part takes CODE or CODExN", errUsage)
	}
	return p, nil
}
