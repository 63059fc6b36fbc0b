package server

import (
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

type followUpJSON struct {
	ID         string    `json:"id"`
	VisitID    string    `json:"visit_id"`
	CustomerID string    `json:"customer_id"`
	Due        time.Time `json:"due"`
	Status     string    `json:"status"`
	Score      int       `json:"score"`
	Comment    string    `json:"comment"`
	AnsweredBy string    `json:"answered_by"`
	Overdue    bool      `json:"overdue"`
}

// finishVisit pushes a day on site of visit v from technician A's
// tablet, ending with action; the same batch pushed again must change
// nothing.
func (w *dispatchWorld) finishVisit(t *testing.T, tab *device, v string, action fieldsync.VisitAction) {
	t.Helper()
	batch := []syncproto.Mutation{
		tab.mutation("visit", v, "action", "depart", nil),
		tab.mutation("visit", v, "action", "arrive", nil),
		tab.mutation("visit", v, "action", string(action), nil),
	}
	if rs := tab.push(t, batch...); rs[0].Status != syncproto.Applied || rs[2].Status != syncproto.Applied {
		t.Fatalf("push: %s", statuses(rs))
	}
	if rs := tab.push(t, batch...); rs[2].Status != syncproto.Duplicate {
		t.Fatalf("replay: %s", statuses(rs))
	}
}

// A technician completes a visit through a push: its follow-up is due 3
// working days later, across the weekend; the customer reads and answers
// it with their login, once; nobody else's login reaches it; the
// dispatcher lists it as overdue once the clock passes its due time.
func TestFollowUpOfACompletedVisit(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 13, 9)) // a Friday
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	w.clock.Set(date(2026, 3, 13, 15))
	w.finishVisit(t, tab, v.ID, fieldsync.ActionComplete)

	var all page[followUpJSON]
	w.call(t, w.disp, "GET", "/v1/followups", nil, 200, &all)
	if len(all.Items) != 1 {
		t.Fatalf("follow-ups after a completion pushed twice: %+v", all.Items)
	}
	f := all.Items[0]
	if want := date(2026, 3, 19, 0); f.VisitID != v.ID || f.CustomerID != in.customer || f.Status != "pending" || !f.Due.Equal(want) || f.Overdue {
		t.Fatalf("follow-up %+v, want pending, due %s (Mon, Tue, Wed after a Friday)", f, want)
	}

	// The customer finds it among their pending ones; customer B has none
	// and reads it as a follow-up that does not exist; a technician is
	// not admitted.
	var mine page[followUpJSON]
	w.call(t, w.custA, "GET", "/v1/followups?status=pending", nil, 200, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != f.ID {
		t.Fatalf("customer A's pending follow-ups: %+v", mine.Items)
	}
	w.call(t, w.custB, "GET", "/v1/followups", nil, 200, &mine)
	if len(mine.Items) != 0 {
		t.Fatalf("customer B lists %+v", mine.Items)
	}
	const missing = "0190f000-0000-7000-8000-00000000ffff"
	res, body := w.do(t, "GET", "/v1/followups/"+f.ID, w.custB, nil)
	got := wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.do(t, "GET", "/v1/followups/"+missing, w.custB, nil)
	if want := wantProblem(t, res, body, 404, fieldsync.ENotFound); strings.ReplaceAll(got.Detail, f.ID, missing) != want.Detail {
		t.Fatalf("detail %q, unlike a missing follow-up's %q", got.Detail, want.Detail)
	}
	res, body = w.do(t, "POST", "/v1/followups/"+f.ID+"/answer", w.custB, map[string]any{"score": 1})
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.do(t, "GET", "/v1/followups/"+f.ID, w.techA, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
	res, body = w.do(t, "POST", "/v1/followups/"+f.ID+"/answer", w.techA, map[string]any{"score": 5, "via": "phone"})
	wantProblem(t, res, body, 403, fieldsync.EForbidden)

	// Not overdue at its due time; overdue a second later.
	var overdue page[followUpJSON]
	w.clock.Set(date(2026, 3, 19, 0))
	w.call(t, w.disp, "GET", "/v1/followups?due=overdue", nil, 200, &overdue)
	if len(overdue.Items) != 0 {
		t.Fatalf("overdue at the due time: %+v", overdue.Items)
	}
	w.clock.Set(date(2026, 3, 19, 0).Add(time.Second))
	w.call(t, w.disp, "GET", "/v1/followups?due=overdue", nil, 200, &overdue)
	if len(overdue.Items) != 1 || overdue.Items[0].ID != f.ID || !overdue.Items[0].Overdue {
		t.Fatalf("overdue after the due time: %+v", overdue.Items)
	}

	// The customer answers: a bad score names the field, the answer is
	// kept, a second answer names the first.
	for _, score := range []int{0, 6} {
		res, body = w.do(t, "POST", "/v1/followups/"+f.ID+"/answer", w.custA, map[string]any{"score": score})
		if p := wantProblem(t, res, body, 400, fieldsync.EInvalid); !strings.HasPrefix(p.Detail, "score") {
			t.Fatalf("score %d: detail %q does not name the score", score, p.Detail)
		}
	}
	var answered followUpJSON
	w.call(t, w.custA, "POST", "/v1/followups/"+f.ID+"/answer", map[string]any{"score": 5, "comment": "师傅很准时"}, 200, &answered)
	if answered.Status != "answered" || answered.Score != 5 || answered.Comment != "师傅很准时" || answered.AnsweredBy != w.custAUser || answered.Overdue {
		t.Fatalf("answered: %+v", answered)
	}
	res, body = w.do(t, "POST", "/v1/followups/"+f.ID+"/answer", w.custA, map[string]any{"score": 1})
	if p := wantProblem(t, res, body, 409, fieldsync.EConflict); !strings.Contains(p.Detail, "score 5") || !strings.Contains(p.Detail, w.custAUser) {
		t.Fatalf("the conflict does not name the first answer: %q", p.Detail)
	}
	w.call(t, w.disp, "GET", "/v1/followups?due=overdue", nil, 200, &overdue)
	if len(overdue.Items) != 0 {
		t.Fatalf("an answered follow-up is still overdue: %+v", overdue.Items)
	}
	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=followup&id="+f.ID, nil, 200, &audit)
	if len(audit.Items) != 2 || audit.Items[0].Action != "followup.create" || audit.Items[1].Action != "followup.answer" || audit.Items[1].UserID != w.custAUser {
		t.Fatalf("audit of the follow-up: %+v", audit.Items)
	}
}

// A visit that needs a second visit gets no follow-up; the ticket's
// follow-up comes with the second visit's completion. Staff record a phone
// answer only as one (via phone), and close one they give up on.
func TestFollowUpAfterASecondVisitAndByStaff(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	first := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	w.clock.Set(date(2026, 3, 10, 15))
	w.finishVisit(t, tab, first.ID, fieldsync.ActionNeedSecondVisit)
	var list page[followUpJSON]
	w.call(t, w.disp, "GET", "/v1/followups", nil, 200, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a visit needing a second one made follow-ups: %+v", list.Items)
	}
	second := w.visit(t, in.ticket, w.techAID)
	w.finishVisit(t, tab, second.ID, fieldsync.ActionComplete)
	w.call(t, w.disp, "GET", "/v1/followups?status=pending", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].VisitID != second.ID {
		t.Fatalf("follow-ups after the second visit: %+v", list.Items)
	}
	id := list.Items[0].ID

	res, body := w.do(t, "POST", "/v1/followups/"+id+"/answer", w.disp, map[string]any{"score": 3})
	if p := wantProblem(t, res, body, 400, fieldsync.EInvalid); !strings.HasPrefix(p.Detail, "via") {
		t.Fatalf("detail %q does not name via", p.Detail)
	}
	var rec followUpJSON
	w.call(t, w.disp, "POST", "/v1/followups/"+id+"/answer", map[string]any{"score": 3, "comment": "电话回访", "via": "phone"}, 200, &rec)
	if rec.Status != "recorded_by_phone" || rec.AnsweredBy != w.dispID {
		t.Fatalf("phone record: %+v", rec)
	}
	res, body = w.do(t, "POST", "/v1/followups/"+id+"/close", w.disp, nil)
	wantProblem(t, res, body, 409, fieldsync.EConflict)
	res, body = w.do(t, "POST", "/v1/followups/"+id+"/close", w.custA, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
	res, body = w.do(t, "GET", "/v1/followups?due=soon", w.disp, nil)
	if p := wantProblem(t, res, body, 400, fieldsync.EInvalid); !strings.HasPrefix(p.Detail, "due") {
		t.Fatalf("detail %q does not name due", p.Detail)
	}
}

// The customer the report's share link was sent to answers the visit's
// follow-up through the link, once, without an account.
func TestFollowUpAnsweredThroughTheShareLink(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 13, 10))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	report := "0190f000-0000-7000-8000-0000000000f1"
	if rs := tab.push(t, tab.mutation("report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"})); rs[0].Status != syncproto.Applied {
		t.Fatalf("report: %s", statuses(rs))
	}
	var link struct{ ID, URL string }
	w.call(t, w.disp, "POST", "/v1/reports/"+report+"/links", nil, 201, &link)
	res, body := w.do(t, "POST", link.URL+"/followup", "", map[string]any{"score": 4})
	wantProblem(t, res, body, 404, fieldsync.ENotFound)

	w.finishVisit(t, tab, v.ID, fieldsync.ActionComplete)
	res, body = w.do(t, "POST", link.URL+"/followup", "", map[string]any{"score": 9})
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	var f followUpJSON
	w.call(t, "", "POST", link.URL+"/followup", map[string]any{"score": 4, "comment": "满意"}, 200, &f)
	if f.Status != "answered" || f.Score != 4 || f.AnsweredBy != "link:"+link.ID {
		t.Fatalf("answered through the link: %+v", f)
	}
	res, body = w.do(t, "POST", link.URL+"/followup", "", map[string]any{"score": 1})
	wantProblem(t, res, body, 409, fieldsync.EConflict)
	res, body = w.do(t, "POST", "/v1/shared/"+strings.Repeat("A", 43)+"/followup", "", map[string]any{"score": 4})
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
}
