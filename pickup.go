package fieldsync

import (
	"slices"
	"time"
)

// PickupRecordKind is the clock a pick-up record keeps: the collection of
// the item for a return or an exchange, or the printed appraisal slip of a
// screen found cracked on unboxing.
type PickupRecordKind string

const (
	PickupRecordReturn        PickupRecordKind = "return"
	PickupRecordExchange      PickupRecordKind = "exchange"
	PickupRecordAppraisalSlip PickupRecordKind = "appraisal_slip"
)

// PickupRecordKinds lists every kind.
var PickupRecordKinds = []PickupRecordKind{PickupRecordReturn, PickupRecordExchange, PickupRecordAppraisalSlip}

// ParsePickupRecordKind returns EInvalid for an unknown kind.
func ParsePickupRecordKind(s string) (PickupRecordKind, error) {
	if oneOf(PickupRecordKind(s), PickupRecordKinds) {
		return PickupRecordKind(s), nil
	}
	return "", Errorf(EInvalid, "kind: unknown pick-up kind %q (want return, exchange or appraisal_slip)", s)
}

// PickupState is where a pick-up record stands at an instant: due (open,
// its due time not passed), overdue (open past it) or done.
type PickupState string

const (
	PickupDue     PickupState = "due"
	PickupOverdue PickupState = "overdue"
	PickupDone    PickupState = "done"
)

// ParsePickupState returns EInvalid for an unknown state.
func ParsePickupState(s string) (PickupState, error) {
	if oneOf(PickupState(s), []PickupState{PickupDue, PickupOverdue, PickupDone}) {
		return PickupState(s), nil
	}
	return "", Errorf(EInvalid, "state: unknown pick-up state %q (want due, overdue or done)", s)
}

// Pickup is a clock of the return-and-exchange process, made by the store
// in the push transaction that starts it and closed in the one that meets
// it:
//
//   - return / exchange: started when a visit of a ticket whose warranty
//     decision settles on a return or an exchange completes (StartedAt is
//     the visit's finish), due by the SLA policy's pickup_return or
//     pickup_exchange rule on the business calendar; done when a signed
//     report of the ticket carries the pick-up slip (the same visit's, or
//     a later pick-up visit's), with the slip's collection time,
//     deductions and total. One per ticket.
//   - appraisal_slip: started by a signed report whose warranty question
//     finds the screen cracked on unboxing (StartedAt is the report's
//     creation, when the finding was made), due by the appraisal_slip
//     rule; done when that report is sealed (the fully printed system
//     slip). One per such report.
type Pickup struct {
	ID         string           `json:"id"`
	Kind       PickupRecordKind `json:"kind"`
	TicketID   string           `json:"ticket_id"`
	CustomerID string           `json:"customer_id"`
	// VisitID and ReportID name what started the clock: the completed
	// visit of a return or exchange, the report of an appraisal slip (and
	// its visit).
	VisitID    string    `json:"visit_id"`
	ReportID   string    `json:"report_id,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	Due        time.Time `json:"due"`
	DueWarning string    `json:"due_warning,omitempty"`
	// DoneAt is when the clock was met: the slip's collection time, or the
	// report's seal; DoneReportID the report that met it.
	DoneAt       *time.Time `json:"done_at,omitempty"`
	DoneReportID string     `json:"done_report_id,omitempty"`
	// Deductions and TotalFen are the slip's, for a return or exchange.
	Deductions []PickupDeduction `json:"deductions,omitempty"`
	TotalFen   int64             `json:"total_fen,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// State is the record's state at now.
func (p *Pickup) State(now time.Time) PickupState {
	switch {
	case p.DoneAt != nil:
		return PickupDone
	case now.After(p.Due):
		return PickupOverdue
	}
	return PickupDue
}

// CollectedBy marks a return or exchange collected by the slip of report
// r; false when it is done already or r carries no slip.
func (p *Pickup) CollectedBy(r *Report, now time.Time) bool {
	if p.DoneAt != nil || r.Pickup == nil || p.Kind == PickupRecordAppraisalSlip {
		return false
	}
	at := r.Pickup.CollectedAt.UTC()
	p.DoneAt, p.DoneReportID, p.UpdatedAt = &at, r.ID, now.UTC()
	p.Deductions, p.TotalFen = slices.Clone(r.Pickup.Deductions), r.Pickup.TotalFen
	return true
}

// PickupFilter selects pick-up records. Zero fields do not filter; State
// is judged at Now.
type PickupFilter struct {
	State    PickupState
	Now      time.Time
	Kind     PickupRecordKind
	TicketID string
	Cursor   string
	Limit    int
}

// Keeps reports whether p passes the filter.
func (f PickupFilter) Keeps(p *Pickup) bool {
	return (f.State == "" || p.State(f.Now) == f.State) && (f.Kind == "" || p.Kind == f.Kind) && (f.TicketID == "" || p.TicketID == f.TicketID)
}

// SeesPickup reports whether v may read p: staff every one, a customer
// login those of its own customer records. An unseen record is answered
// as one that does not exist.
func (v Viewer) SeesPickup(p *Pickup) bool {
	switch v.Role {
	case RoleAdmin, RoleDispatcher:
		return true
	case RoleCustomer:
		return slices.Contains(v.CustomerIDs, p.CustomerID)
	}
	return false
}

// PlanCollection makes v, just planned by PlanVisit on p's ticket, the
// visit that collects the item when p is an open return or exchange and
// v is not a second visit (whose promise stands): its deadline is then
// p's, not the on-site promise from the ticket's intake. It reports
// whether it changed v.
func (p *Pickup) PlanCollection(v *Visit) bool {
	if p.Kind == PickupRecordAppraisalSlip || p.DoneAt != nil || v.PreviousVisitID != "" || v.TicketID != p.TicketID {
		return false
	}
	v.Due, v.DueWarning = p.Due, p.DueWarning
	return true
}
