package fieldsync

import (
	"strings"
	"testing"
	"time"
)

// fixedPromises holds every complaint to 24 h for contact and 72 h for a
// resolution.
type fixedPromises struct{}

func (fixedPromises) ComplaintDue(opened time.Time) (time.Time, time.Time, string, error) {
	return opened.Add(24 * time.Hour), opened.Add(72 * time.Hour), "", nil
}

var complaintOpened = time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC)

func newComplaint(t *testing.T) *Complaint {
	t.Helper()
	c, err := OpenComplaint("c1", &Ticket{ID: "t1", CustomerID: "cu1"}, SourceCustomer, "u1", "  the technician was late  ", complaintOpened, fixedPromises{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestComplaintTransitions walks every status × action.
func TestComplaintTransitions(t *testing.T) {
	want := map[ComplaintStatus]map[ComplaintAction]ComplaintStatus{
		ComplaintOpen:      {ComplaintContact: ComplaintContacted, ComplaintEscalate: ComplaintOpen},
		ComplaintContacted: {ComplaintPropose: ComplaintProposed, ComplaintEscalate: ComplaintContacted},
		ComplaintProposed:  {ComplaintClose: ComplaintClosed, ComplaintEscalate: ComplaintProposed},
		ComplaintClosed:    {},
	}
	for _, from := range ComplaintStatuses {
		for _, action := range ComplaintActions {
			to, err := NextComplaintStatus(from, action)
			exp, ok := want[from][action]
			if !ok {
				if ErrorCode(err) != EInvalidTransition || !strings.Contains(err.Error(), string(from)) {
					t.Errorf("%s --%s--> err %v, want invalid_transition naming %q", from, action, err, from)
				}
				continue
			}
			if err != nil || to != exp {
				t.Errorf("%s --%s--> %q, %v; want %q", from, action, to, err, exp)
			}
		}
	}
	if _, err := NextComplaintStatus(ComplaintOpen, "reopen"); ErrorCode(err) != EInvalid {
		t.Errorf("unknown action: err %v, want invalid", err)
	}
}

func TestOpenComplaint(t *testing.T) {
	c := newComplaint(t)
	if c.Text != "the technician was late" || c.Status != ComplaintOpen || c.Level != LevelDispatcher || c.CustomerID != "cu1" ||
		!c.FirstContactDue.Equal(complaintOpened.Add(24*time.Hour)) || !c.ResolutionDue.Equal(complaintOpened.Add(72*time.Hour)) {
		t.Fatalf("opened %+v", c)
	}
	for _, tt := range []struct {
		name   string
		source ComplaintSource
		text   string
		want   string
	}{
		{"no text", SourceCustomer, "  ", "text"},
		{"too long", SourceDispatcher, strings.Repeat("x", MaxLongText+1), "text"},
		{"unknown source", "email", "late", `"email"`},
	} {
		_, err := OpenComplaint("c2", &Ticket{ID: "t1"}, tt.source, "u1", tt.text, complaintOpened, fixedPromises{})
		if ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want invalid naming %s", tt.name, err, tt.want)
		}
	}
}

func TestComplaintApply(t *testing.T) {
	c := newComplaint(t)
	at := complaintOpened.Add(time.Hour)
	if err := c.Apply(ComplaintPropose, "d1", "refund", at); ErrorCode(err) != EInvalidTransition || !strings.Contains(err.Error(), "open") {
		t.Fatalf("propose while open: %v", err)
	}
	if err := c.Apply(ComplaintContact, "d1", "called back", at); err != nil || c.ContactedAt == nil || c.Status != ComplaintContacted {
		t.Fatalf("contact: %v %+v", err, c)
	}
	if err := c.Apply(ComplaintPropose, "d1", " ", at); ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), "resolution") {
		t.Fatalf("propose without a resolution: %v", err)
	}
	if err := c.Apply(ComplaintEscalate, "d1", "", at); ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("escalate without a reason: %v", err)
	}
	for i, want := range []ComplaintLevel{LevelSupervisor, LevelManager} {
		if err := c.Apply(ComplaintEscalate, "d1", "the customer is a journalist", at); err != nil || c.Level != want || len(c.Escalations) != i+1 {
			t.Fatalf("escalation %d: %v, level %s", i+1, err, c.Level)
		}
	}
	if err := c.Apply(ComplaintEscalate, "d1", "again", at); ErrorCode(err) != EInvalidTransition || !strings.Contains(err.Error(), "manager") {
		t.Fatalf("escalate past manager: %v", err)
	}
	if e := c.Escalations[0]; e.From != LevelDispatcher || e.To != LevelSupervisor || e.By != "d1" || e.Clock != "" {
		t.Fatalf("escalation by hand = %+v", e)
	}
	if err := c.Apply(ComplaintPropose, "d1", "a new unit", at); err != nil || c.Resolution != "a new unit" {
		t.Fatalf("propose: %v", err)
	}
	if err := c.Apply(ComplaintClose, "d1", "", at); err != nil || c.ClosedAt == nil || c.Status != ComplaintClosed {
		t.Fatalf("close: %v", err)
	}
	if _, _, ok := c.Pending(); ok {
		t.Fatal("a closed complaint has a running clock")
	}
}

// TestEscalateComplaint: each missed clock raises the level once, at its
// deadline, whenever it is computed; clocks kept in time do not.
func TestEscalateComplaint(t *testing.T) {
	contactDue, resolutionDue := complaintOpened.Add(24*time.Hour), complaintOpened.Add(72*time.Hour)
	late := func(d time.Duration) *time.Time { v := complaintOpened.Add(d); return &v }
	tests := []struct {
		name      string
		contacted *time.Time
		proposed  *time.Time
		level     ComplaintLevel // preset
		now       time.Time
		want      ComplaintLevel
		clocks    []ComplaintClock
	}{
		{"before any deadline", nil, nil, "", contactDue, LevelDispatcher, nil},
		{"first contact missed", nil, nil, "", contactDue.Add(time.Second), LevelSupervisor, []ComplaintClock{ClockFirstContact}},
		{"contact kept, resolution missed", late(time.Hour), nil, "", resolutionDue.Add(time.Second), LevelSupervisor, []ComplaintClock{ClockResolution}},
		{"both missed, computed late", nil, nil, "", resolutionDue.Add(48 * time.Hour), LevelManager, []ComplaintClock{ClockFirstContact, ClockResolution}},
		{"contact made late", late(30 * time.Hour), late(31 * time.Hour), "", contactDue, LevelSupervisor, []ComplaintClock{ClockFirstContact}},
		{"both kept", late(time.Hour), late(2 * time.Hour), "", resolutionDue.Add(time.Hour), LevelDispatcher, nil},
		{"missed at the manager level", nil, nil, LevelManager, contactDue.Add(time.Second), LevelManager, []ComplaintClock{ClockFirstContact}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *newComplaint(t)
			c.ContactedAt, c.ProposedAt = tt.contacted, tt.proposed
			if tt.level != "" {
				c.Level = tt.level
			}
			got, changed := EscalateComplaint(c, tt.now)
			if got.Level != tt.want || changed != (len(tt.clocks) > 0) || len(got.Escalations) != len(tt.clocks) {
				t.Fatalf("level %s changed %v escalations %+v; want %s, %v", got.Level, changed, got.Escalations, tt.want, tt.clocks)
			}
			if len(c.Escalations) != 0 {
				t.Fatal("EscalateComplaint changed its argument")
			}
			for i, clock := range tt.clocks {
				e := got.Escalations[i]
				due := map[ComplaintClock]time.Time{ClockFirstContact: contactDue, ClockResolution: resolutionDue}[clock]
				if e.Clock != clock || !e.At.Equal(due) || e.By != "" {
					t.Errorf("escalation %d = %+v, want clock %s at %s", i, e, clock, due)
				}
			}
			again, changed := EscalateComplaint(got, tt.now.Add(240*time.Hour))
			if changed && len(got.Escalations) == 2 || len(again.Escalations) > 2 {
				t.Errorf("a second computation escalated again: %+v", again.Escalations)
			}
		})
	}
}

func TestComplaintClocks(t *testing.T) {
	c := newComplaint(t)
	if clock, due, ok := c.Pending(); !ok || clock != ClockFirstContact || !due.Equal(c.FirstContactDue) {
		t.Fatalf("pending = %s %s %v", clock, due, ok)
	}
	if next, ok := c.NextEscalation(); !ok || !next.Equal(c.FirstContactDue) {
		t.Fatalf("next escalation = %s %v", next, ok)
	}
	*c, _ = EscalateComplaint(*c, c.FirstContactDue.Add(time.Minute))
	if next, ok := c.NextEscalation(); !ok || !next.Equal(c.ResolutionDue) {
		t.Fatalf("after the first escalation, next = %s %v; want the resolution's", next, ok)
	}
	if !c.Overdue(c.FirstContactDue.Add(time.Minute)) {
		t.Fatal("not overdue after its first-contact deadline")
	}
	if err := c.Apply(ComplaintContact, "d1", "", c.FirstContactDue.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if clock, due, _ := c.Pending(); clock != ClockResolution || !due.Equal(c.ResolutionDue) {
		t.Fatalf("after contact, pending = %s %s", clock, due)
	}
	endOfDay := c.ResolutionDue.Add(time.Hour)
	for _, tt := range []struct {
		f    ComplaintFilter
		want bool
	}{
		{ComplaintFilter{}, true},
		{ComplaintFilter{Status: ComplaintContacted, Level: LevelSupervisor}, true},
		{ComplaintFilter{Level: LevelDispatcher}, false},
		{ComplaintFilter{CustomerIDs: []string{"other"}}, false},
		{ComplaintFilter{Due: DueOverdue, Now: c.ResolutionDue}, false},
		{ComplaintFilter{Due: DueOverdue, Now: c.ResolutionDue.Add(time.Second)}, true},
		{ComplaintFilter{Due: DueToday, Now: c.ResolutionDue.Add(-time.Hour), DueBefore: endOfDay}, true},
		{ComplaintFilter{Due: DueToday, Now: c.ResolutionDue.Add(-time.Hour), DueBefore: c.ResolutionDue}, false},
	} {
		if got := tt.f.Match(c); got != tt.want {
			t.Errorf("%+v.Match = %v, want %v", tt.f, got, tt.want)
		}
	}
}
