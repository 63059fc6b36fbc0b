package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

type ticketStatusJSON struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	StatusReason string `json:"status_reason"`
}

// wantProblem sends a request that must be refused with status and code,
// and returns the problem's detail.
func (w *dispatchWorld) wantProblem(t *testing.T, token, method, path string, body any, status int, code string) string {
	t.Helper()
	var p struct{ Code, Detail string }
	w.call(t, token, method, path, body, status, &p)
	if p.Code != code {
		t.Fatalf("%s %s: code %q, want %q (%s)", method, path, p.Code, code, p.Detail)
	}
	return p.Detail
}

// A ticket's status follows its visit as the technician pushes it; the
// customer reads it on their own tickets and the technician in the feed;
// staff close, reopen and cancel it, refused where the machine forbids.
func TestTicketLifecycleOverHTTP(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	var tk ticketStatusJSON
	w.call(t, w.custA, "GET", "/v1/tickets/"+in.ticket, nil, 200, &tk)
	if tk.Status != "open" {
		t.Fatalf("new ticket: %+v", tk)
	}
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	tab.pull(t)
	if rs := tab.push(t, tab.mutation("visit", v.ID, "action", "depart", nil)); rs[0].Status != syncproto.Applied {
		t.Fatalf("depart: %s", statuses(rs))
	}
	var mine page[ticketStatusJSON]
	w.call(t, w.custA, "GET", "/v1/tickets", nil, 200, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Status != "in_progress" {
		t.Fatalf("the customer's tickets after the departure: %+v", mine.Items)
	}
	c, ok := tab.pull(t)["ticket/"+in.ticket]
	if !ok {
		t.Fatal("the technician's feed has no ticket change after the departure")
	}
	var fed ticketStatusJSON
	if err := json.Unmarshal(c.Data, &fed); err != nil || fed.Status != "in_progress" {
		t.Fatalf("the ticket in the feed: %s (%v)", c.Data, err)
	}
	w.wantProblem(t, w.disp, "POST", "/v1/tickets/"+in.ticket+"/close", map[string]any{}, 409, fieldsync.EConflict)
	if rs := tab.push(t, tab.mutation("visit", v.ID, "action", "arrive", nil), tab.mutation("visit", v.ID, "action", "complete", nil)); rs[1].Status != syncproto.Applied {
		t.Fatalf("complete: %s", statuses(rs))
	}
	w.call(t, w.custA, "GET", "/v1/tickets/"+in.ticket, nil, 200, &tk)
	if tk.Status != "resolved" {
		t.Fatalf("after the completion: %+v", tk)
	}
	detail := w.wantProblem(t, w.disp, "POST", "/v1/tickets/"+in.ticket+"/cancel", map[string]any{"reason": "x"}, 409, fieldsync.EInvalidTransition)
	if !strings.Contains(detail, "resolved") {
		t.Fatalf("the refusal does not name the status: %q", detail)
	}
	w.wantProblem(t, w.techA, "POST", "/v1/tickets/"+in.ticket+"/close", map[string]any{}, 403, fieldsync.EForbidden)
	w.wantProblem(t, w.custA, "POST", "/v1/tickets/"+in.ticket+"/close", map[string]any{}, 403, fieldsync.EForbidden)
	w.call(t, w.disp, "POST", "/v1/tickets/"+in.ticket+"/close", map[string]any{}, 200, &tk)
	if tk.Status != "closed" {
		t.Fatalf("closed: %+v", tk)
	}
	w.call(t, w.disp, "POST", "/v1/tickets/"+in.ticket+"/reopen", map[string]any{"reason": "fault is back"}, 200, &tk)
	if tk.Status != "open" || tk.StatusReason != "fault is back" {
		t.Fatalf("reopened: %+v", tk)
	}
	w.wantProblem(t, w.disp, "POST", "/v1/tickets/"+in.ticket+"/cancel", map[string]any{}, 400, fieldsync.EInvalid)
	w.call(t, w.disp, "POST", "/v1/tickets/"+in.ticket+"/cancel", map[string]any{"reason": "customer withdrew"}, 200, &tk)
	if tk.Status != "cancelled" || tk.StatusReason != "customer withdrew" {
		t.Fatalf("cancelled: %+v", tk)
	}
	start := w.clock.Now().Add(2 * time.Hour)
	w.wantProblem(t, w.disp, "POST", "/v1/visits", map[string]any{"ticket_id": in.ticket, "technician_id": w.techAID, "window_start": start, "window_end": start.Add(time.Hour)}, 409, fieldsync.EInvalidTransition)
}
