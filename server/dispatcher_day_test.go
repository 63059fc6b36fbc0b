package server

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sla"
)

type dayTicketJSON struct {
	ID               string     `json:"id"`
	Status           string     `json:"status"`
	FirstResponseDue time.Time  `json:"first_response_due"`
	FirstContactAt   *time.Time `json:"first_contact_at"`
	SLA              struct {
		State string `json:"state"`
	} `json:"sla"`
}

// dayVisitJSON is a visit as the dispatcher reads it, with its promise.
type dayVisitJSON struct {
	visitSLAJSON
	Status      string    `json:"status"`
	Due         time.Time `json:"due"`
	WindowStart time.Time `json:"window_start"`
	Notes       string    `json:"notes"`
}

// queue lists the ids of the ticket queue's first page for query.
func (w *dispatchWorld) queue(t *testing.T, query string) []string {
	t.Helper()
	var p page[struct{ ID string }]
	w.call(t, w.disp, "GET", "/v1/tickets?"+query, nil, 200, &p)
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

// A dispatcher's day, through the API alone, every exchange held to
// openapi.json: the customer found by the phone number as they say it,
// their ticket opened from the queue of overdue first contacts, the
// contact recorded, the site's zone corrected (the visit's deadline
// moves), the visit rescheduled (a window past the deadline is warned),
// completed by the technician's tablet, met, resolved, and closed.
func TestDispatcherDay(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 13, 9)) // a Friday
	liu := w.takeTicket(t, "刘女士", "13800138000", w.custAUser, fieldsync.ZoneCity, "hotline", "repair")
	other := w.takeTicket(t, "王芳", "13900139000", "", fieldsync.ZoneCity, "web", "repair")
	w.call(t, w.disp, "POST", "/v1/tickets/"+other.ticket+"/contact", map[string]string{}, 200, nil)

	// The customer calls back and reads out her number with spaces.
	var found page[struct {
		ID    string `json:"id"`
		Phone string `json:"phone"`
	}]
	w.call(t, w.disp, "GET", "/v1/customers?q="+url.QueryEscape("138 0013 8000"), nil, 200, &found)
	if len(found.Items) != 1 || found.Items[0].ID != liu.customer {
		t.Fatalf("customers found by 138 0013 8000: %+v, want %s", found.Items, liu.customer)
	}
	var byCustomer page[struct{ ID string }]
	w.call(t, w.disp, "GET", "/v1/tickets?customer_id="+found.Items[0].ID, nil, 200, &byCustomer)
	if len(byCustomer.Items) != 1 || byCustomer.Items[0].ID != liu.ticket {
		t.Fatalf("her tickets: %+v", byCustomer.Items)
	}

	// First contact is due; past its deadline the queue lists it overdue.
	var tk dayTicketJSON
	w.call(t, w.disp, "GET", "/v1/tickets/"+liu.ticket, nil, 200, &tk)
	if got := w.queue(t, "contact=overdue"); len(got) != 0 {
		t.Fatalf("overdue before the deadline: %v", got)
	}
	w.clock.Set(tk.FirstResponseDue.Add(time.Hour))
	if got := w.queue(t, "contact=overdue&status=open"); !slices.Equal(got, []string{liu.ticket}) {
		t.Fatalf("open tickets with first contact overdue: %v, want %s", got, liu.ticket)
	}
	w.call(t, w.disp, "GET", "/v1/tickets/"+liu.ticket, nil, 200, &tk)
	if tk.Status != "open" || tk.FirstContactAt != nil || tk.SLA.State != string(sla.Breached) {
		t.Fatalf("the overdue ticket reads %+v, want open, no contact, breached", tk)
	}
	w.call(t, w.disp, "POST", "/v1/tickets/"+liu.ticket+"/contact", map[string]string{}, 200, &tk)
	if tk.FirstContactAt == nil || !tk.FirstContactAt.Equal(w.clock.Now()) {
		t.Fatalf("contact recorded at %v, want %v", tk.FirstContactAt, w.clock.Now())
	}
	if got := w.queue(t, "contact=overdue"); len(got) != 0 {
		t.Fatalf("overdue after the contact: %v", got)
	}
	if got := w.queue(t, "contact=due"); len(got) != 0 {
		t.Fatalf("contact still due after the contact: %v", got)
	}

	// A visit, then the site's zone corrected: the deadline moves.
	booked := w.visit(t, liu.ticket, w.techAID)
	var site struct {
		Zone          string                `json:"zone"`
		SLARecomputed []fieldsync.DueChange `json:"sla_recomputed"`
	}
	w.call(t, w.disp, "PATCH", "/v1/sites/"+liu.site, map[string]any{"zone": "township"}, 200, &site)
	if len(site.SLARecomputed) != 1 || site.SLARecomputed[0].VisitID != booked.ID ||
		!site.SLARecomputed[0].DueBefore.Equal(booked.Due) || !site.SLARecomputed[0].DueAfter.After(booked.Due) {
		t.Fatalf("zone corrected: %+v, want visit %s moved later from %s", site, booked.ID, booked.Due)
	}
	due := site.SLARecomputed[0].DueAfter
	var v dayVisitJSON
	w.call(t, w.disp, "GET", "/v1/visits/"+booked.ID, nil, 200, &v)
	if !v.Due.Equal(due) || v.SLA.State != string(sla.OK) {
		t.Fatalf("the visit after the zone change: due %s (%s), want %s", v.Due, v.SLA.State, due)
	}

	// Rescheduled past the deadline: accepted, warned, listed; then
	// rescheduled by it: no warning.
	w.call(t, w.disp, "PATCH", "/v1/visits/"+booked.ID, map[string]any{"window_start": due.Add(-time.Hour), "window_end": due.Add(time.Hour)}, 200, &v)
	if ws := v.SLA.Warnings; len(ws) != 1 || ws[0].Code != sla.WindowEndsAfterDue || ws[0].Minutes != 60 {
		t.Fatalf("a window an hour past the deadline: warnings %+v", ws)
	}
	if got := w.slaList(t, "sla_warning="+sla.WindowEndsAfterDue); !slices.Equal(got, []string{booked.ID + "=ok"}) {
		t.Fatalf("visits warned: %v", got)
	}
	start := due.Add(-3 * time.Hour)
	w.call(t, w.disp, "PATCH", "/v1/visits/"+booked.ID, map[string]any{"window_start": start, "window_end": start.Add(2 * time.Hour), "notes": "请先电话联系"}, 200, &v)
	if v.SLA.Warnings == nil || len(v.SLA.Warnings) != 0 || !v.WindowStart.Equal(start) || v.Notes != "请先电话联系" {
		t.Fatalf("rescheduled by the deadline: %+v", v)
	}

	// The technician's tablet gets the new window and the notes, and
	// completes the visit two hours before the deadline.
	tab := w.device(t, "tech.a", "tab-a")
	var fed fieldsync.Visit
	if c, ok := tab.pull(t)["visit/"+booked.ID]; !ok || json.Unmarshal(c.Data, &fed) != nil || !fed.WindowStart.Equal(start) || fed.Notes != "请先电话联系" || !fed.Due.Equal(due) {
		t.Fatalf("the technician's feed: %+v", fed)
	}
	w.clock.Set(due.Add(-2 * time.Hour))
	w.finishVisit(t, tab, booked.ID, fieldsync.ActionComplete)

	w.clock.Set(due.Add(48 * time.Hour)) // read long after: a kept promise stays met
	w.call(t, w.disp, "GET", "/v1/visits/"+booked.ID, nil, 200, &v)
	if v.Status != "completed" || v.SLA.State != string(sla.Met) || v.SLA.EarlyMinutes == nil || *v.SLA.EarlyMinutes != 120 || v.SLA.LateMinutes != nil {
		t.Fatalf("the completed visit: %s %+v, want met 120 minutes early", v.Status, v.SLA)
	}
	w.call(t, w.disp, "GET", "/v1/tickets/"+liu.ticket, nil, 200, &tk)
	if tk.Status != "resolved" {
		t.Fatalf("ticket %s after the completion, want resolved", tk.Status)
	}
	if got := w.queue(t, "status=resolved"); !slices.Equal(got, []string{liu.ticket}) {
		t.Fatalf("resolved tickets: %v", got)
	}

	w.call(t, w.disp, "POST", "/v1/tickets/"+liu.ticket+"/close", map[string]string{}, 200, &tk)
	if tk.Status != "closed" {
		t.Fatalf("closed ticket reads %s", tk.Status)
	}
	if got := w.queue(t, "status=closed"); !slices.Equal(got, []string{liu.ticket}) {
		t.Fatalf("closed tickets: %v", got)
	}
	if got := w.queue(t, "status="+strings.Join([]string{"open", "in_progress", "resolved"}, ",")); !slices.Equal(got, []string{other.ticket}) {
		t.Fatalf("the work still to do: %v, want only %s", got, other.ticket)
	}
	// The customer reads her ticket closed.
	w.call(t, w.custA, "GET", "/v1/tickets/"+liu.ticket, nil, 200, &tk)
	if tk.Status != "closed" {
		t.Fatalf("the customer reads %s", tk.Status)
	}
}
