package fieldsync

import (
	"encoding/json"
	"strings"
	"time"
)

// SecondVisit is what a visit that ends needs_second_visit asks the next
// visit to bring: spare parts by price-list code, and a note for the
// technician who goes.
type SecondVisit struct {
	Parts []PartNeed `json:"parts"`
	Note  string     `json:"note,omitempty"`
}

// PartNeed is a spare part by its price-list code, and how many.
type PartNeed struct {
	Code string `json:"code"`
	Qty  int    `json:"qty"`
}

// Bounds of a second visit's needs: more is a typing mistake.
const (
	MaxSecondVisitParts = 50
	MaxPartQty          = 999
)

// ParseSecondVisit reads the fields of a need_second_visit action: parts
// ([{code, qty}], may be empty) and note. known tells whether a code is a
// part of the price list; nil checks no codes (the tablet's overlay, where
// the server decides). EInvalid names the field that is wrong.
func ParseSecondVisit(fields map[string]json.RawMessage, known func(code string) bool) (*SecondVisit, error) {
	var sv SecondVisit
	for k, raw := range fields {
		var err error
		switch k {
		case "parts":
			err = json.Unmarshal(raw, &sv.Parts)
		case "note":
			err = json.Unmarshal(raw, &sv.Note)
		default:
			return nil, Errorf(EInvalid, "need_second_visit takes parts and note, not %q", k)
		}
		if err != nil {
			return nil, Errorf(EInvalid, "%s: %v", k, err)
		}
	}
	if sv.Parts == nil {
		sv.Parts = []PartNeed{}
	}
	if err := sv.Validate(known); err != nil {
		return nil, err
	}
	return &sv, nil
}

// Validate checks the parts (a known code, once each, 1..MaxPartQty of
// it) and the note; known as in ParseSecondVisit.
func (sv *SecondVisit) Validate(known func(code string) bool) error {
	if len(sv.Parts) > MaxSecondVisitParts {
		return Errorf(EInvalid, "parts: at most %d", MaxSecondVisitParts)
	}
	seen := map[string]bool{}
	for i, p := range sv.Parts {
		switch {
		case strings.TrimSpace(p.Code) == "":
			return Errorf(EInvalid, "parts[%d].code is required", i)
		case known != nil && !known(p.Code):
			return Errorf(EInvalid, "parts[%d].code: %q is not a part of the price list", i, p.Code)
		case seen[p.Code]:
			return Errorf(EInvalid, "parts[%d].code: %q is listed twice; give its qty once", i, p.Code)
		case p.Qty < 1 || p.Qty > MaxPartQty:
			return Errorf(EInvalid, "parts[%d].qty: %d is outside 1..%d", i, p.Qty, MaxPartQty)
		}
		seen[p.Code] = true
	}
	sv.Note = strings.TrimSpace(sv.Note)
	return CheckText("note", sv.Note, MaxLongText)
}

// SecondVisitState is where a request for a second visit stands for the
// dispatcher who books it.
type SecondVisitState string

const (
	// SecondVisitToBook: no visit booked yet, the promise still ahead.
	SecondVisitToBook SecondVisitState = "to_book"
	// SecondVisitBooked: a visit that is not cancelled names it as its
	// previous one.
	SecondVisitBooked SecondVisitState = "booked"
	// SecondVisitOverdue: no visit booked, and the promise has passed.
	SecondVisitOverdue SecondVisitState = "overdue"
)

// ParseSecondVisitState returns EInvalid for an unknown state.
func ParseSecondVisitState(s string) (SecondVisitState, error) {
	if oneOf(SecondVisitState(s), []SecondVisitState{SecondVisitToBook, SecondVisitBooked, SecondVisitOverdue}) {
		return SecondVisitState(s), nil
	}
	return "", Errorf(EInvalid, "state %q is not to_book, booked or overdue", s)
}

// SecondVisitRequest is a visit that ended needs_second_visit, as the
// dispatcher books it: the parts it asked for (Visit.SecondVisit), the
// second-visit promise and the visit booked for it, if any.
type SecondVisitRequest struct {
	Visit         Visit            `json:"visit"`
	Due           time.Time        `json:"due"`
	DueWarning    string           `json:"due_warning,omitempty"`
	State         SecondVisitState `json:"state"`
	BookedVisitID string           `json:"booked_visit_id,omitempty"`
}

// BookedFor returns the id of the visit booked for the second visit v
// asked for: the latest of visits (the ticket's) that names v as its
// previous one and is not cancelled; "" when none.
func BookedFor(v *Visit, visits []Visit) string {
	booked := ""
	for i := range visits {
		if w := &visits[i]; w.PreviousVisitID == v.ID && w.Status != VisitCancelled {
			booked = w.ID
		}
	}
	return booked
}

// NewSecondVisitRequest states the request of v, which ended
// needs_second_visit, at now: booked when bookedID names a visit, else
// overdue once the promise (promises.SecondVisitDue from when v finished)
// has passed, else to book.
func NewSecondVisitRequest(v Visit, bookedID string, promises VisitPromises, now time.Time) (SecondVisitRequest, error) {
	r := SecondVisitRequest{Visit: v, BookedVisitID: bookedID}
	if v.Status != VisitNeedsSecondVisit || v.FinishedAt == nil {
		return r, Errorf(EInvalid, "visit %s did not end needing a second visit", v.ID)
	}
	var err error
	if r.Due, r.DueWarning, err = promises.SecondVisitDue(*v.FinishedAt); err != nil {
		return r, err
	}
	r.Due = r.Due.UTC()
	switch {
	case bookedID != "":
		r.State = SecondVisitBooked
	case now.After(r.Due):
		r.State = SecondVisitOverdue
	default:
		r.State = SecondVisitToBook
	}
	return r, nil
}
