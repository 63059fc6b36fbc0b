package fieldsync

import "testing"

func visitsOf(statuses ...VisitStatus) []Visit {
	out := make([]Visit, len(statuses))
	for i, s := range statuses {
		out[i] = Visit{ID: string(rune('a' + i)), Status: s}
	}
	return out
}

func TestTicketStatusOfVisits(t *testing.T) {
	for _, c := range []struct {
		name       string
		visits     []Visit
		openPickup bool
		want       TicketStatus
	}{
		{"no visit", nil, false, TicketOpen},
		{"booked", visitsOf(VisitScheduled), false, TicketOpen},
		{"departed", visitsOf(VisitEnRoute), false, TicketInProgress},
		{"arrived", visitsOf(VisitOnSite), false, TicketInProgress},
		{"completed", visitsOf(VisitCompleted), false, TicketResolved},
		{"completed with a pick-up open", visitsOf(VisitCompleted), true, TicketInProgress},
		{"second visit asked", visitsOf(VisitNeedsSecondVisit), false, TicketInProgress},
		{"second visit booked", visitsOf(VisitNeedsSecondVisit, VisitScheduled), false, TicketInProgress},
		{"second visit done", visitsOf(VisitNeedsSecondVisit, VisitCompleted), false, TicketResolved},
		{"only cancelled", visitsOf(VisitCancelled), false, TicketOpen},
		{"cancelled then booked", visitsOf(VisitCancelled, VisitScheduled), false, TicketOpen},
		{"second visit cancelled", visitsOf(VisitNeedsSecondVisit, VisitCancelled), false, TicketInProgress},
		{"completed then booked again", visitsOf(VisitCompleted, VisitScheduled), false, TicketInProgress},
	} {
		if got := TicketStatusOfVisits(c.visits, c.openPickup); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestTicketFollowVisitsKeepsStaffsWord(t *testing.T) {
	for _, from := range []TicketStatus{TicketClosed, TicketCancelled} {
		tk := Ticket{Status: from}
		if tk.FollowVisits(visitsOf(VisitOnSite), false) || tk.Status != from {
			t.Errorf("a %s ticket moved to %s by a visit", from, tk.Status)
		}
	}
	tk := Ticket{Status: TicketOpen}
	if !tk.FollowVisits(visitsOf(VisitEnRoute), false) || tk.Status != TicketInProgress {
		t.Errorf("departure: %s", tk.Status)
	}
}

func TestTicketTransition(t *testing.T) {
	for _, c := range []struct {
		from   TicketStatus
		action TicketAction
		visits []Visit
		reason string
		want   TicketStatus
		code   string
	}{
		{TicketResolved, TicketClose, visitsOf(VisitCompleted), "", TicketClosed, ""},
		{TicketInProgress, TicketClose, visitsOf(VisitNeedsSecondVisit), "", TicketClosed, ""},
		{TicketOpen, TicketClose, nil, "", "", EInvalidTransition},
		{TicketClosed, TicketClose, nil, "", "", EInvalidTransition},
		{TicketInProgress, TicketClose, visitsOf(VisitOnSite), "", "", EConflict},
		{TicketOpen, TicketCancel, nil, "customer withdrew", TicketCancelled, ""},
		{"", TicketCancel, nil, "customer withdrew", TicketCancelled, ""},
		{TicketOpen, TicketCancel, nil, " ", "", EInvalid},
		{TicketOpen, TicketCancel, visitsOf(VisitScheduled), "withdrew", "", EConflict},
		{TicketResolved, TicketCancel, nil, "withdrew", "", EInvalidTransition},
		{TicketClosed, TicketReopen, visitsOf(VisitCompleted), "came back", TicketOpen, ""},
		{TicketCancelled, TicketReopen, nil, "", TicketOpen, ""},
		{TicketResolved, TicketReopen, nil, "", TicketOpen, ""},
		{TicketOpen, TicketReopen, nil, "", "", EInvalidTransition},
		{TicketOpen, "merge", nil, "", "", EInvalid},
	} {
		tk := Ticket{ID: "t", Status: c.from}
		err := tk.Transition(c.action, c.visits, c.reason)
		if ErrorCode(err) != c.code {
			t.Errorf("%s %s: %v, want code %q", c.from, c.action, err, c.code)
			continue
		}
		if err == nil && tk.Status != c.want {
			t.Errorf("%s %s: %s, want %s", c.from, c.action, tk.Status, c.want)
		}
		if err != nil && tk.Status != c.from {
			t.Errorf("%s %s refused but moved to %s", c.from, c.action, tk.Status)
		}
	}
	tk := Ticket{ID: "t", Status: TicketInProgress}
	err := tk.Transition(TicketReopen, nil, "")
	if ErrorCode(err) != EInvalidTransition || ErrorDetail(err) != "the ticket is in_progress and cannot be reopened" {
		t.Errorf("refusal names the status: %v", err)
	}
}
