package main

import (
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
