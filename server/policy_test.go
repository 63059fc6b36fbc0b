package server

import (
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/sla"
)

// The store's follow-up clock counts on the server's SLA policy: with a
// follow-up promised within 1 working day, Friday's completion is due at
// the end of Monday, not of Wednesday as the shipped 3 days would say.
func TestFollowUpDueByTheServersPolicy(t *testing.T) {
	c := testenv.NewClock(date(2026, 3, 13, 9)) // a Friday
	w := worldOn(t, newTestServer(t, func(d *Deps) {
		onClock(d, c)
		d.Policy = sla.DefaultPolicy()
		d.Policy.FollowUp = sla.Rule{Amount: 1, Unit: sla.Workdays}
	}), c)
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	w.clock.Set(date(2026, 3, 13, 15))
	w.finishVisit(t, tab, v.ID, fieldsync.ActionComplete)
	var all page[followUpJSON]
	w.call(t, w.disp, "GET", "/v1/followups", nil, 200, &all)
	if want := date(2026, 3, 17, 0); len(all.Items) != 1 || !all.Items[0].Due.Equal(want) {
		t.Fatalf("follow-ups %+v, want one due %s", all.Items, want)
	}
}
