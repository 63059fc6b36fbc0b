package server

import (
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sla"
)

type visitSLAJSON struct {
	ID  string `json:"id"`
	SLA struct {
		State        string        `json:"state"`
		EarlyMinutes *int          `json:"early_minutes"`
		LateMinutes  *int          `json:"late_minutes"`
		Warnings     []sla.Warning `json:"warnings"`
	} `json:"sla"`
}

func (w *dispatchWorld) slaList(t *testing.T, q string) []string {
	t.Helper()
	var p page[visitSLAJSON]
	w.call(t, w.disp, "GET", "/v1/visits?"+q, nil, 200, &p)
	out := []string{}
	for _, v := range p.Items {
		out = append(out, v.ID+"="+v.SLA.State)
	}
	return out
}

// A window booked to end after the on-site deadline is accepted, warned at
// booking and on every read, and listed for the dispatcher to fix.
func TestVisitWindowPastDueWarns(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9)) // Tuesday; a city ticket is due Wed 09:00
	book := func(start time.Time) visitSLAJSON {
		var v visitSLAJSON
		w.call(t, w.disp, "POST", "/v1/visits", map[string]any{"ticket_id": w.intake(t, "", fieldsync.ZoneCity).ticket,
			"technician_id": w.techAID, "window_start": start, "window_end": start.Add(2 * time.Hour)}, 201, &v)
		return v
	}
	past := book(date(2026, 3, 11, 8)) // 08:00–10:00, an hour past due
	fine := book(date(2026, 3, 11, 7)) // 07:00–09:00, ends at due
	if ws := past.SLA.Warnings; past.SLA.State != "ok" || len(ws) != 1 || ws[0].Code != sla.WindowEndsAfterDue || ws[0].Minutes != 60 {
		t.Fatalf("booking past due answers %+v", past.SLA)
	}
	if fine.SLA.Warnings == nil || len(fine.SLA.Warnings) != 0 {
		t.Fatalf("booking by due answers warnings %+v, want []", fine.SLA.Warnings)
	}
	var read visitSLAJSON
	w.call(t, w.disp, "GET", "/v1/visits/"+past.ID, nil, 200, &read)
	if len(read.SLA.Warnings) != 1 || read.SLA.Warnings[0].Minutes != 60 {
		t.Fatalf("the visit read back: %+v", read.SLA)
	}
	if got := w.slaList(t, "sla_warning="+sla.WindowEndsAfterDue); len(got) != 1 || got[0] != past.ID+"=ok" {
		t.Fatalf("visits warned: %v", got)
	}
	if got := w.slaList(t, "sla=ok&sla_warning="+sla.WindowEndsAfterDue); len(got) != 1 {
		t.Fatalf("ok and warned: %v", got)
	}
	res, body := w.do(t, "GET", "/v1/visits?sla_warning=late", w.disp, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)

	// Once the technician arrived, the arrival tells the truth: no warning.
	tab := w.device(t, "tech.a", "tab-a")
	w.clock.Set(date(2026, 3, 11, 8))
	w.finishVisit(t, tab, past.ID, fieldsync.ActionComplete)
	if got := w.slaList(t, "sla_warning="+sla.WindowEndsAfterDue); len(got) != 0 {
		t.Fatalf("visits warned after the arrival: %v", got)
	}
}

// A completed visit's promise is met or missed by its arrival, with the
// minutes, for good; a cancelled one stays void; lists filter by both.
func TestVisitPromiseMetOrMissed(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9)) // city tickets due Wed 09:00
	onTime := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	late := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	second := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	cancelled := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	w.call(t, w.disp, "POST", "/v1/visits/"+cancelled.ID+"/cancel", map[string]string{"reason": "客户改约"}, 200, nil)
	tab := w.device(t, "tech.a", "tab-a")

	w.clock.Set(date(2026, 3, 11, 7)) // two hours early
	w.finishVisit(t, tab, onTime.ID, fieldsync.ActionComplete)
	w.clock.Set(date(2026, 3, 11, 9).Add(30 * time.Minute)) // half an hour late
	w.finishVisit(t, tab, late.ID, fieldsync.ActionComplete)
	w.finishVisit(t, tab, second.ID, fieldsync.ActionNeedSecondVisit)

	w.clock.Set(date(2026, 3, 20, 9)) // long after: settled promises do not move
	read := func(id string) (v visitSLAJSON) {
		w.call(t, w.disp, "GET", "/v1/visits/"+id, nil, 200, &v)
		return v
	}
	v := read(onTime.ID)
	if v.SLA.State != "met" || v.SLA.EarlyMinutes == nil || *v.SLA.EarlyMinutes != 120 || v.SLA.LateMinutes != nil {
		t.Fatalf("on time: %+v", v.SLA)
	}
	v = read(late.ID)
	if v.SLA.State != "missed" || v.SLA.LateMinutes == nil || *v.SLA.LateMinutes != 30 || v.SLA.EarlyMinutes != nil {
		t.Fatalf("late: %+v", v.SLA)
	}
	v = read(cancelled.ID)
	if v.SLA.State != "ok" || v.SLA.EarlyMinutes != nil || v.SLA.LateMinutes != nil {
		t.Fatalf("cancelled: %+v", v.SLA)
	}
	if got := w.slaList(t, "sla=met"); len(got) != 1 || got[0] != onTime.ID+"=met" {
		t.Fatalf("met: %v", got)
	}
	if got := w.slaList(t, "sla=missed"); len(got) != 2 || got[0] != late.ID+"=missed" || got[1] != second.ID+"=missed" {
		t.Fatalf("missed: %v", got)
	}
	if got := w.slaList(t, "sla=breached"); len(got) != 0 {
		t.Fatalf("breached, with every visit settled: %v", got)
	}
}
