package fieldsync

import (
	"testing"
	"time"
)

// A visit booked on a ticket with an open return or exchange is due when
// the pick-up is; a second visit, a collected pick-up or an appraisal
// slip leave the on-site promise.
func TestPlanCollection(t *testing.T) {
	due := time.Date(2026, 4, 9, 0, 0, 0, 0, time.UTC)
	onSite := time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC)
	done := due.Add(-time.Hour)
	for _, c := range []struct {
		name string
		p    Pickup
		prev string
		want time.Time
	}{
		{"open return", Pickup{Kind: PickupRecordReturn}, "", due},
		{"open exchange", Pickup{Kind: PickupRecordExchange}, "", due},
		{"second visit", Pickup{Kind: PickupRecordReturn}, "v0", onSite},
		{"collected", Pickup{Kind: PickupRecordReturn, DoneAt: &done}, "", onSite},
		{"appraisal slip", Pickup{Kind: PickupRecordAppraisalSlip}, "", onSite},
	} {
		c.p.TicketID, c.p.Due = "t1", due
		v := Visit{TicketID: "t1", PreviousVisitID: c.prev, Due: onSite}
		c.p.PlanCollection(&v)
		if !v.Due.Equal(c.want) {
			t.Errorf("%s: due %s, want %s", c.name, v.Due, c.want)
		}
	}
}

func TestPickupState(t *testing.T) {
	due := time.Date(2026, 4, 9, 0, 0, 0, 0, time.UTC)
	p := Pickup{Due: due}
	if p.State(due) != PickupDue || p.State(due.Add(time.Nanosecond)) != PickupOverdue {
		t.Fatalf("state at and after due: %s, %s", p.State(due), p.State(due.Add(time.Nanosecond)))
	}
	r := &Report{ID: "r1", Pickup: &ReportPickup{Kind: PickupReturn, CollectedAt: due, TotalFen: 7, Deductions: []PickupDeduction{{Accessory: "remote", Fen: 7}}}}
	if !p.CollectedBy(r, due) || p.State(due.Add(time.Hour)) != PickupDone || p.TotalFen != 7 || p.CollectedBy(r, due) {
		t.Fatalf("collected: %+v", p)
	}
	if _, err := ParsePickupState("late"); ErrorCode(err) != EInvalid {
		t.Fatalf("state late: %v", err)
	}
	if _, err := ParsePickupRecordKind("repair"); ErrorCode(err) != EInvalid {
		t.Fatalf("kind repair: %v", err)
	}
}
