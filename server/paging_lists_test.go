package server

import (
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// readPages reads path (a query of its own or none) with ?limit=limit,
// following next_cursor to the end, and returns the ids in the order
// answered and how many pages there were. Each page must hold at most
// limit items and carry next_cursor.
func (w *dispatchWorld) readPages(t *testing.T, token, path string, limit int) (ids []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		sep := "?"
		if u, _ := url.Parse(path); u.RawQuery != "" {
			sep = "&"
		}
		var p page[struct{ ID string }]
		w.call(t, token, "GET", path+sep+"limit="+strconv.Itoa(limit)+"&cursor="+url.QueryEscape(cursor), nil, 200, &p)
		pages++
		if len(p.Items) > limit || p.NextCursor == nil {
			t.Fatalf("GET %s page %d: %d items for a limit of %d, next_cursor %v", path, pages, len(p.Items), limit, p.NextCursor)
		}
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if *p.NextCursor == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatalf("GET %s: no end after 100 pages", path)
		}
		cursor = *p.NextCursor
	}
}

// wantPaged checks that reading path a few items a page at a time
// answers exactly want, in order, over more than one page.
func (w *dispatchWorld) wantPaged(t *testing.T, token, path string, limit int, want []string) {
	t.Helper()
	got, pages := w.readPages(t, token, path, limit)
	if !slices.Equal(got, want) || pages < 2 {
		t.Fatalf("GET %s by %d: %v over %d pages, want %v over several", path, limit, got, pages, want)
	}
}

// Complaints are listed a page at a time for every selection: all of
// them, a customer's own (across the customer records of their login),
// by status and by clock; the pages together are the whole list, oldest
// first.
func TestComplaintsPaged(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 10))
	a1 := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	a2 := w.intake(t, w.custAUser, fieldsync.ZoneCity) // a second customer record of the same login
	b := w.intake(t, w.custBUser, fieldsync.ZoneCity)
	var all, mine []string
	for i, tk := range []string{a1.ticket, b.ticket, a2.ticket, a1.ticket, b.ticket, a2.ticket, a1.ticket} {
		var c fieldsync.Complaint
		w.call(t, w.disp, "POST", "/v1/tickets/"+tk+"/complaints", map[string]string{"text": "投诉 " + strconv.Itoa(i)}, 201, &c)
		all = append(all, c.ID)
		if tk != b.ticket {
			mine = append(mine, c.ID)
		}
	}
	var contacted fieldsync.Complaint
	w.call(t, w.disp, "POST", "/v1/complaints/"+all[1]+"/contact", map[string]string{"note": "已回电"}, 200, &contacted)

	w.wantPaged(t, w.disp, "/v1/complaints", 2, all)
	w.wantPaged(t, w.custA, "/v1/complaints", 2, mine)
	open := slices.Delete(slices.Clone(all), 1, 2)
	w.wantPaged(t, w.disp, "/v1/complaints?status=open", 3, open)

	// Every first contact still to make is missed a day later.
	w.clock.Set(date(2026, 3, 11, 11))
	w.wantPaged(t, w.disp, "/v1/complaints?due=overdue", 2, open)
	w.wantPaged(t, w.custA, "/v1/complaints?due=overdue", 2, mine)

	res, body := w.do(t, "GET", "/v1/complaints?cursor=%25%25", w.disp, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	res, body = w.do(t, "GET", "/v1/complaints?limit=-1", w.disp, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
}

// A customer's follow-ups come a page at a time too, merged across the
// customer records of their login; staff page through all of them.
func TestFollowUpsPaged(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 13, 9))
	tab := w.device(t, "tech.a", "tab-a")
	custA := map[string]bool{}
	for i, user := range []string{w.custAUser, w.custBUser, w.custAUser, w.custAUser, w.custBUser} {
		in := w.intake(t, user, fieldsync.ZoneCity)
		custA[in.customer] = user == w.custAUser
		v := w.visit(t, in.ticket, w.techAID)
		w.clock.Set(date(2026, 3, 13, 11).Add(time.Duration(i) * time.Minute))
		w.finishVisit(t, tab, v.ID, fieldsync.ActionComplete)
	}
	var whole page[followUpJSON]
	w.call(t, w.disp, "GET", "/v1/followups?limit=200", nil, 200, &whole)
	var all, mine []string
	for _, f := range whole.Items {
		all = append(all, f.ID)
		if custA[f.CustomerID] {
			mine = append(mine, f.ID)
		}
	}
	if len(all) != 5 || len(mine) != 3 {
		t.Fatalf("follow-ups %v, customer A's %v: want 5 and 3", all, mine)
	}
	w.wantPaged(t, w.disp, "/v1/followups", 2, all)
	w.wantPaged(t, w.custA, "/v1/followups", 1, mine)
	w.wantPaged(t, w.custA, "/v1/followups?status=pending", 2, mine)
	w.clock.Set(date(2026, 3, 25, 9))
	w.wantPaged(t, w.custA, "/v1/followups?due=overdue", 2, mine)
}
