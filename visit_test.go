package fieldsync

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testVisitActions is every action a technician can send.
var testVisitActions = []VisitAction{ActionDepart, ActionArrive, ActionComplete, ActionNeedSecondVisit, ActionCancel}

// testVisitMoves is the whole state machine, listed by hand: every
// (status, action) pair not in it must be refused.
var testVisitMoves = []struct {
	name   string
	from   VisitStatus
	action VisitAction
	to     VisitStatus
}{
	{"a scheduled visit departs", VisitScheduled, ActionDepart, VisitEnRoute},
	{"an en-route visit arrives", VisitEnRoute, ActionArrive, VisitOnSite},
	{"an on-site visit completes", VisitOnSite, ActionComplete, VisitCompleted},
	{"an on-site visit needs a second visit", VisitOnSite, ActionNeedSecondVisit, VisitNeedsSecondVisit},
	{"a scheduled visit can be cancelled", VisitScheduled, ActionCancel, VisitCancelled},
	{"an en-route visit can be cancelled", VisitEnRoute, ActionCancel, VisitCancelled},
	{"an on-site visit can be cancelled", VisitOnSite, ActionCancel, VisitCancelled},
}

var visitT0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func TestVisitStatusesAndActionsAreComplete(t *testing.T) {
	want := []VisitStatus{VisitScheduled, VisitEnRoute, VisitOnSite, VisitCompleted, VisitNeedsSecondVisit, VisitCancelled}
	if !reflect.DeepEqual(VisitStatuses, want) {
		t.Fatalf("VisitStatuses = %v, want %v", VisitStatuses, want)
	}
	// The machine knows exactly the actions this test enumerates, so the
	// exhaustive table below cannot miss one.
	if len(visitTransitions) != len(testVisitActions) {
		t.Fatalf("the machine has %d actions, the test knows %d", len(visitTransitions), len(testVisitActions))
	}
	for _, a := range testVisitActions {
		if _, ok := visitTransitions[a]; !ok {
			t.Errorf("action %q is not in the machine", a)
		}
	}
}

func TestNextVisitStatusExhaustive(t *testing.T) {
	type pair struct {
		from   VisitStatus
		action VisitAction
	}
	allowed := map[pair]VisitStatus{}
	for _, m := range testVisitMoves {
		p := pair{m.from, m.action}
		if _, dup := allowed[p]; dup {
			t.Fatalf("move %v listed twice", p)
		}
		allowed[p] = m.to
	}

	type row struct {
		name   string
		from   VisitStatus
		action VisitAction
		to     VisitStatus // "" when forbidden
	}
	var rows []row
	for _, m := range testVisitMoves {
		rows = append(rows, row{m.name, m.from, m.action, m.to})
	}
	for _, from := range VisitStatuses {
		for _, action := range testVisitActions {
			if _, ok := allowed[pair{from, action}]; ok {
				continue
			}
			rows = append(rows, row{name: fmt.Sprintf("a %s visit cannot %s", from, action), from: from, action: action})
		}
	}
	if want := len(VisitStatuses) * len(testVisitActions); len(rows) != want {
		t.Fatalf("%d rows, want every one of the %d (status, action) pairs", len(rows), want)
	}

	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NextVisitStatus(tt.from, tt.action)
			if tt.to != "" {
				if err != nil || got != tt.to {
					t.Fatalf("NextVisitStatus(%s, %s) = %q, %v; want %q", tt.from, tt.action, got, err, tt.to)
				}
				return
			}
			checkErr(t, err, EInvalidTransition, "cannot")
			if got != "" {
				t.Fatalf("a refused move returned status %q", got)
			}
		})
	}
}

func TestNextVisitStatusUnknownAction(t *testing.T) {
	tests := []struct {
		name   string
		from   VisitStatus
		action VisitAction
	}{
		{"an empty action is invalid", VisitScheduled, ""},
		{"a made-up action is invalid", VisitScheduled, "teleport"},
		{"actions are case-sensitive", VisitScheduled, "Depart"},
		{"an unknown action is invalid even from a terminal status", VisitCompleted, "reopen"},
		{"an unknown action is invalid even from an unknown status", "lost", "teleport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NextVisitStatus(tt.from, tt.action)
			checkErr(t, err, EInvalid, "unknown visit action")
			if got != "" {
				t.Fatalf("got status %q", got)
			}
		})
	}
}

func TestNextVisitStatusUnknownStatus(t *testing.T) {
	for _, from := range []VisitStatus{"", "lost", "Scheduled"} {
		for _, a := range testVisitActions {
			t.Run(fmt.Sprintf("an unknown status %q cannot %s", from, a), func(t *testing.T) {
				_, err := NextVisitStatus(from, a)
				checkErr(t, err, EInvalidTransition, "")
			})
		}
	}
}

func TestVisitStatusTerminal(t *testing.T) {
	tests := []struct {
		name   string
		status VisitStatus
		want   bool
	}{
		{"a scheduled visit is not terminal", VisitScheduled, false},
		{"an en-route visit is not terminal", VisitEnRoute, false},
		{"an on-site visit is not terminal", VisitOnSite, false},
		{"a completed visit is terminal", VisitCompleted, true},
		{"a visit needing a second visit is terminal", VisitNeedsSecondVisit, true},
		{"a cancelled visit is terminal", VisitCancelled, true},
	}
	if len(tests) != len(VisitStatuses) {
		t.Fatalf("the table covers %d statuses, there are %d", len(tests), len(VisitStatuses))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.status.Terminal(); got != tt.want {
				t.Fatalf("%s.Terminal() = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

// Terminal must agree with the machine: terminal means no action leads out.
func TestTerminalAgreesWithTheMachine(t *testing.T) {
	for _, s := range VisitStatuses {
		leads := false
		for _, a := range testVisitActions {
			if _, err := NextVisitStatus(s, a); err == nil {
				leads = true
			}
		}
		if s.Terminal() == leads {
			t.Errorf("%s: Terminal() = %v but an action leads out = %v", s, s.Terminal(), leads)
		}
	}
}

func TestParseVisitStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want VisitStatus
		code string
	}{
		{"scheduled parses", "scheduled", VisitScheduled, ""},
		{"en_route parses", "en_route", VisitEnRoute, ""},
		{"on_site parses", "on_site", VisitOnSite, ""},
		{"completed parses", "completed", VisitCompleted, ""},
		{"needs_second_visit parses", "needs_second_visit", VisitNeedsSecondVisit, ""},
		{"cancelled parses", "cancelled", VisitCancelled, ""},
		{"an empty status is invalid", "", "", EInvalid},
		{"statuses are case-sensitive", "Scheduled", "", EInvalid},
		{"statuses are not trimmed", " scheduled", "", EInvalid},
		{"an action is not a status", "depart", "", EInvalid},
		{"the American spelling is not a status", "canceled", "", EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVisitStatus(tt.in)
			checkErr(t, err, tt.code, "")
			if got != tt.want {
				t.Fatalf("ParseVisitStatus(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func tp(t time.Time) *time.Time { return &t }

func TestVisitApply(t *testing.T) {
	t1 := visitT0.Add(time.Hour)
	departed, arrived := visitT0.Add(-2*time.Hour), visitT0.Add(-time.Hour)
	base := func(s VisitStatus) Visit {
		v := Visit{ID: "v1", TicketID: "t1", TechnicianID: "tech", Status: s, CreatedAt: visitT0.Add(-24 * time.Hour), UpdatedAt: visitT0.Add(-24 * time.Hour)}
		if s == VisitEnRoute || s == VisitOnSite {
			v.DepartedAt = tp(departed)
		}
		if s == VisitOnSite {
			v.ArrivedAt = tp(arrived)
		}
		return v
	}
	tests := []struct {
		name   string
		from   VisitStatus
		action VisitAction
		reason string
		want   func(v *Visit) // edits base(from) into the expected visit
	}{
		{"departing records DepartedAt", VisitScheduled, ActionDepart, "", func(v *Visit) {
			v.Status, v.DepartedAt = VisitEnRoute, tp(t1)
		}},
		{"arriving records ArrivedAt and keeps DepartedAt", VisitEnRoute, ActionArrive, "", func(v *Visit) {
			v.Status, v.ArrivedAt = VisitOnSite, tp(t1)
		}},
		{"completing records FinishedAt", VisitOnSite, ActionComplete, "", func(v *Visit) {
			v.Status, v.FinishedAt = VisitCompleted, tp(t1)
		}},
		{"needing a second visit records FinishedAt", VisitOnSite, ActionNeedSecondVisit, "", func(v *Visit) {
			v.Status, v.FinishedAt = VisitNeedsSecondVisit, tp(t1)
		}},
		{"cancelling a scheduled visit records FinishedAt and the reason", VisitScheduled, ActionCancel, "customer not home", func(v *Visit) {
			v.Status, v.FinishedAt, v.CancelReason = VisitCancelled, tp(t1), "customer not home"
		}},
		{"cancelling an en-route visit records FinishedAt and the reason", VisitEnRoute, ActionCancel, "road closed", func(v *Visit) {
			v.Status, v.FinishedAt, v.CancelReason = VisitCancelled, tp(t1), "road closed"
		}},
		{"cancelling an on-site visit records FinishedAt and the reason", VisitOnSite, ActionCancel, "客户拒绝维修", func(v *Visit) {
			v.Status, v.FinishedAt, v.CancelReason = VisitCancelled, tp(t1), "客户拒绝维修"
		}},
		{"the cancel reason is stored trimmed", VisitScheduled, ActionCancel, "  duplicate ticket \n", func(v *Visit) {
			v.Status, v.FinishedAt, v.CancelReason = VisitCancelled, tp(t1), "duplicate ticket"
		}},
		{"a cancel reason of 400 bytes is accepted", VisitScheduled, ActionCancel, strings.Repeat("r", 2*MaxShortText), func(v *Visit) {
			v.Status, v.FinishedAt, v.CancelReason = VisitCancelled, tp(t1), strings.Repeat("r", 2*MaxShortText)
		}},
		{"a reason sent with another action is ignored", VisitScheduled, ActionDepart, "why not", func(v *Visit) {
			v.Status, v.DepartedAt = VisitEnRoute, tp(t1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := base(tt.from)
			want := base(tt.from)
			tt.want(&want)
			want.UpdatedAt = t1
			if err := v.Apply(tt.action, t1, tt.reason); err != nil {
				t.Fatalf("Apply(%s): %v", tt.action, err)
			}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("after Apply(%s):\n got %+v\nwant %+v", tt.action, v, want)
			}
		})
	}
}

func TestVisitApplyFailureLeavesVisitUnchanged(t *testing.T) {
	t1 := visitT0.Add(time.Hour)
	tests := []struct {
		name   string
		from   VisitStatus
		action VisitAction
		reason string
		code   string
	}{
		{"cancel requires a reason", VisitScheduled, ActionCancel, "", EInvalid},
		{"a blank cancel reason is missing", VisitEnRoute, ActionCancel, " \t\n ", EInvalid},
		{"a cancel reason over 400 bytes is refused", VisitOnSite, ActionCancel, strings.Repeat("r", 2*MaxShortText+1), EInvalid},
		{"a cancel reason must be valid UTF-8", VisitScheduled, ActionCancel, "bad \xff reason", EInvalid},
		{"a completed visit cannot be cancelled", VisitCompleted, ActionCancel, "too late", EInvalidTransition},
		{"a cancelled visit cannot be cancelled again", VisitCancelled, ActionCancel, "again", EInvalidTransition},
		{"a visit needing a second visit cannot be cancelled", VisitNeedsSecondVisit, ActionCancel, "no", EInvalidTransition},
		{"a scheduled visit cannot complete", VisitScheduled, ActionComplete, "", EInvalidTransition},
		{"an en-route visit cannot depart again", VisitEnRoute, ActionDepart, "", EInvalidTransition},
		{"a completed visit cannot depart", VisitCompleted, ActionDepart, "", EInvalidTransition},
		{"an unknown action changes nothing", VisitScheduled, "teleport", "", EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Visit{
				ID: "v1", TicketID: "t1", TechnicianID: "tech", Status: tt.from,
				DepartedAt: tp(visitT0.Add(-3 * time.Hour)), ArrivedAt: tp(visitT0.Add(-2 * time.Hour)),
				CancelReason: "earlier", CreatedAt: visitT0.Add(-24 * time.Hour), UpdatedAt: visitT0.Add(-time.Hour),
			}
			if tt.from.Terminal() {
				v.FinishedAt = tp(visitT0.Add(-time.Hour))
			}
			before := v
			beforeDeparted, beforeArrived := *v.DepartedAt, *v.ArrivedAt
			checkErr(t, v.Apply(tt.action, t1, tt.reason), tt.code, "")
			if !reflect.DeepEqual(v, before) {
				t.Fatalf("a failed Apply changed the visit:\n got %+v\nwant %+v", v, before)
			}
			if !v.DepartedAt.Equal(beforeDeparted) || !v.ArrivedAt.Equal(beforeArrived) {
				t.Fatal("a failed Apply changed a recorded time")
			}
		})
	}
}

func TestVisitApplyFullWalk(t *testing.T) {
	t1, t2, t3 := visitT0.Add(time.Hour), visitT0.Add(2*time.Hour), visitT0.Add(3*time.Hour)
	v := Visit{ID: "v1", Status: VisitScheduled, CreatedAt: visitT0, UpdatedAt: visitT0}
	for _, step := range []struct {
		action VisitAction
		at     time.Time
	}{{ActionDepart, t1}, {ActionArrive, t2}, {ActionComplete, t3}} {
		if err := v.Apply(step.action, step.at, ""); err != nil {
			t.Fatalf("Apply(%s): %v", step.action, err)
		}
	}
	if v.Status != VisitCompleted || !v.DepartedAt.Equal(t1) || !v.ArrivedAt.Equal(t2) || !v.FinishedAt.Equal(t3) || !v.UpdatedAt.Equal(t3) {
		t.Fatalf("after a full walk: %+v", v)
	}
	// Each step keeps its own time: later steps do not overwrite earlier ones.
	if v.DepartedAt == v.ArrivedAt || v.ArrivedAt == v.FinishedAt {
		t.Fatal("recorded times share storage")
	}
	if !v.Status.Terminal() {
		t.Fatal("a completed visit is not terminal")
	}
	checkErr(t, v.Apply(ActionCancel, t3.Add(time.Hour), "late"), EInvalidTransition, "")
}

func TestVisitAssign(t *testing.T) {
	now := visitT0.Add(time.Hour)
	earlier := visitT0.Add(-time.Hour)
	departed := visitT0.Add(-30 * time.Minute)
	tests := []struct {
		name       string
		status     VisitStatus
		from, to   string
		code       string
		wantStatus VisitStatus
		wantTech   string
		changed    bool // UpdatedAt moves to now and DepartedAt is cleared
	}{
		{"a scheduled visit changes technician", VisitScheduled, "alice", "bob", "", VisitScheduled, "bob", true},
		{"an unassigned scheduled visit gets a technician", VisitScheduled, "", "bob", "", VisitScheduled, "bob", true},
		{"an en-route visit goes back to scheduled for the new technician", VisitEnRoute, "alice", "bob", "", VisitScheduled, "bob", true},
		{"assigning the same technician to a scheduled visit is a no-op", VisitScheduled, "alice", "alice", "", VisitScheduled, "alice", false},
		{"assigning the same technician to an en-route visit is a no-op", VisitEnRoute, "alice", "alice", "", VisitEnRoute, "alice", false},
		{"an on-site visit cannot be reassigned", VisitOnSite, "alice", "bob", EInvalidTransition, VisitOnSite, "alice", false},
		{"an on-site visit is refused even for the same technician", VisitOnSite, "alice", "alice", EInvalidTransition, VisitOnSite, "alice", false},
		{"a completed visit cannot be reassigned", VisitCompleted, "alice", "bob", EInvalidTransition, VisitCompleted, "alice", false},
		{"a visit needing a second visit cannot be reassigned", VisitNeedsSecondVisit, "alice", "bob", EInvalidTransition, VisitNeedsSecondVisit, "alice", false},
		{"a cancelled visit cannot be reassigned", VisitCancelled, "alice", "bob", EInvalidTransition, VisitCancelled, "alice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Visit{ID: "v1", TechnicianID: tt.from, Status: tt.status, UpdatedAt: earlier}
			if tt.status != VisitScheduled {
				v.DepartedAt = tp(departed)
			}
			before := v
			checkErr(t, v.Assign(tt.to, now), tt.code, "")
			if v.Status != tt.wantStatus || v.TechnicianID != tt.wantTech {
				t.Fatalf("after Assign: status %s, technician %q; want %s, %q", v.Status, v.TechnicianID, tt.wantStatus, tt.wantTech)
			}
			if !tt.changed {
				if !reflect.DeepEqual(v, before) {
					t.Fatalf("Assign changed the visit:\n got %+v\nwant %+v", v, before)
				}
				return
			}
			if v.DepartedAt != nil {
				t.Fatalf("DepartedAt = %v, want it cleared", *v.DepartedAt)
			}
			if !v.UpdatedAt.Equal(now) {
				t.Fatalf("UpdatedAt = %v, want %v", v.UpdatedAt, now)
			}
		})
	}
}

func TestValidateWindow(t *testing.T) {
	now := visitT0
	var zero time.Time
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name       string
		start, end time.Time
		code       string
		detail     string
	}{
		{"a window needs a start", zero, now.Add(2 * time.Hour), EInvalid, "required"},
		{"a window needs an end", now.Add(time.Hour), zero, EInvalid, "required"},
		{"a window needs both times", zero, zero, EInvalid, "required"},
		{"a window cannot end before it starts", now.Add(3 * time.Hour), now.Add(2 * time.Hour), EInvalid, "after window_start"},
		{"a window cannot end when it starts", now.Add(time.Hour), now.Add(time.Hour), EInvalid, "after window_start"},
		{"a window in the past is refused", now.Add(-3 * time.Hour), now.Add(-time.Hour), EInvalid, "past"},
		{"a window that ended a nanosecond ago is in the past", now.Add(-time.Hour), now.Add(-time.Nanosecond), EInvalid, "past"},
		{"a window longer than MaxVisitWindow is refused", now.Add(time.Hour), now.Add(time.Hour + MaxVisitWindow + time.Nanosecond), EInvalid, "at most"},
		{"a day-long window is refused", now.Add(24 * time.Hour), now.Add(48 * time.Hour), EInvalid, "at most"},
		{"a window of exactly MaxVisitWindow is valid", now.Add(time.Hour), now.Add(time.Hour + MaxVisitWindow), "", ""},
		{"a future window is valid", now.Add(24 * time.Hour), now.Add(26 * time.Hour), "", ""},
		{"a window that started but has not ended yet is valid", now.Add(-time.Hour), now.Add(time.Hour), "", ""},
		{"a window ending right now is not yet past", now.Add(-time.Hour), now, "", ""},
		{"times in different zones compare as instants", now.Add(time.Hour).In(cst), now.Add(3 * time.Hour), "", ""},
		{"an end in another zone that looks later is still before the start", now.Add(2 * time.Hour), now.Add(time.Hour).In(cst), EInvalid, "after window_start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidateWindow(tt.start, tt.end, now), tt.code, tt.detail)
		})
	}
}

func TestAssignNeedsATechnician(t *testing.T) {
	v := Visit{ID: "v1", TechnicianID: "tech-a", Status: VisitScheduled}
	checkErr(t, v.Assign("", time.Now()), EInvalid, "technician_id is required")
	if v.TechnicianID != "tech-a" {
		t.Fatalf("a refused assignment changed the technician to %q", v.TechnicianID)
	}
}

// testPromises counts a day on site per letter of the zone's name and five
// days for a second visit (in China time, as the calendar answers), so a
// test reads which rule was applied.
type testPromises struct{}

func (testPromises) OnSiteDue(zone Zone, intake time.Time) (time.Time, string, error) {
	if zone == "" {
		return time.Time{}, "", Errorf(EInvalid, "no on-site rule for zone %q", zone)
	}
	return intake.Add(time.Duration(len(zone)) * 24 * time.Hour), "", nil
}

func (testPromises) SecondVisitDue(asked time.Time) (time.Time, string, error) {
	return asked.Add(5 * 24 * time.Hour).In(time.FixedZone("CST", 8*3600)), "counted weekends only", nil
}

func TestPlanVisit(t *testing.T) {
	intake := visitT0.Add(-48 * time.Hour)
	ticket := &Ticket{ID: "t1", CreatedAt: intake}
	ended := func(id string, s VisitStatus, at time.Time) Visit {
		return Visit{ID: id, TicketID: "t1", Status: s, FinishedAt: &at}
	}
	open := func(id string, s VisitStatus) Visit { return Visit{ID: id, TicketID: "t1", Status: s} }
	day := func(n int) time.Time { return visitT0.Add(time.Duration(n) * 24 * time.Hour) }
	tests := []struct {
		name     string
		zone     Zone
		visits   []Visit
		code     string
		due      time.Time
		previous string
		warning  string
	}{
		{"a ticket's first visit is due on the zone's promise from intake", ZoneCity, nil, "", intake.Add(4 * 24 * time.Hour), "", ""},
		{"the zone sets the on-site promise", ZoneTownship, nil, "", intake.Add(8 * 24 * time.Hour), "", ""},
		{"a scheduled visit keeps the ticket busy", ZoneCity, []Visit{open("v1", VisitScheduled)}, EConflict, time.Time{}, "", ""},
		{"a visit en route keeps the ticket busy", ZoneCity, []Visit{open("v1", VisitEnRoute)}, EConflict, time.Time{}, "", ""},
		{"a visit on site keeps the ticket busy", ZoneCity, []Visit{open("v1", VisitOnSite)}, EConflict, time.Time{}, "", ""},
		{"an open visit after finished ones keeps the ticket busy", ZoneCity, []Visit{ended("v1", VisitCancelled, day(0)), open("v2", VisitScheduled)}, EConflict, time.Time{}, "", ""},
		{"after a cancelled visit the on-site promise still runs from intake", ZoneCity, []Visit{ended("v1", VisitCancelled, day(1))}, "", intake.Add(4 * 24 * time.Hour), "", ""},
		{"after a completed visit the on-site promise runs from intake", ZoneCity, []Visit{ended("v1", VisitCompleted, day(1))}, "", intake.Add(4 * 24 * time.Hour), "", ""},
		{"a visit that asked for a second one starts the second-visit promise", ZoneCity, []Visit{ended("v1", VisitNeedsSecondVisit, day(1))}, "", day(6), "v1", "counted weekends only"},
		{"a cancelled second visit leaves the request standing", ZoneCity, []Visit{ended("v1", VisitNeedsSecondVisit, day(1)), ended("v2", VisitCancelled, day(2))}, "", day(6), "v1", "counted weekends only"},
		{"the latest request for a second visit counts", ZoneCity, []Visit{ended("v1", VisitNeedsSecondVisit, day(1)), ended("v2", VisitNeedsSecondVisit, day(3))}, "", day(8), "v2", "counted weekends only"},
		{"a later completion settles the request", ZoneCity, []Visit{ended("v1", VisitNeedsSecondVisit, day(1)), ended("v2", VisitCompleted, day(2))}, "", intake.Add(4 * 24 * time.Hour), "", ""},
		{"a request after a completion counts", ZoneCity, []Visit{ended("v1", VisitCompleted, day(1)), ended("v2", VisitNeedsSecondVisit, day(2))}, "", day(7), "v2", "counted weekends only"},
		{"a promise that cannot be counted refuses the booking", "", nil, EInvalid, time.Time{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			booked := Visit{ID: "new", TechnicianID: "tech-a", WindowStart: visitT0, WindowEnd: visitT0.Add(2 * time.Hour), CreatedAt: visitT0, UpdatedAt: visitT0,
				Status: VisitCompleted, PreviousVisitID: "stale"}
			v, err := PlanVisit(booked, ticket, tt.zone, tt.visits, testPromises{})
			checkErr(t, err, tt.code, "")
			if tt.code != "" {
				if v != nil {
					t.Fatalf("a refused booking returned visit %+v", v)
				}
				return
			}
			if !v.Due.Equal(tt.due) || v.Due.Location() != time.UTC || v.PreviousVisitID != tt.previous || v.DueWarning != tt.warning {
				t.Fatalf("due %s (%s), previous %q, warning %q; want %s, %q, %q", v.Due, v.Due.Location(), v.PreviousVisitID, v.DueWarning, tt.due, tt.previous, tt.warning)
			}
			if v.ID != "new" || v.TicketID != "t1" || v.Status != VisitScheduled || v.TechnicianID != "tech-a" || !v.WindowStart.Equal(visitT0) {
				t.Fatalf("planned visit %+v: want the booking, scheduled, on t1", v)
			}
		})
	}
}

func TestPlanVisitNamesTheOpenVisit(t *testing.T) {
	_, err := PlanVisit(Visit{ID: "new"}, &Ticket{ID: "t1"}, ZoneCity, []Visit{{ID: "v1", Status: VisitOnSite}}, testPromises{})
	checkErr(t, err, EConflict, "ticket t1 already has an open visit v1")
}
