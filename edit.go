package fieldsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Patch is a JSON merge patch (RFC 7396) of a record's top-level fields:
// a field given is set, a field given as null is cleared.
type Patch map[string]json.RawMessage

// Fields staff may correct, by record. Every other field of the record is
// immutable: its identity, its links, what the server counts or records.
var (
	customerEditable = []string{"name", "phone"}
	siteEditable     = []string{"address", "zone"}
	assetEditable    = []string{"model", "serial", "seller", "invoice_date", "receipt_date", "manufacture_date"}
	ticketEditable   = []string{"description", "channel", "kind", "created_at"}
	visitEditable    = []string{"window_start", "window_end", "notes"}
)

// applyPatch merges p into *rec (a pointer to a record struct). A field
// the record does not have, or has but staff may not change, is EInvalid
// naming it; fields are checked in name order so the answer is stable.
func applyPatch(rec any, p Patch, editable []string) error {
	if len(p) == 0 {
		return Errorf(EInvalid, "the patch changes nothing; name at least one of %s", strings.Join(editable, ", "))
	}
	known := jsonFields(reflect.TypeOf(rec).Elem())
	for _, k := range slices.Sorted(maps.Keys(p)) {
		switch {
		case !known[k]:
			return Errorf(EInvalid, "%s: unknown field (editable: %s)", k, strings.Join(editable, ", "))
		case !slices.Contains(editable, k):
			return Errorf(EInvalid, "%s: cannot be changed (editable: %s)", k, strings.Join(editable, ", "))
		}
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(raw, &merged); err != nil {
		return err
	}
	for k, v := range p {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	if raw, err = json.Marshal(merged); err != nil {
		return err
	}
	fresh := reflect.New(reflect.TypeOf(rec).Elem())
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(fresh.Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Errorf(EInvalid, "%s: must be a JSON %s", te.Field, te.Type.Kind())
		}
		return Errorf(EInvalid, "the patch does not fit the record: %v", err)
	}
	reflect.ValueOf(rec).Elem().Set(fresh.Elem())
	return nil
}

// jsonFields lists the JSON names of a struct's fields.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// Edit applies staff's patch of a customer's name and phone.
func (c *Customer) Edit(p Patch) error {
	if err := applyPatch(c, p, customerEditable); err != nil {
		return err
	}
	return c.Validate()
}

// Edit applies staff's patch of a site's address and zone.
func (s *Site) Edit(p Patch) error {
	if err := applyPatch(s, p, siteEditable); err != nil {
		return err
	}
	return s.Validate()
}

// Edit applies staff's patch of an asset's model, serial, seller and
// dates.
func (a *Asset) Edit(p Patch) error {
	if err := applyPatch(a, p, assetEditable); err != nil {
		return err
	}
	return a.Validate()
}

// TicketPromises counts a ticket's first-response deadline from its
// intake, as at intake.
type TicketPromises interface {
	FirstContactDue(intake time.Time) (due time.Time, warning string, err error)
}

// Edit applies staff's patch of a ticket's description, channel, kind and
// intake (created_at). A closed or cancelled ticket is not edited
// (EConflict). A moved intake may not lie in the future and recounts the
// first-response deadline; the on-site deadlines of its visits follow
// (ReplanOnSite).
func (t *Ticket) Edit(p Patch, now time.Time, promises TicketPromises) error {
	if t.Status.Final() {
		return Errorf(EConflict, "the ticket is %s: reopen it to edit it", t.Status)
	}
	intake := t.CreatedAt
	if err := applyPatch(t, p, ticketEditable); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	if t.CreatedAt.Equal(intake) {
		return nil
	}
	if t.CreatedAt.IsZero() || t.CreatedAt.After(now) {
		return Errorf(EInvalid, "created_at: the intake must be a time (RFC 3339) not in the future")
	}
	t.CreatedAt = t.CreatedAt.UTC()
	due, warning, err := promises.FirstContactDue(t.CreatedAt)
	if err != nil {
		return err
	}
	t.FirstResponseDue, t.DueWarning = due.UTC(), warning
	return nil
}

// Edit applies staff's patch of a visit's window and notes. A finished
// visit's window is history (EConflict); its notes may still be
// corrected. A new window is checked as at booking.
func (v *Visit) Edit(p Patch, now time.Time) error {
	start, end := v.WindowStart, v.WindowEnd
	if err := applyPatch(v, p, visitEditable); err != nil {
		return err
	}
	v.Notes = strings.TrimSpace(v.Notes)
	if err := optionalText("notes", v.Notes, MaxLongText); err != nil {
		return err
	}
	if v.WindowStart.Equal(start) && v.WindowEnd.Equal(end) {
		return nil
	}
	if v.Status.Terminal() {
		return Errorf(EConflict, "the visit is %s: its window cannot change", v.Status)
	}
	if err := ValidateWindow(v.WindowStart, v.WindowEnd, now); err != nil {
		return err
	}
	v.WindowStart, v.WindowEnd, v.UpdatedAt = v.WindowStart.UTC(), v.WindowEnd.UTC(), now
	return nil
}

// DueChange is a visit deadline an edit moved.
type DueChange struct {
	VisitID   string    `json:"visit_id"`
	DueBefore time.Time `json:"due_before"`
	DueAfter  time.Time `json:"due_after"`
}

// Replan recounts the on-site deadlines of ticket t's visits at a site in
// zone (ReplanOnSite on the server's promises); collecting tells whether
// an open return or exchange sets a collection's deadline. The store calls
// it in the transaction of an edit that moved an input of them.
type Replan func(t *Ticket, zone Zone, visits []Visit, collecting bool) ([]Visit, []DueChange, error)

// ReplanOnSite recounts the on-site deadline of ticket t's visits, at a
// site in zone, after an edit of an input of it (the zone, the intake).
// Only visits not yet on site whose deadline is the on-site promise are
// recounted: not a second visit (its promise runs from the visit that
// asked for it), nor the collection of an open return or exchange when
// collecting (its deadline is the pick-up's). It returns the visits it
// changed and how.
func ReplanOnSite(t *Ticket, zone Zone, visits []Visit, collecting bool, now time.Time, promises VisitPromises) ([]Visit, []DueChange, error) {
	var changed []Visit
	var moves []DueChange
	for _, v := range visits {
		if (v.Status != VisitScheduled && v.Status != VisitEnRoute) || v.PreviousVisitID != "" || collecting {
			continue
		}
		due, warning, err := promises.OnSiteDue(zone, t.CreatedAt)
		if err != nil {
			return nil, nil, err
		}
		if due = due.UTC(); due.Equal(v.Due) && warning == v.DueWarning {
			continue
		}
		moves = append(moves, DueChange{VisitID: v.ID, DueBefore: v.Due, DueAfter: due})
		v.Due, v.DueWarning, v.UpdatedAt = due, warning, now
		changed = append(changed, v)
	}
	return changed, moves, nil
}
