package bolt_test

import (
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/sla"
)

// The follow-up of a completion is due by the policy and calendar the
// store was given, not the shipped ones: 1 working day on a calendar
// whose Mondays are holidays makes Friday's completion due on Wednesday.
func TestFollowUpDueByTheGivenPolicy(t *testing.T) {
	w := newWorld(t)
	p := sla.DefaultPolicy()
	p.FollowUp = sla.Rule{Amount: 1, Unit: sla.Workdays}
	cal, err := calendar.Parse([]byte(`{"region": "test", "year": 2026, "weekend": ["saturday", "sunday"],
		"holidays": [{"name": {"zh-CN": "长周末", "en": "A long weekend"}, "from": "2026-03-16", "to": "2026-03-16"}], "make_up_workdays": []}`))
	must(t, err)
	w.db.SetPolicy(p, cal)
	w.onSite(t, "v-done")
	friday := time.Date(2026, 3, 13, 17, 0, 0, 0, cst)
	must(t, w.db.Push(t.Context(), finish("v-done", fieldsync.ActionComplete, friday)))
	got := followUpsOf(t, w.db, "v-done")
	if want := time.Date(2026, 3, 18, 0, 0, 0, 0, cst); len(got) != 1 || !got[0].Due.Equal(want) {
		t.Fatalf("follow-ups %+v, want one due %s", got, want)
	}
}

// A return's pick-up is due by the policy the store was given: 1 working
// day instead of the shipped 3 makes Thursday's completion due at the end
// of Friday 3 April (shipped: 9 April, after Qingming).
func TestPickupDueByTheGivenPolicy(t *testing.T) {
	w := newWorld(t)
	p := sla.DefaultPolicy()
	p.PickupReturn = sla.Rule{Amount: 1, Unit: sla.Workdays}
	w.db.SetPolicy(p, nil)
	w.onSite(t, "v-decide")
	thursday := time.Date(2026, 4, 2, 17, 0, 0, 0, cst)
	must(t, w.db.Push(t.Context(), signedReport("r-decide", "v-decide", thursday, func(r *fieldsync.Report) {
		r.Warranty = decision(false, "return", "return", "exchange")
	})))
	must(t, w.db.Push(t.Context(), finish("v-decide", fieldsync.ActionComplete, thursday)))
	got := pickups(t, w.db, fieldsync.PickupFilter{})
	if want := time.Date(2026, 4, 4, 0, 0, 0, 0, cst); len(got) != 1 || !got[0].Due.Equal(want) {
		t.Fatalf("pick-ups %+v, want one due %s", got, want)
	}
}
