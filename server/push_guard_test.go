package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// at is a mutation stamped with a wall time the test chooses, as a tablet
// whose clock is wrong would stamp it.
func (d *device) at(wall int64, entity fieldsync.Entity, id, op, action string, fields map[string]any) syncproto.Mutation {
	m := d.mutation(entity, id, op, action, fields)
	m.HLC = fmt.Sprintf("%d:0:%s", wall, d.id)
	return m
}

type stepView struct {
	Status     string                `json:"status"`
	CreatedAt  time.Time             `json:"created_at"`
	DepartedAt *time.Time            `json:"departed_at"`
	ArrivedAt  *time.Time            `json:"arrived_at"`
	Received   map[string]time.Time  `json:"received"`
	ClockSkew  []fieldsync.ClockSkew `json:"clock_skew"`
	SLA        struct{ State string }
	Reports    []struct {
		CreatedAt time.Time             `json:"created_at"`
		SignedAt  *time.Time            `json:"signed_at"`
		Received  map[string]time.Time  `json:"received"`
		ClockSkew []fieldsync.ClockSkew `json:"clock_skew"`
	}
	RefusedWork []syncproto.Refusal `json:"refused_work"`
}

func skewed(skews []fieldsync.ClockSkew, field string) bool {
	for _, s := range skews {
		if s.Field == field {
			return true
		}
	}
	return false
}

// A tablet whose clock says 1970 cannot put an arrival before the
// departure, nor either before the visit existed, nor sign in 1970: each
// step is kept after the ones before it, the server's receipt beside it,
// and the dispatcher sees the skew.
func TestSyncBackDatedStampsAreBounded(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	w.clock.Set(date(2026, 3, 10, 10))
	report := "0190f000-0000-7000-8000-0000000000b1"
	answers := map[string]any{}
	for _, it := range w.template(t, "tv-v1").Items {
		if it.Required {
			answers[it.ID] = sampleAnswer(it)
		}
	}
	rs := tab.push(t,
		tab.at(5000, "visit", v.ID, "action", "depart", nil),
		tab.at(1000, "visit", v.ID, "action", "arrive", nil),
		tab.at(2000, "report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1", "answers": answers}),
		tab.at(3000, "report", report, "action", "sign", tab.signFields(t, report, signing{report: draftOf(t, report, v.ID, "tv-v1", answers)})),
	)
	if statuses(rs) != "1:applied: 2:applied: 3:applied: 4:applied: " {
		t.Fatalf("push: %s", statuses(rs))
	}
	var got stepView
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &got)
	if got.DepartedAt == nil || got.ArrivedAt == nil || got.DepartedAt.Before(got.CreatedAt) || got.ArrivedAt.Before(*got.DepartedAt) {
		t.Fatalf("created %v, departed %v, arrived %v: want created ≤ departed ≤ arrived", got.CreatedAt, got.DepartedAt, got.ArrivedAt)
	}
	if got.ArrivedAt.Year() == 1970 {
		t.Fatalf("arrived_at %v", got.ArrivedAt)
	}
	for _, f := range []string{"departed_at", "arrived_at"} {
		if !got.Received[f].Equal(date(2026, 3, 10, 10)) {
			t.Errorf("received[%s] = %v, want the server's receipt 10:00", f, got.Received[f])
		}
		if !skewed(got.ClockSkew, f) {
			t.Errorf("clock_skew %+v does not flag %s", got.ClockSkew, f)
		}
	}
	if len(got.Reports) != 1 {
		t.Fatalf("reports %+v", got.Reports)
	}
	r := got.Reports[0]
	if r.SignedAt == nil || r.SignedAt.Year() == 1970 || r.SignedAt.Before(r.CreatedAt) || r.SignedAt.Before(*got.ArrivedAt) || r.CreatedAt.Before(got.CreatedAt) {
		t.Fatalf("report created %v, signed %v (visit created %v, arrived %v)", r.CreatedAt, r.SignedAt, got.CreatedAt, got.ArrivedAt)
	}
	if !skewed(r.ClockSkew, "signed_at") || !r.Received["signed_at"].Equal(date(2026, 3, 10, 10)) {
		t.Fatalf("report received %v, clock_skew %+v", r.Received, r.ClockSkew)
	}

	// An honest offline day is not flagged: the steps keep the device's
	// times, hours before the sync.
	v2 := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	w.clock.Set(date(2026, 3, 10, 11))
	batch := []syncproto.Mutation{tab.mutation("visit", v2.ID, "action", "depart", nil), tab.mutation("visit", v2.ID, "action", "arrive", nil)}
	w.clock.Set(date(2026, 3, 10, 15))
	tab.push(t, batch...)
	got = stepView{}
	w.call(t, w.disp, "GET", "/v1/visits/"+v2.ID, nil, 200, &got)
	if !got.ArrivedAt.Equal(date(2026, 3, 10, 11)) || len(got.ClockSkew) != 0 || !got.Received["arrived_at"].Equal(date(2026, 3, 10, 15)) {
		t.Fatalf("offline arrival %v, received %v, clock_skew %+v", got.ArrivedAt, got.Received, got.ClockSkew)
	}
}

// A technician pushing for a visit that never was theirs learns nothing a
// made-up id would not tell; one that was theirs hears it was reassigned.
// Neither hangs anything on another technician's visit.
func TestSyncForeignVisitsAreNotFound(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	theirs := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techBID)
	tab := w.device(t, "tech.a", "tab-a")

	const madeUp = "0190f000-0000-7000-8000-00000000dead"
	rs := tab.push(t,
		tab.mutation("visit", theirs.ID, "action", "arrive", nil),
		tab.mutation("visit", madeUp, "action", "arrive", nil),
		tab.mutation("report", "0190f000-0000-7000-8000-0000000000c1", "upsert", "", map[string]any{"visit_id": theirs.ID, "template_id": "tv-v1"}),
		tab.mutation("report", "0190f000-0000-7000-8000-0000000000c2", "upsert", "", map[string]any{"visit_id": madeUp, "template_id": "tv-v1"}),
		tab.mutation("invoice", theirs.ID, "upsert", "", map[string]any{"total": 1}),
	)
	for i, pair := range [][2]int{{0, 1}, {2, 3}} {
		a, b := rs[pair[0]], rs[pair[1]]
		if a.Status != b.Status || a.Code != b.Code || a.Status != syncproto.Rejected || a.Code != fieldsync.ENotFound ||
			strings.Replace(a.Detail, theirs.ID, madeUp, 1) != b.Detail {
			t.Errorf("case %d: foreign %+v, made-up %+v: want the same answer", i, a, b)
		}
	}
	var got stepView
	w.call(t, w.disp, "GET", "/v1/visits/"+theirs.ID, nil, 200, &got)
	if len(got.RefusedWork) != 0 || got.Status != "scheduled" {
		t.Fatalf("B's visit carries A's pushes: %+v", got.RefusedWork)
	}

	// A visit that was A's and went to B is a conflict, kept on it.
	mine := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	w.call(t, w.disp, "POST", "/v1/visits/"+mine.ID+"/assign", map[string]string{"technician_id": w.techBID}, 200, nil)
	if rs := tab.push(t, tab.mutation("visit", mine.ID, "action", "depart", nil)); rs[0].Status != syncproto.Conflict || rs[0].Code != syncproto.CodeVisitReassigned {
		t.Fatalf("a visit that was A's: %s", statuses(rs))
	}
	w.call(t, w.disp, "GET", "/v1/visits/"+mine.ID, nil, 200, &got)
	if len(got.RefusedWork) != 1 || got.RefusedWork[0].UserID != w.techAID {
		t.Fatalf("A's work on the reassigned visit: %+v", got.RefusedWork)
	}
}

// A report keeps a newer client's unknown fields, within bounds.
func TestSyncReportExtraIsCapped(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	report := "0190f000-0000-7000-8000-0000000000d1"
	many := map[string]any{"visit_id": v.ID, "template_id": "tv-v1"}
	for i := range fieldsync.MaxExtraFields + 1 {
		many[fmt.Sprintf("x_%d", i)] = i
	}
	big := map[string]any{"visit_id": v.ID, "template_id": "tv-v1", "x_big": strings.Repeat("y", fieldsync.MaxExtraBytes)}
	some := map[string]any{"visit_id": v.ID, "template_id": "tv-v1", "x_color": "red"}
	rs := tab.push(t,
		tab.mutation("report", report, "upsert", "", many),
		tab.mutation("report", report, "upsert", "", big),
		tab.mutation("report", report, "upsert", "", some),
	)
	if statuses(rs) != "1:rejected:extra_too_large 2:rejected:extra_too_large 3:applied: " {
		t.Fatalf("push: %s", statuses(rs))
	}
	var got struct{ Reports []fieldsync.Report }
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &got)
	if len(got.Reports) != 1 || len(got.Reports[0].Extra) != 1 || string(got.Reports[0].Extra["x_color"]) != `"red"` {
		t.Fatalf("reports %+v", got.Reports)
	}
}
