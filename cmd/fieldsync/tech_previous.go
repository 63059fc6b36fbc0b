package main

import (
	"fmt"
	"io"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/clientsdk"
)

// shownVisit is what `tech show` prints: the visit's bundle and, for a
// second visit, the visit that asked for it (its reports' findings,
// cause and warranty decision, and the parts it asked for).
type shownVisit struct {
	*fieldsync.VisitBundle
	Previous *clientsdk.PreviousVisit `json:"previous_visit,omitempty"`
}

// showVisit reads what `tech show` prints, offline. A visit before a
// second visit that has not reached the device yet is left out.
func showVisit(c *clientsdk.Client, visitID string) (*shownVisit, error) {
	b, err := c.Bundle(visitID)
	if err != nil {
		return nil, err
	}
	out := &shownVisit{VisitBundle: b}
	if b.Visit.PreviousVisitID == "" {
		return out, nil
	}
	if out.Previous, err = c.PreviousVisit(visitID); fieldsync.ErrorCode(err) == fieldsync.ENotFound {
		return out, nil
	}
	return out, err
}

// printPrevious writes what the visit before a second visit found and
// what it asked this one to bring.
func printPrevious(w io.Writer, p *clientsdk.PreviousVisit) {
	fmt.Fprintf(w, "second visit after %s (%s)\n", p.Visit.ID, visitWords[p.Visit.Status])
	for _, r := range p.Reports {
		fmt.Fprintf(w, "  report %s (%s): findings %s; cause %s\n", r.ID, r.Status, orDash(r.Findings), orDash(r.Cause))
	}
	if p.SecondVisit == nil {
		return
	}
	for _, part := range p.SecondVisit.Parts {
		fmt.Fprintf(w, "  bring    %s ×%d\n", part.Code, part.Qty)
	}
	if p.SecondVisit.Note != "" {
		fmt.Fprintf(w, "  note     %s\n", p.SecondVisit.Note)
	}
}
