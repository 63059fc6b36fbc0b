package fieldsync

import (
	"slices"
	"strings"
)

// TicketStatus is where a ticket stands in its lifecycle:
//
//	open → in_progress → resolved → closed
//	open | in_progress → cancelled
//	resolved | closed | cancelled → open (reopen)
//
// Its visits move it between open, in_progress and resolved
// (TicketStatusOfVisits); staff close, cancel and reopen it
// (Ticket.Transition). Closed and cancelled are staff's word: visits do
// not move a ticket out of them.
type TicketStatus string

const (
	TicketOpen       TicketStatus = "open"
	TicketInProgress TicketStatus = "in_progress"
	TicketResolved   TicketStatus = "resolved"
	TicketClosed     TicketStatus = "closed"
	TicketCancelled  TicketStatus = "cancelled"
)

// TicketStatuses lists every ticket status.
var TicketStatuses = []TicketStatus{TicketOpen, TicketInProgress, TicketResolved, TicketClosed, TicketCancelled}

// ParseTicketStatus returns EInvalid for an unknown status.
func ParseTicketStatus(s string) (TicketStatus, error) {
	if oneOf(TicketStatus(s), TicketStatuses) {
		return TicketStatus(s), nil
	}
	return "", Errorf(EInvalid, "status: unknown ticket status %q (want open, in_progress, resolved, closed or cancelled)", s)
}

// ParseTicketStatuses reads one status or several, comma-separated (a
// filter: open,in_progress), without repeats; field names it in errors.
func ParseTicketStatuses(field, s string) ([]TicketStatus, error) {
	var out []TicketStatus
	for _, part := range strings.Split(s, ",") {
		st := TicketStatus(strings.TrimSpace(part))
		switch {
		case !oneOf(st, TicketStatuses):
			return nil, Errorf(EInvalid, "%s must be open, in_progress, resolved, closed or cancelled, or several of them comma-separated, not %q", field, part)
		case slices.Contains(out, st):
			return nil, Errorf(EInvalid, "%s names %s twice; name each status once", field, st)
		}
		out = append(out, st)
	}
	return out, nil
}

// Final reports whether staff ended the ticket (closed or cancelled).
func (s TicketStatus) Final() bool { return s == TicketClosed || s == TicketCancelled }

// TicketAction is what staff do to a ticket.
type TicketAction string

const (
	TicketClose  TicketAction = "close"
	TicketCancel TicketAction = "cancel"
	TicketReopen TicketAction = "reopen"
)

// ticketTransitions is staff's part of the machine: action -> from -> to.
// A ticket is closed once its work is done (resolved), or in progress when
// what is left open is no visit's (a pick-up done by hand, say).
var ticketTransitions = map[TicketAction]map[TicketStatus]TicketStatus{
	TicketClose:  {TicketInProgress: TicketClosed, TicketResolved: TicketClosed},
	TicketCancel: {TicketOpen: TicketCancelled, TicketInProgress: TicketCancelled},
	TicketReopen: {TicketResolved: TicketOpen, TicketClosed: TicketOpen, TicketCancelled: TicketOpen},
}

// TicketStatusOfVisits is the status a ticket's visits (in creation order)
// give it, with openPickup telling whether a pick-up record of the ticket
// is not done. The rule:
//
//   - a visit en route or on site: in_progress;
//   - cancelled visits count for nothing; with no other visit: open;
//   - a scheduled visit: open if it is the ticket's only one, else
//     in_progress (work began on an earlier visit);
//   - every visit ended: in_progress while the latest one that ended with
//     its work done or asked for more asked for a second visit, or while a
//     pick-up record is open; else resolved.
func TicketStatusOfVisits(visits []Visit, openPickup bool) TicketStatus {
	counted, scheduled, secondAsked := 0, false, false
	for i := range visits {
		switch visits[i].Status {
		case VisitEnRoute, VisitOnSite:
			return TicketInProgress
		case VisitCancelled:
			continue
		case VisitScheduled:
			scheduled = true
		case VisitNeedsSecondVisit:
			secondAsked = true
		case VisitCompleted:
			secondAsked = false // a later completion settles an earlier request
		}
		counted++
	}
	switch {
	case counted == 0 || scheduled && counted == 1:
		return TicketOpen
	case scheduled || secondAsked || openPickup:
		return TicketInProgress
	}
	return TicketResolved
}

// FollowVisits sets the status the ticket's visits give it, unless staff
// closed or cancelled it. It reports whether the status changed.
func (t *Ticket) FollowVisits(visits []Visit, openPickup bool) bool {
	if t.Status.Final() {
		return false
	}
	to := TicketStatusOfVisits(visits, openPickup)
	if to == t.Status {
		return false
	}
	t.Status = to
	return true
}

// Transition performs staff's action on the ticket. Cancel needs a
// reason. Closing or cancelling a ticket with a visit not ended is
// EConflict: the visit is settled first. A step the machine does not have
// is EInvalidTransition naming the status.
func (t *Ticket) Transition(action TicketAction, visits []Visit, reason string) error {
	moves, ok := ticketTransitions[action]
	if !ok {
		return Errorf(EInvalid, "unknown ticket action %q", action)
	}
	from := t.Status
	if from == "" {
		from = TicketOpen
	}
	to, ok := moves[from]
	if !ok {
		return Errorf(EInvalidTransition, "the ticket is %s and cannot be %s", from, ticketActionDone[action])
	}
	if action != TicketReopen {
		for i := range visits {
			if !visits[i].Status.Terminal() {
				return Errorf(EConflict, "ticket %s has visit %s %s: cancel or finish it first", t.ID, visits[i].ID, visits[i].Status)
			}
		}
	}
	reason = strings.TrimSpace(reason)
	if action == TicketCancel {
		if err := requireText("reason", reason, MaxShortText*2); err != nil {
			return err
		}
	} else if err := optionalText("reason", reason, MaxShortText*2); err != nil {
		return err
	}
	t.Status, t.StatusReason = to, reason
	return nil
}

var ticketActionDone = map[TicketAction]string{TicketClose: "closed", TicketCancel: "cancelled", TicketReopen: "reopened"}
