package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// auditOf returns the audit entries of a record with the given action.
func (w *dispatchWorld) auditOf(t *testing.T, entity, id, action string) []fieldsync.AuditEntry {
	t.Helper()
	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity="+entity+"&id="+id, nil, 200, &audit)
	var out []fieldsync.AuditEntry
	for _, e := range audit.Items {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// A site moved to the township zone moves the on-site deadline of its
// ticket's open visit, says so, audits both and reaches the technician.
func TestEditSiteZoneRecomputesDeadlines(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9)) // a Tuesday
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	tab.pull(t)
	var site struct {
		Zone          string                `json:"zone"`
		SLARecomputed []fieldsync.DueChange `json:"sla_recomputed"`
	}
	w.call(t, w.disp, "PATCH", "/v1/sites/"+in.site, map[string]any{"zone": "township"}, 200, &site)
	want := fieldsync.DueChange{VisitID: v.ID, DueBefore: date(2026, 3, 11, 9).UTC(), DueAfter: date(2026, 3, 13, 9).UTC()}
	if site.Zone != "township" || len(site.SLARecomputed) != 1 || !site.SLARecomputed[0].DueBefore.Equal(want.DueBefore) || !site.SLARecomputed[0].DueAfter.Equal(want.DueAfter) || site.SLARecomputed[0].VisitID != v.ID {
		t.Fatalf("edited site %+v, want the visit moved %+v", site, want)
	}
	var got visitJSON
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &got)
	if !got.Due.Equal(want.DueAfter) {
		t.Fatalf("visit due %s, want %s", got.Due, want.DueAfter)
	}
	changes := tab.pull(t)
	var fed fieldsync.Visit
	if c, ok := changes["visit/"+v.ID]; !ok || json.Unmarshal(c.Data, &fed) != nil || !fed.Due.Equal(want.DueAfter) {
		t.Fatalf("the technician's feed after the zone change: %v", changes)
	}
	if _, ok := changes["site/"+in.site]; !ok {
		t.Fatalf("the site is not in the technician's feed: %v", changes)
	}
	edits := w.auditOf(t, "site", in.site, "site.edit")
	if len(edits) != 1 || string(edits[0].Changes["zone"].From) != `"city"` || string(edits[0].Changes["zone"].To) != `"township"` || len(edits[0].Changes) != 1 {
		t.Fatalf("site audit: %+v", edits)
	}
	if n := len(w.auditOf(t, "visit", v.ID, "visit.sla_recompute")); n != 1 {
		t.Fatalf("%d visit.sla_recompute entries", n)
	}
	var same struct {
		SLARecomputed []fieldsync.DueChange `json:"sla_recomputed"`
	}
	w.call(t, w.disp, "PATCH", "/v1/sites/"+in.site, map[string]any{"address": "上海市浦东新区世纪大道200号"}, 200, &same)
	if same.SLARecomputed == nil || len(same.SLARecomputed) != 0 {
		t.Fatalf("an address edit moved deadlines: %+v", same)
	}
}

// Each PATCH corrects what staff may correct, audited with its diff, and
// refuses unknown or immutable fields, finished visits' windows, closed
// tickets and other roles.
func TestEditRecords(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)

	var cu fieldsync.Customer
	w.call(t, w.disp, "PATCH", "/v1/customers/"+in.customer, map[string]any{"name": "刘芳"}, 200, &cu)
	if cu.Name != "刘芳" || cu.Phone != "138 0013 8000" {
		t.Fatalf("edited customer %+v", cu)
	}
	if e := w.auditOf(t, "customer", in.customer, "customer.edit"); len(e) != 1 || string(e[0].Changes["name"].To) != `"刘芳"` || string(e[0].Changes["name"].From) != `"刘女士"` {
		t.Fatalf("customer audit %+v", e)
	}
	for _, c := range []struct{ path, field string }{
		{"/v1/customers/" + in.customer, "nickname"}, {"/v1/customers/" + in.customer, "user_id"},
		{"/v1/assets/" + in.asset, "category"}, {"/v1/sites/" + in.site, "customer_id"},
		{"/v1/tickets/" + in.ticket, "status"}, {"/v1/visits/" + v.ID, "technician_id"},
	} {
		if d := w.wantProblem(t, w.disp, "PATCH", c.path, map[string]any{c.field: "x"}, 400, fieldsync.EInvalid); !strings.HasPrefix(d, c.field+":") {
			t.Fatalf("PATCH %s {%s}: detail %q does not name the field", c.path, c.field, d)
		}
	}
	w.wantProblem(t, w.techA, "PATCH", "/v1/customers/"+in.customer, map[string]any{"name": "x"}, 403, fieldsync.EForbidden)
	w.wantProblem(t, w.techA, "PATCH", "/v1/visits/"+v.ID, map[string]any{"notes": "x"}, 403, fieldsync.EForbidden)
	w.wantProblem(t, w.custA, "PATCH", "/v1/tickets/"+in.ticket, map[string]any{"description": "x"}, 403, fieldsync.EForbidden)

	var a fieldsync.Asset
	w.call(t, w.disp, "PATCH", "/v1/assets/"+in.asset, map[string]any{"serial": "SN2", "invoice_date": nil}, 200, &a)
	if a.Serial != "SN2" || a.InvoiceDate != "" || a.Model != "65E7K" {
		t.Fatalf("edited asset %+v", a)
	}
	if e := w.auditOf(t, "asset", in.asset, "asset.edit"); len(e) != 1 || len(e[0].Changes) != 2 {
		t.Fatalf("asset audit %+v", e)
	}

	start := w.clock.Now().Add(4 * time.Hour)
	var ev fieldsync.Visit
	w.call(t, w.disp, "PATCH", "/v1/visits/"+v.ID, map[string]any{"window_start": start, "window_end": start.Add(2 * time.Hour), "notes": "门卫处登记"}, 200, &ev)
	if !ev.WindowStart.Equal(start) || ev.Notes != "门卫处登记" || ev.Due != v.Due {
		t.Fatalf("edited visit %+v", ev)
	}
	tab := w.device(t, "tech.a", "tab-a")
	w.finishVisit(t, tab, v.ID, fieldsync.ActionComplete)
	w.wantProblem(t, w.disp, "PATCH", "/v1/visits/"+v.ID, map[string]any{"window_end": start.Add(3 * time.Hour)}, 409, fieldsync.EConflict)
	ev = fieldsync.Visit{}
	w.call(t, w.disp, "PATCH", "/v1/visits/"+v.ID, map[string]any{"notes": nil}, 200, &ev)
	if ev.Notes != "" || ev.Status != fieldsync.VisitCompleted {
		t.Fatalf("notes cleared on a completed visit: %+v", ev)
	}

	var tk struct {
		Description      string                `json:"description"`
		CreatedAt        time.Time             `json:"created_at"`
		FirstResponseDue time.Time             `json:"first_response_due"`
		SLARecomputed    []fieldsync.DueChange `json:"sla_recomputed"`
	}
	intake := date(2026, 3, 10, 7)
	w.call(t, w.disp, "PATCH", "/v1/tickets/"+in.ticket, map[string]any{"description": "屏幕有横线", "created_at": intake}, 200, &tk)
	if tk.Description != "屏幕有横线" || !tk.CreatedAt.Equal(intake) || !tk.FirstResponseDue.Equal(intake.Add(24*time.Hour)) || tk.SLARecomputed == nil || len(tk.SLARecomputed) != 0 {
		t.Fatalf("edited ticket %+v (a completed visit keeps its deadline)", tk)
	}
	w.call(t, w.disp, "POST", "/v1/tickets/"+in.ticket+"/close", map[string]any{}, 200, nil)
	if d := w.wantProblem(t, w.disp, "PATCH", "/v1/tickets/"+in.ticket, map[string]any{"description": "x"}, 409, fieldsync.EConflict); !strings.Contains(d, "closed") {
		t.Fatalf("refusal %q does not name the status", d)
	}
}
