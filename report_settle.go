package fieldsync

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// WarrantySettlement is a dispatcher's ruling on a disputed warranty
// decision: the outcome that holds, one the device's or the server's
// decision offered, and why.
type WarrantySettlement struct {
	Outcome string    `json:"outcome"`
	Note    string    `json:"note,omitempty"`
	By      string    `json:"by,omitempty"` // the dispatcher; not shown to customers
	At      time.Time `json:"at"`
}

// SettleWarranty records a dispatcher's ruling on the report's disputed
// warranty decision and clears the dispute. The outcome must be one of
// the options of the device's decision or of the server's (EInvalid
// naming them). A report settled already answers EWarrantySettled; one
// whose decision is not disputed, or still a draft the technician may
// change, EInvalidTransition. The device's decision and the server's are
// kept as they are: the signed document does not change.
func (r *Report) SettleWarranty(outcome, note, by string, at time.Time) error {
	if r.WarrantySettled != nil {
		s := r.WarrantySettled
		return Errorf(EWarrantySettled, "report %s's warranty decision was settled already: %s, by %s at %s", r.ID, s.Outcome, s.By, s.At.Format(time.RFC3339))
	}
	if !r.WarrantyDisputed || r.Warranty == nil {
		return Errorf(EInvalidTransition, "report %s's warranty decision is not disputed", r.ID)
	}
	if r.Status == ReportDraft {
		return Errorf(EInvalidTransition, "report %s is a draft: the technician may still change its warranty decision; settle it once signed", r.ID)
	}
	options := decisionOptions(nil, r.Warranty.Decision)
	if r.WarrantyServer != nil {
		options = decisionOptions(options, r.WarrantyServer.Decision)
	}
	outcome = strings.TrimSpace(outcome)
	if !slices.Contains(options, outcome) {
		return Errorf(EInvalid, "outcome %q is not an option of the device's or the server's decision: %s", outcome, strings.Join(options, ", "))
	}
	note = strings.TrimSpace(note)
	if err := CheckText("note", note, MaxLongText); err != nil {
		return err
	}
	r.WarrantySettled = &WarrantySettlement{Outcome: outcome, Note: note, By: by, At: at}
	r.WarrantyDisputed = false
	r.UpdatedAt = at
	return nil
}

// decisionOptions adds the outcome and options of a decision
// (warranty.Decision as JSON) to options, each once.
func decisionOptions(options []string, decision json.RawMessage) []string {
	var d struct {
		Outcome string   `json:"outcome"`
		Options []string `json:"options"`
	}
	if len(decision) == 0 || json.Unmarshal(decision, &d) != nil {
		return options
	}
	for _, o := range append([]string{d.Outcome}, d.Options...) {
		if o != "" && !slices.Contains(options, o) {
			options = append(options, o)
		}
	}
	return options
}
