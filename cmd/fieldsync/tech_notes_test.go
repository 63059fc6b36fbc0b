package main

import (
	"strings"
	"testing"
)

// The dispatcher's notes on a visit and the ticket's status reach the
// tablet through the feed; visits and show print both, and follow the
// ticket as the visit moves it.
func TestTechVisitsShowTicketAndNotes(t *testing.T) {
	db, p, pw, _, _ := techDay(t)
	visit := scheduledVisits(t, db)[0]
	disp := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var edited map[string]any
	sendAs(t, p, "PATCH", disp, "/v1/visits/"+visit, map[string]any{"notes": "门卫处登记\n先打电话"}, &edited)
	mustTech(t, db, "sync")

	b := showJSON(t, db, visit)
	if b.Visit.Notes != "门卫处登记\n先打电话" || b.Ticket.Status == "" {
		t.Fatalf("the feed brought notes %q, ticket status %q", b.Visit.Notes, b.Ticket.Status)
	}
	status := string(b.Ticket.Status)
	row := grepLine(mustTech(t, db, "visits"), visit+" ")
	if f := strings.Fields(row); len(f) < 3 || f[2] != status || !strings.HasSuffix(row, "门卫处登记 先打电话") {
		t.Fatalf("visits row %q, want ticket %s and the notes on one line", row, status)
	}
	show := mustTech(t, db, "show", visit)
	for _, want := range []string{"\n  ticket   " + strings.ReplaceAll(status, "_", " ") + ", " + string(b.Ticket.Kind), b.Ticket.Description, "\n  notes    门卫处登记 先打电话\n"} {
		if !strings.Contains(show, want) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}

	// Set out: the server moves the ticket, the tablet reads it so.
	mustTech(t, db, "depart", visit)
	mustTech(t, db, "sync")
	if show := mustTech(t, db, "show", visit); !strings.Contains(show, "\n  ticket   in progress, ") {
		t.Fatalf("show after departing:\n%s", show)
	}
	if f := strings.Fields(grepLine(mustTech(t, db, "visits"), visit+" ")); len(f) < 3 || f[2] != "in_progress" {
		t.Fatalf("visits after departing: %v", f)
	}
}
