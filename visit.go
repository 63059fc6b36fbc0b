package fieldsync

import (
	"maps"
	"strings"
	"time"
)

// VisitStatus is where a visit stands. The machine:
//
//	scheduled → en_route → on_site → completed | needs_second_visit
//	scheduled | en_route | on_site → cancelled
//
// A second visit is a new Visit on the same ticket.
type VisitStatus string

const (
	VisitScheduled        VisitStatus = "scheduled"
	VisitEnRoute          VisitStatus = "en_route"
	VisitOnSite           VisitStatus = "on_site"
	VisitCompleted        VisitStatus = "completed"
	VisitNeedsSecondVisit VisitStatus = "needs_second_visit"
	VisitCancelled        VisitStatus = "cancelled"
)

// VisitStatuses lists every status.
var VisitStatuses = []VisitStatus{VisitScheduled, VisitEnRoute, VisitOnSite, VisitCompleted, VisitNeedsSecondVisit, VisitCancelled}

// VisitAction names a transition; technicians send these from the tablet.
type VisitAction string

const (
	ActionDepart          VisitAction = "depart"
	ActionArrive          VisitAction = "arrive"
	ActionComplete        VisitAction = "complete"
	ActionNeedSecondVisit VisitAction = "need_second_visit"
	ActionCancel          VisitAction = "cancel"
)

// visitTransitions is the state machine: action -> from -> to.
var visitTransitions = map[VisitAction]map[VisitStatus]VisitStatus{
	ActionDepart:          {VisitScheduled: VisitEnRoute},
	ActionArrive:          {VisitEnRoute: VisitOnSite},
	ActionComplete:        {VisitOnSite: VisitCompleted},
	ActionNeedSecondVisit: {VisitOnSite: VisitNeedsSecondVisit},
	ActionCancel:          {VisitScheduled: VisitCancelled, VisitEnRoute: VisitCancelled, VisitOnSite: VisitCancelled},
}

// ParseVisitStatus returns EInvalid for an unknown status.
func ParseVisitStatus(s string) (VisitStatus, error) {
	if oneOf(VisitStatus(s), VisitStatuses) {
		return VisitStatus(s), nil
	}
	return "", Errorf(EInvalid, "unknown visit status %q", s)
}

// Terminal reports whether no action leads out of s.
func (s VisitStatus) Terminal() bool {
	return s == VisitCompleted || s == VisitNeedsSecondVisit || s == VisitCancelled
}

// NextVisitStatus returns where action leads from from, or an
// EInvalidTransition error.
func NextVisitStatus(from VisitStatus, action VisitAction) (VisitStatus, error) {
	moves, ok := visitTransitions[action]
	if !ok {
		return "", Errorf(EInvalid, "unknown visit action %q", action)
	}
	to, ok := moves[from]
	if !ok {
		return "", Errorf(EInvalidTransition, "a %s visit cannot %s", from, action)
	}
	return to, nil
}

// Visit is a ticket's on-site appointment.
type Visit struct {
	ID           string      `json:"id"`
	TicketID     string      `json:"ticket_id"`
	TechnicianID string      `json:"technician_id"`
	WindowStart  time.Time   `json:"window_start"`
	WindowEnd    time.Time   `json:"window_end"`
	Status       VisitStatus `json:"status"`
	// Due is the on-site promise: the technician must arrive by then.
	Due          time.Time  `json:"due"`
	DueWarning   string     `json:"due_warning,omitempty"`
	DepartedAt   *time.Time `json:"departed_at,omitempty"`
	ArrivedAt    *time.Time `json:"arrived_at,omitempty"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"` // completed, needs a second visit, or cancelled
	CancelReason string     `json:"cancel_reason,omitempty"`
	// EndReason is why a completed visit ended without the work done:
	// EndQuoteDeclined when the customer declined its report's quote.
	// Empty for a visit that ended with its work.
	EndReason string `json:"end_reason,omitempty"`
	// Notes is staff's note on the appointment (access, parking, who
	// opens the door), corrected by an edit.
	Notes string `json:"notes,omitempty"`
	// PreviousVisitID links a second visit to the one that asked for it.
	PreviousVisitID string `json:"previous_visit_id,omitempty"`
	// SecondVisit is what a visit that ended needs_second_visit asks the
	// next one to bring.
	SecondVisit *SecondVisit `json:"second_visit,omitempty"`
	// Received holds, by step field (departed_at, arrived_at,
	// finished_at), when the server received the step; the field itself
	// holds when the device says it happened (see StepTime).
	Received map[string]time.Time `json:"received,omitempty"`
	// ClockSkew lists the steps whose device time was far from the time
	// kept (MaxClockSkew), at most one per field.
	ClockSkew []ClockSkew `json:"clock_skew,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// MaxVisitWindow bounds an appointment window.
const MaxVisitWindow = 12 * time.Hour

// ValidateWindow checks an appointment window: it must end after it
// starts, not lie in the past, and not span more than MaxVisitWindow.
func ValidateWindow(start, end, now time.Time) error {
	if start.IsZero() || end.IsZero() {
		return Errorf(EInvalid, "window_start and window_end are required (RFC 3339)")
	}
	if !end.After(start) {
		return Errorf(EInvalid, "window_end must be after window_start")
	}
	if end.Before(now) {
		return Errorf(EInvalid, "the visit window is in the past")
	}
	if end.Sub(start) > MaxVisitWindow {
		return Errorf(EInvalid, "a visit window may span at most %s", MaxVisitWindow)
	}
	return nil
}

// Apply performs action on the visit at now, recording the time of the
// step, never before the visit's creation or its previous step.
// EInvalidTransition when the state machine forbids it.
func (v *Visit) Apply(action VisitAction, now time.Time, reason string) error {
	_, _, _, err := v.apply(action, now, now, reason)
	return err
}

// ApplyAt performs action as a device logged it: at deviceAt by the
// device's clock, received by the server at received. The step is
// recorded at StepTime: never before the visit's creation or its previous
// step (departed ≤ arrived ≤ finished), nor more than MaxClockSkew past
// its receipt; the receipt is kept in Received and a far-off device time
// in ClockSkew. EInvalidTransition when the state machine forbids it.
// Maps and slices v shares with a copy are replaced, not changed.
func (v *Visit) ApplyAt(action VisitAction, deviceAt, received time.Time, reason string) error {
	field, at, skewed, err := v.apply(action, deviceAt, received, reason)
	if err != nil {
		return err
	}
	v.Received, v.ClockSkew = stepRecord(v.Received, v.ClockSkew, field, deviceAt, received, at, skewed)
	return nil
}

// apply moves v and records the step's time; it returns the step's field
// and what StepTime made of deviceAt.
func (v *Visit) apply(action VisitAction, deviceAt, received time.Time, reason string) (field string, now time.Time, skewed bool, err error) {
	to, err := NextVisitStatus(v.Status, action)
	if err != nil {
		return "", now, false, err
	}
	if action == ActionCancel {
		reason = strings.TrimSpace(reason)
		if err := requireText("reason", reason, MaxShortText*2); err != nil {
			return "", now, false, err
		}
		v.CancelReason = reason
	}
	now, skewed = StepTime(deviceAt, received, &v.CreatedAt, v.DepartedAt, v.ArrivedAt)
	switch to {
	case VisitEnRoute:
		v.DepartedAt, field = &now, "departed_at"
	case VisitOnSite:
		v.ArrivedAt, field = &now, "arrived_at"
	case VisitCompleted, VisitNeedsSecondVisit, VisitCancelled:
		v.FinishedAt, field = &now, "finished_at"
	}
	v.Status, v.UpdatedAt = to, received
	return field, now, skewed, nil
}

// Assign gives the visit to technician. A visit already under way or
// finished cannot change hands (EInvalidTransition); one en route goes
// back to scheduled for the new technician.
func (v *Visit) Assign(technician string, now time.Time) error {
	if technician == "" {
		return Errorf(EInvalid, "technician_id is required")
	}
	if v.Status == VisitOnSite || v.Status.Terminal() {
		return Errorf(EInvalidTransition, "a %s visit cannot be reassigned", v.Status)
	}
	if technician == v.TechnicianID {
		return nil
	}
	v.TechnicianID, v.Status, v.DepartedAt, v.UpdatedAt = technician, VisitScheduled, nil, now
	if _, ok := v.Received["departed_at"]; ok {
		v.Received = maps.Clone(v.Received)
		delete(v.Received, "departed_at")
	}
	v.ClockSkew = forgetStep(v.ClockSkew, "departed_at")
	return nil
}

// VisitPromises counts the deadline a new visit is held to: the SLA
// policy on the business calendar (package sla). Each returns the due
// time and, when the count had to guess (a year without a holiday
// calendar), a warning.
type VisitPromises interface {
	// OnSiteDue is the on-site promise of a site's zone, counted from the
	// ticket's intake.
	OnSiteDue(zone Zone, intake time.Time) (due time.Time, warning string, err error)
	// SecondVisitDue is the second-visit promise, counted from when the
	// visit that asked for it finished.
	SecondVisitDue(asked time.Time) (due time.Time, warning string, err error)
}

// PlanVisit books v on ticket t, whose site is in zone and whose visits so
// far are visits, in creation order. A closed or cancelled ticket takes
// none (EInvalidTransition); a ticket has at most one open visit
// (EConflict). The new visit starts scheduled; its deadline is the zone's
// on-site promise from the ticket's intake, or, when a visit asked for a
// second one and no later visit was completed, the second-visit promise
// from when the latest such visit finished, which the new visit then names
// as its previous one.
func PlanVisit(v Visit, t *Ticket, zone Zone, visits []Visit, promises VisitPromises) (*Visit, error) {
	if t.Status.Final() {
		return nil, Errorf(EInvalidTransition, "the ticket is %s: reopen it to book a visit", t.Status)
	}
	var prev *Visit
	for i := range visits {
		switch pv := &visits[i]; {
		case !pv.Status.Terminal():
			return nil, Errorf(EConflict, "ticket %s already has an open visit %s", t.ID, pv.ID)
		case pv.Status == VisitNeedsSecondVisit:
			prev = pv
		case pv.Status == VisitCompleted:
			prev = nil // a later completion settles an earlier request for a second visit
		}
	}
	v.TicketID, v.Status, v.PreviousVisitID = t.ID, VisitScheduled, ""
	var err error
	if prev != nil {
		v.PreviousVisitID = prev.ID
		v.Due, v.DueWarning, err = promises.SecondVisitDue(*prev.FinishedAt)
	} else {
		v.Due, v.DueWarning, err = promises.OnSiteDue(zone, t.CreatedAt)
	}
	if err != nil {
		return nil, err
	}
	v.Due = v.Due.UTC()
	return &v, nil
}

// VisitFilter selects visits. Zero fields do not filter. Match, when set,
// is applied last (for rules that need the clock, such as SLA states).
type VisitFilter struct {
	TechnicianID string
	TicketID     string // the visits of one ticket
	Status       VisitStatus
	From, To     time.Time // window_start in [From, To)
	Match        func(*Visit) bool
	Cursor       string
	Limit        int
}
