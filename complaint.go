package fieldsync

import (
	"slices"
	"strings"
	"time"
)

// A complaint (投诉) is raised on a ticket by its customer, by a
// dispatcher, or by the customer's refusal to sign a report remotely. Two
// clocks run from its opening, both fixed then from the SLA policy: the
// first contact with the complainant and the proposal of a resolution.
// Each clock missed raises the complaint one level, dispatcher →
// supervisor → manager; staff may also escalate by hand, with a reason.
//
//	open → contacted → resolution_proposed → closed

// ComplaintSource is who or what opened a complaint.
type ComplaintSource string

const (
	SourceCustomer       ComplaintSource = "customer"        // the customer, with their login
	SourceDispatcher     ComplaintSource = "dispatcher"      // staff, on the customer's behalf
	SourceRefusedSignOff ComplaintSource = "refused_signoff" // the customer refused a report through its share link
)

// ComplaintSources lists every source.
var ComplaintSources = []ComplaintSource{SourceCustomer, SourceDispatcher, SourceRefusedSignOff}

// ComplaintStatus is where a complaint stands.
type ComplaintStatus string

const (
	ComplaintOpen      ComplaintStatus = "open"
	ComplaintContacted ComplaintStatus = "contacted"
	ComplaintProposed  ComplaintStatus = "resolution_proposed"
	ComplaintClosed    ComplaintStatus = "closed"
)

// ComplaintStatuses lists every status, in the order of the process.
var ComplaintStatuses = []ComplaintStatus{ComplaintOpen, ComplaintContacted, ComplaintProposed, ComplaintClosed}

// ParseComplaintStatus returns EInvalid for an unknown status.
func ParseComplaintStatus(s string) (ComplaintStatus, error) {
	if st := ComplaintStatus(s); slices.Contains(ComplaintStatuses, st) {
		return st, nil
	}
	return "", Errorf(EInvalid, "unknown complaint status %q (want open, contacted, resolution_proposed or closed)", s)
}

// ComplaintAction is a step of the process.
type ComplaintAction string

const (
	ComplaintContact  ComplaintAction = "contact"  // staff reached the complainant
	ComplaintPropose  ComplaintAction = "propose"  // staff proposed a resolution
	ComplaintClose    ComplaintAction = "close"    // the matter is settled
	ComplaintEscalate ComplaintAction = "escalate" // staff raised the level by hand
)

// ComplaintActions lists every action.
var ComplaintActions = []ComplaintAction{ComplaintContact, ComplaintPropose, ComplaintClose, ComplaintEscalate}

// complaintTransitions: action -> from -> to. Escalation keeps the status.
var complaintTransitions = map[ComplaintAction]map[ComplaintStatus]ComplaintStatus{
	ComplaintContact: {ComplaintOpen: ComplaintContacted},
	ComplaintPropose: {ComplaintContacted: ComplaintProposed},
	ComplaintClose:   {ComplaintProposed: ComplaintClosed},
	ComplaintEscalate: {ComplaintOpen: ComplaintOpen, ComplaintContacted: ComplaintContacted,
		ComplaintProposed: ComplaintProposed},
}

// NextComplaintStatus returns where action leads from from: EInvalid for
// an unknown action, EInvalidTransition naming the status when the
// process forbids the step.
func NextComplaintStatus(from ComplaintStatus, action ComplaintAction) (ComplaintStatus, error) {
	moves, ok := complaintTransitions[action]
	if !ok {
		return "", Errorf(EInvalid, "unknown complaint action %q", action)
	}
	to, ok := moves[from]
	if !ok {
		return "", Errorf(EInvalidTransition, "a complaint that is %s cannot %s", from, action)
	}
	return to, nil
}

// ComplaintLevel is who answers for a complaint.
type ComplaintLevel string

const (
	LevelDispatcher ComplaintLevel = "dispatcher"
	LevelSupervisor ComplaintLevel = "supervisor"
	LevelManager    ComplaintLevel = "manager"
)

// ComplaintLevels lists the levels, lowest first.
var ComplaintLevels = []ComplaintLevel{LevelDispatcher, LevelSupervisor, LevelManager}

// ParseComplaintLevel returns EInvalid for an unknown level.
func ParseComplaintLevel(s string) (ComplaintLevel, error) {
	if l := ComplaintLevel(s); slices.Contains(ComplaintLevels, l) {
		return l, nil
	}
	return "", Errorf(EInvalid, "unknown complaint level %q (want dispatcher, supervisor or manager)", s)
}

// above is the next level up; the manager is the top and stays.
func (l ComplaintLevel) above() ComplaintLevel {
	if i := slices.Index(ComplaintLevels, l); i >= 0 && i+1 < len(ComplaintLevels) {
		return ComplaintLevels[i+1]
	}
	return LevelManager
}

// ComplaintClock names a complaint's promise.
type ComplaintClock string

const (
	ClockFirstContact ComplaintClock = "first_contact"
	ClockResolution   ComplaintClock = "resolution"
)

// Escalation is one rise of a complaint's level: by a missed clock (Clock
// set, At its deadline, no user) or by hand (By the user, At the request).
// A clock missed at the manager level is still recorded, with the level
// unchanged.
type Escalation struct {
	From   ComplaintLevel `json:"from"`
	To     ComplaintLevel `json:"to"`
	At     time.Time      `json:"at"`
	Clock  ComplaintClock `json:"clock,omitempty"`
	By     string         `json:"by,omitempty"`
	Reason string         `json:"reason"`
}

// Complaint is a customer's complaint about a ticket.
type Complaint struct {
	ID         string          `json:"id"`
	TicketID   string          `json:"ticket_id"`
	CustomerID string          `json:"customer_id"` // the ticket's, copied at opening
	OpenedBy   string          `json:"opened_by"`   // a user id, or "link:<id>" for a refusal through a share link
	Source     ComplaintSource `json:"source"`
	Text       string          `json:"text"`
	Status     ComplaintStatus `json:"status"`
	Level      ComplaintLevel  `json:"level"`
	OpenedAt   time.Time       `json:"opened_at"`
	// FirstContactDue and ResolutionDue are the policy's clocks from
	// OpenedAt, fixed at opening; DueWarning is the calendar's, if any.
	FirstContactDue time.Time    `json:"first_contact_due"`
	ResolutionDue   time.Time    `json:"resolution_due"`
	DueWarning      string       `json:"due_warning,omitempty"`
	ContactedAt     *time.Time   `json:"contacted_at,omitempty"`
	ContactNote     string       `json:"contact_note,omitempty"`
	ProposedAt      *time.Time   `json:"proposed_at,omitempty"`
	Resolution      string       `json:"resolution,omitempty"`
	ClosedAt        *time.Time   `json:"closed_at,omitempty"`
	Escalations     []Escalation `json:"escalations"`
	UpdatedAt       time.Time    `json:"updated_at"`
	// ReportID is the report whose refusal opened the complaint.
	ReportID string `json:"report_id,omitempty"`
}

// ComplaintPromises counts a complaint's clocks from its opening: the SLA
// policy on the business calendar (package sla).
type ComplaintPromises interface {
	ComplaintDue(opened time.Time) (contact, resolution time.Time, warning string, err error)
}

// OpenComplaint opens a complaint with text on ticket t, by the user by,
// at now, its clocks counted by promises. EInvalid for an unknown source
// or a missing or overlong text.
func OpenComplaint(id string, t *Ticket, source ComplaintSource, by, text string, now time.Time, promises ComplaintPromises) (*Complaint, error) {
	if !slices.Contains(ComplaintSources, source) {
		return nil, Errorf(EInvalid, "unknown complaint source %q", source)
	}
	text = strings.TrimSpace(text)
	if err := requireText("text", text, MaxLongText); err != nil {
		return nil, err
	}
	contact, resolution, warning, err := promises.ComplaintDue(now)
	if err != nil {
		return nil, err
	}
	return &Complaint{
		ID: id, TicketID: t.ID, CustomerID: t.CustomerID, OpenedBy: by, Source: source, Text: text,
		Status: ComplaintOpen, Level: LevelDispatcher, OpenedAt: now,
		FirstContactDue: contact.UTC(), ResolutionDue: resolution.UTC(), DueWarning: warning,
		Escalations: []Escalation{}, UpdatedAt: now,
	}, nil
}

// Apply performs action at now: text is the contact's note (optional),
// the proposed resolution (required) or the reason of an escalation by
// hand (required), by the user by. EInvalidTransition names the status
// when the process forbids the step, or the level when a manager's
// complaint is escalated.
func (c *Complaint) Apply(action ComplaintAction, by, text string, now time.Time) error {
	to, err := NextComplaintStatus(c.Status, action)
	if err != nil {
		return err
	}
	text = strings.TrimSpace(text)
	switch action {
	case ComplaintContact:
		if err := CheckText("note", text, MaxLongText); err != nil {
			return err
		}
		c.ContactedAt, c.ContactNote = &now, text
	case ComplaintPropose:
		if err := requireText("resolution", text, MaxLongText); err != nil {
			return err
		}
		c.ProposedAt, c.Resolution = &now, text
	case ComplaintClose:
		c.ClosedAt = &now
	case ComplaintEscalate:
		if err := requireText("reason", text, MaxShortText); err != nil {
			return err
		}
		if c.Level == LevelManager {
			return Errorf(EInvalidTransition, "the complaint is at the manager level already, the highest")
		}
		c.escalate(Escalation{At: now, By: by, Reason: text})
	}
	c.Status, c.UpdatedAt = to, now
	return nil
}

func (c *Complaint) escalate(e Escalation) {
	e.From, e.To = c.Level, c.Level.above()
	c.Level = e.To
	c.Escalations = append(slices.Clip(c.Escalations), e)
}

// missed reports whether clock was due before now and not kept by then
// (kept is when it was kept, nil while it is not).
func missed(due time.Time, kept *time.Time, now time.Time) bool {
	if kept != nil {
		return kept.After(due)
	}
	return now.After(due)
}

// escalatedFor reports whether clock has its escalation already.
func (c *Complaint) escalatedFor(clock ComplaintClock) bool {
	return slices.ContainsFunc(c.Escalations, func(e Escalation) bool { return e.Clock == clock })
}

// EscalateComplaint returns c as it stands at now once each clock it
// missed has raised its level, and whether that changed anything. Each
// missed clock escalates once, at its deadline, in the order the clocks
// ran out, whenever it is computed: on a read, by a sweep, or before a
// step. c itself is not changed.
func EscalateComplaint(c Complaint, now time.Time) (Complaint, bool) {
	changed := false
	for _, k := range []struct {
		clock ComplaintClock
		due   time.Time
		kept  *time.Time
		why   string
	}{
		{ClockFirstContact, c.FirstContactDue, c.ContactedAt, "first contact was due at "},
		{ClockResolution, c.ResolutionDue, c.ProposedAt, "a resolution was due at "},
	} {
		if k.due.IsZero() || c.escalatedFor(k.clock) || !missed(k.due, k.kept, now) {
			continue
		}
		c.escalate(Escalation{At: k.due, Clock: k.clock, Reason: k.why + k.due.UTC().Format(time.RFC3339)})
		changed = true
	}
	return c, changed
}

// Pending returns the deadline of the clock that runs now — the first
// contact until it is made, then the resolution until it is proposed — and
// false once both are kept.
func (c *Complaint) Pending() (ComplaintClock, time.Time, bool) {
	switch {
	case c.Status == ComplaintClosed:
		return "", time.Time{}, false
	case c.ContactedAt == nil:
		return ClockFirstContact, c.FirstContactDue, true
	case c.ProposedAt == nil:
		return ClockResolution, c.ResolutionDue, true
	}
	return "", time.Time{}, false
}

// NextEscalation returns when the next clock escalates the complaint if
// nothing is done: the earliest deadline not kept in time and not yet
// escalated; false when none is left.
func (c *Complaint) NextEscalation() (time.Time, bool) {
	var next time.Time
	for _, k := range []struct {
		clock ComplaintClock
		due   time.Time
		kept  *time.Time
	}{{ClockFirstContact, c.FirstContactDue, c.ContactedAt}, {ClockResolution, c.ResolutionDue, c.ProposedAt}} {
		if k.due.IsZero() || c.escalatedFor(k.clock) || (k.kept != nil && !k.kept.After(k.due)) {
			continue
		}
		if next.IsZero() || k.due.Before(next) {
			next = k.due
		}
	}
	return next, !next.IsZero()
}

// Overdue reports whether the running clock ran out before now.
func (c *Complaint) Overdue(now time.Time) bool {
	_, due, ok := c.Pending()
	return ok && now.After(due)
}

// ComplaintDue is a filter of complaints by their running clock.
type ComplaintDue string

const (
	DueOverdue ComplaintDue = "overdue"   // the running clock ran out
	DueToday   ComplaintDue = "due_today" // the running clock runs out by the end of today, China time, and has not yet
)

// ComplaintFilter selects complaints; zero fields select all.
type ComplaintFilter struct {
	Status ComplaintStatus
	Level  ComplaintLevel
	// Due with Now selects by the running clock; DueBefore is the end of
	// Now's day for DueToday.
	Due       ComplaintDue
	Now       time.Time
	DueBefore time.Time
	// CustomerIDs, when not nil, keeps only these customers' complaints.
	CustomerIDs []string
	// Cursor and Limit page the list (store/bolt clamps Limit).
	Cursor string
	Limit  int
}

// Match reports whether c passes every set field of f, c being as it
// stands at f.Now (EscalateComplaint applied).
func (f ComplaintFilter) Match(c *Complaint) bool {
	if f.Status != "" && c.Status != f.Status || f.Level != "" && c.Level != f.Level {
		return false
	}
	if f.CustomerIDs != nil && !slices.Contains(f.CustomerIDs, c.CustomerID) {
		return false
	}
	_, due, running := c.Pending()
	switch f.Due {
	case DueOverdue:
		return running && f.Now.After(due)
	case DueToday:
		return running && !f.Now.After(due) && due.Before(f.DueBefore)
	}
	return true
}

// OpenRefusalComplaint opens the complaint of a customer's refusal so to
// sign a report of ticket t remotely: its text is the refusal's reason,
// ReportID the report refused.
func OpenRefusalComplaint(id string, t *Ticket, so *SignOff, by string, now time.Time, promises ComplaintPromises) (*Complaint, error) {
	c, err := OpenComplaint(id, t, SourceRefusedSignOff, by, so.Reason, now, promises)
	if err != nil {
		return nil, err
	}
	c.ReportID = so.ReportID
	return c, nil
}
