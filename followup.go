package fieldsync

import (
	"slices"
	"time"
)

// FollowUpStatus is where a satisfaction follow-up stands. The machine:
//
//	pending → answered            the customer answers with their login
//	pending → recorded_by_phone   staff record what the customer said on the phone
//	pending → closed_unanswered   staff give up on it
//
// Every status but pending is final: an answer is never replaced.
type FollowUpStatus string

const (
	FollowUpPending          FollowUpStatus = "pending"
	FollowUpAnswered         FollowUpStatus = "answered"
	FollowUpRecordedByPhone  FollowUpStatus = "recorded_by_phone"
	FollowUpClosedUnanswered FollowUpStatus = "closed_unanswered"
)

// FollowUpStatuses lists every status.
var FollowUpStatuses = []FollowUpStatus{FollowUpPending, FollowUpAnswered, FollowUpRecordedByPhone, FollowUpClosedUnanswered}

// ParseFollowUpStatus returns EInvalid for an unknown status.
func ParseFollowUpStatus(s string) (FollowUpStatus, error) {
	if oneOf(FollowUpStatus(s), FollowUpStatuses) {
		return FollowUpStatus(s), nil
	}
	return "", Errorf(EInvalid, "status: unknown follow-up status %q (want pending, answered, recorded_by_phone or closed_unanswered)", s)
}

// Bounds of a follow-up's answer.
const (
	MinFollowUpScore   = 1
	MaxFollowUpScore   = 5
	MaxFollowUpComment = MaxLongText // bytes of UTF-8
)

// ViaPhone marks an answer staff record from a phone call.
const ViaPhone = "phone"

// FollowUp is the satisfaction survey of a completed visit: a score of
// 1..5 and a comment, due within the SLA policy's follow-up rule (3
// working days on the business calendar) of the visit's completion.
//
// One follow-up is made per completed visit, by the store, in the
// transaction that completes it. A visit that ends needs_second_visit or
// cancelled gets none: the ticket's follow-up comes with the completion of
// its last visit, the one that finished the work.
type FollowUp struct {
	ID          string         `json:"id"`
	TicketID    string         `json:"ticket_id"`
	VisitID     string         `json:"visit_id"`
	CustomerID  string         `json:"customer_id"`
	CompletedAt time.Time      `json:"completed_at"` // the visit's completion, where the clock starts
	Due         time.Time      `json:"due"`
	DueWarning  string         `json:"due_warning,omitempty"`
	Status      FollowUpStatus `json:"status"`
	Score       int            `json:"score,omitempty"`
	Comment     string         `json:"comment,omitempty"`
	// AnsweredAt and AnsweredBy (a user id) say who answered, recorded or
	// closed it, and when.
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	AnsweredBy string     `json:"answered_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// NewFollowUp makes the pending follow-up of visit v of ticket t, due at
// due (counted from v's completion by the SLA policy). EInvalid unless v
// is completed, with its completion time, and belongs to t.
func NewFollowUp(id string, v *Visit, t *Ticket, due time.Time, warning string, now time.Time) (*FollowUp, error) {
	switch {
	case v.Status != VisitCompleted || v.FinishedAt == nil:
		return nil, Errorf(EInvalid, "visit %s is %s: only a completed visit gets a follow-up", v.ID, v.Status)
	case v.TicketID != t.ID:
		return nil, Errorf(EInvalid, "visit %s is not of ticket %s", v.ID, t.ID)
	case due.IsZero():
		return nil, Errorf(EInvalid, "a follow-up needs its due time")
	}
	return &FollowUp{
		ID: id, TicketID: t.ID, VisitID: v.ID, CustomerID: t.CustomerID,
		CompletedAt: v.FinishedAt.UTC(), Due: due.UTC(), DueWarning: warning,
		Status: FollowUpPending, CreatedAt: now.UTC(),
	}, nil
}

// Overdue reports whether the follow-up is still pending after its due time.
func (f *FollowUp) Overdue(now time.Time) bool {
	return f.Status == FollowUpPending && now.After(f.Due)
}

// FollowUpAnswer is a survey answer. Via is empty when the customer
// answers, ViaPhone when staff record a phone answer.
type FollowUpAnswer struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
	Via     string `json:"via,omitempty"`
}

// Validate returns EInvalid naming the field: a score outside 1..5, a
// comment that is not clean UTF-8 text of at most MaxFollowUpComment bytes,
// or an unknown via.
func (a FollowUpAnswer) Validate() error {
	if a.Score < MinFollowUpScore || a.Score > MaxFollowUpScore {
		return Errorf(EInvalid, "score: %d is outside %d..%d", a.Score, MinFollowUpScore, MaxFollowUpScore)
	}
	if err := CheckText("comment", a.Comment, MaxFollowUpComment); err != nil {
		return err
	}
	if a.Via != "" && a.Via != ViaPhone {
		return Errorf(EInvalid, "via: unknown %q (leave it out when the customer answers, or %q when staff record a call)", a.Via, ViaPhone)
	}
	return nil
}

// SeesFollowUp reports whether v may read f: staff read every follow-up, a
// customer login those of its own customer records, nobody else any. An
// unseen follow-up is answered as one that does not exist.
func (v Viewer) SeesFollowUp(f *FollowUp) bool {
	switch v.Role {
	case RoleAdmin, RoleDispatcher:
		return true
	case RoleCustomer:
		return slices.Contains(v.CustomerIDs, f.CustomerID)
	}
	return false
}

// Answer records a by v at now. The customer whose follow-up it is
// answers it (status answered); staff record a phone answer with via
// "phone" (recorded_by_phone). EInvalid for a bad answer or the wrong
// via for the role, EForbidden for anyone else, EConflict naming the first
// answer when it is no longer pending.
func (f *FollowUp) Answer(v Viewer, a FollowUpAnswer, now time.Time) error {
	if err := a.Validate(); err != nil {
		return err
	}
	var to FollowUpStatus
	switch {
	case !v.SeesFollowUp(f):
		return Errorf(EForbidden, "only the customer or staff answer a follow-up")
	case v.Role == RoleCustomer && a.Via != "":
		return Errorf(EInvalid, "via: a customer answers for themselves; %q is for staff recording a call", a.Via)
	case v.Role == RoleCustomer:
		to = FollowUpAnswered
	case a.Via != ViaPhone:
		return Errorf(EInvalid, "via: staff record an answer the customer gave on the phone with via %q", ViaPhone)
	default:
		to = FollowUpRecordedByPhone
	}
	if err := f.settled(); err != nil {
		return err
	}
	at := now.UTC()
	f.Status, f.Score, f.Comment, f.AnsweredAt, f.AnsweredBy = to, a.Score, a.Comment, &at, v.UserID
	return nil
}

// Close gives up on a pending follow-up (closed_unanswered), by staff v at
// now. EForbidden for anyone but staff, EConflict when not pending.
func (f *FollowUp) Close(v Viewer, now time.Time) error {
	if v.Role != RoleAdmin && v.Role != RoleDispatcher {
		return Errorf(EForbidden, "only staff close a follow-up")
	}
	if err := f.settled(); err != nil {
		return err
	}
	at := now.UTC()
	f.Status, f.AnsweredAt, f.AnsweredBy = FollowUpClosedUnanswered, &at, v.UserID
	return nil
}

// settled is EConflict, naming what settled f, unless f is pending.
func (f *FollowUp) settled() error {
	if f.Status == FollowUpPending {
		return nil
	}
	at := ""
	if f.AnsweredAt != nil {
		at = f.AnsweredAt.Format(time.RFC3339)
	}
	if f.Status == FollowUpClosedUnanswered {
		return Errorf(EConflict, "follow-up %s was closed unanswered by %s at %s", f.ID, f.AnsweredBy, at)
	}
	return Errorf(EConflict, "follow-up %s was already %s: score %d by %s at %s", f.ID, f.Status, f.Score, f.AnsweredBy, at)
}

// FollowUpFilter selects follow-ups. Zero fields do not filter.
type FollowUpFilter struct {
	// CustomerIDs, when not nil, keeps only these customers' follow-ups.
	CustomerIDs []string
	Status      FollowUpStatus
	// OverdueAt, when set, selects those still pending after their due
	// time at that instant, in order of due time.
	OverdueAt time.Time
	Cursor    string
	Limit     int
}
