package bolt_test

import (
	"testing"

	"github.com/fieldsync/fieldsync"
)

// SecondVisits lists only the visits that ended needing a second one,
// with the visit booked for each, a page at a time.
func TestSecondVisitsListsTheRequestsWithTheirBooking(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	all := func(t *testing.T, limit int) map[string]string {
		t.Helper()
		got, cursor := map[string]string{}, ""
		for range 10 {
			items, next, err := w.db.SecondVisits(ctx, cursor, limit, func(v *fieldsync.Visit, booked string) (*fieldsync.SecondVisitRequest, error) {
				return &fieldsync.SecondVisitRequest{Visit: *v, BookedVisitID: booked}, nil
			})
			must(t, err)
			for _, r := range items {
				got[r.Visit.ID] = r.BookedVisitID
			}
			if cursor = next; cursor == "" {
				return got
			}
		}
		t.Fatal("the pages did not end")
		return nil
	}
	w.onSite(t, "v-done")
	must(t, w.db.Push(ctx, finish("v-done", fieldsync.ActionComplete, w.now)))
	w.onSite(t, "v-parts")
	must(t, w.db.Push(ctx, finish("v-parts", fieldsync.ActionNeedSecondVisit, w.now)))
	if got := all(t, 1); len(got) != 1 || got["v-parts"] != "" {
		t.Fatalf("before booking: %v", got)
	}
	must(t, bookVisit(ctx, w.db, &fieldsync.Visit{ID: "v-second", TicketID: w.ticket, TechnicianID: w.techB, Status: fieldsync.VisitScheduled, PreviousVisitID: "v-parts", CreatedAt: w.now}, fieldsync.Actor{UserID: "admin"}))
	if got := all(t, 1); len(got) != 1 || got["v-parts"] != "v-second" {
		t.Fatalf("after booking: %v", got)
	}
	if _, _, err := w.db.SecondVisits(ctx, "%%%", 10, nil); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Fatalf("a malformed cursor: %v", err)
	}
}
