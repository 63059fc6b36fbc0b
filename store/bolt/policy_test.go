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
