package sla

import (
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

func TestVisitState(t *testing.T) {
	p := DefaultPolicy()
	due := at(t, "2026-10-08 20:00")
	ptr := func(t time.Time) *time.Time { return &t }
	visit := func(st fieldsync.VisitStatus, arrived *time.Time) *fieldsync.Visit {
		return &fieldsync.Visit{Status: st, Due: due, ArrivedAt: arrived}
	}
	late := due.Add(72 * time.Hour) // now, long after due: a settled promise ignores it
	tests := []struct {
		name    string
		v       *fieldsync.Visit
		now     time.Time
		want    State
		minutes int
	}{
		{"completed, arrived an hour early: met by 60", visit(fieldsync.VisitCompleted, ptr(due.Add(-time.Hour))), late, Met, 60},
		{"completed, arrived exactly at due: met by 0", visit(fieldsync.VisitCompleted, ptr(due)), late, Met, 0},
		{"completed, arrived 59 s early: met by 0", visit(fieldsync.VisitCompleted, ptr(due.Add(-59*time.Second))), late, Met, 0},
		{"completed, arrived 1 min early: met by 1", visit(fieldsync.VisitCompleted, ptr(due.Add(-time.Minute))), late, Met, 1},
		{"completed, arrived 1 s late: missed by 1", visit(fieldsync.VisitCompleted, ptr(due.Add(time.Second))), late, Missed, 1},
		{"completed, arrived 1 min late: missed by 1", visit(fieldsync.VisitCompleted, ptr(due.Add(time.Minute))), late, Missed, 1},
		{"completed, arrived 1 min 1 s late: missed by 2", visit(fieldsync.VisitCompleted, ptr(due.Add(time.Minute+time.Second))), late, Missed, 2},
		{"completed early, read before due: met", visit(fieldsync.VisitCompleted, ptr(due.Add(-5*time.Hour))), due.Add(-time.Hour), Met, 300},
		{"needs a second visit, arrived late: missed", visit(fieldsync.VisitNeedsSecondVisit, ptr(due.Add(90*time.Minute))), late, Missed, 90},
		{"cancelled after due: void, ok", visit(fieldsync.VisitCancelled, nil), late, OK, 0},
		{"cancelled after a late arrival: void, ok", visit(fieldsync.VisitCancelled, ptr(due.Add(time.Hour))), late, OK, 0},
		{"on site, arrived on time: ok, not yet settled", visit(fieldsync.VisitOnSite, ptr(due.Add(-time.Hour))), late, OK, 0},
		{"on site, arrived late: breached", visit(fieldsync.VisitOnSite, ptr(due.Add(time.Hour))), late, Breached, 0},
		{"scheduled, inside the margin: at risk", visit(fieldsync.VisitScheduled, nil), due.Add(-time.Hour), AtRisk, 0},
		{"en route, past due: breached", visit(fieldsync.VisitEnRoute, nil), due.Add(time.Second), Breached, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.VisitState(tt.v, tt.now)
			if got.State != tt.want || got.Minutes != tt.minutes {
				t.Fatalf("VisitState = %+v, want %s by %d", got, tt.want, tt.minutes)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	due := at(t, "2026-10-08 20:00")
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name    string
		v       fieldsync.Visit
		minutes int // 0: no warning
	}{
		{"window ends at due: none", fieldsync.Visit{Status: fieldsync.VisitScheduled, WindowEnd: due}, 0},
		{"window ends before due: none", fieldsync.Visit{Status: fieldsync.VisitScheduled, WindowEnd: due.Add(-time.Hour)}, 0},
		{"window ends 1 s after due: 1 minute", fieldsync.Visit{Status: fieldsync.VisitScheduled, WindowEnd: due.Add(time.Second)}, 1},
		{"window ends 2 h after due: 120 minutes", fieldsync.Visit{Status: fieldsync.VisitScheduled, WindowEnd: due.Add(2 * time.Hour)}, 120},
		{"en route, window late: warned", fieldsync.Visit{Status: fieldsync.VisitEnRoute, WindowEnd: due.Add(time.Hour)}, 60},
		{"arrived: the arrival speaks", fieldsync.Visit{Status: fieldsync.VisitOnSite, WindowEnd: due.Add(time.Hour), ArrivedAt: ptr(due)}, 0},
		{"completed: settled", fieldsync.Visit{Status: fieldsync.VisitCompleted, WindowEnd: due.Add(time.Hour), ArrivedAt: ptr(due)}, 0},
		{"cancelled: void", fieldsync.Visit{Status: fieldsync.VisitCancelled, WindowEnd: due.Add(time.Hour)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.Due = due
			got := Warnings(&tt.v)
			if got == nil {
				t.Fatal("Warnings = nil, want a list")
			}
			if tt.minutes == 0 {
				if len(got) != 0 {
					t.Fatalf("Warnings = %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Code != WindowEndsAfterDue || got[0].Minutes != tt.minutes || got[0].Detail == "" {
				t.Fatalf("Warnings = %+v, want %s by %d", got, WindowEndsAfterDue, tt.minutes)
			}
		})
	}
}

func TestParseOnSiteStateAndWarningCode(t *testing.T) {
	for _, s := range OnSiteStates {
		if got, err := ParseOnSiteState(string(s)); err != nil || got != s {
			t.Errorf("ParseOnSiteState(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseOnSiteState("late"); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("ParseOnSiteState(late) err = %v, want EInvalid", err)
	}
	if got, err := ParseWarningCode(WindowEndsAfterDue); err != nil || got != WindowEndsAfterDue {
		t.Errorf("ParseWarningCode = %q, %v", got, err)
	}
	if _, err := ParseWarningCode("late"); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("ParseWarningCode(late) err = %v, want EInvalid", err)
	}
}
