package server

import (
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

func (w *dispatchWorld) complaints(t *testing.T, token, query string) []fieldsync.Complaint {
	t.Helper()
	var list page[fieldsync.Complaint]
	w.call(t, token, "GET", "/v1/complaints"+query, nil, 200, &list)
	return list.Items
}

func complaintIDs(cs []fieldsync.Complaint) string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ",")
}

// A complaint opened by a customer on the Wednesday before National Day
// misses its first contact (24 clock hours, through the holiday) and
// rises to the supervisor, then misses its resolution (3 working days,
// after the holiday) and rises to the manager; each escalation is
// audited once, whether a read or the sweep finds it.
func TestComplaintProcess(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 9, 30, 10))
	a := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	b := w.intake(t, w.custBUser, fieldsync.ZoneCity)

	// Who may open one: the ticket's customer and staff; another customer
	// is told the ticket does not exist, a technician is refused.
	var mine fieldsync.Complaint
	w.call(t, w.custA, "POST", "/v1/tickets/"+a.ticket+"/complaints", map[string]string{"text": "技术员迟到两小时"}, 201, &mine)
	if mine.Source != fieldsync.SourceCustomer || mine.Status != fieldsync.ComplaintOpen || mine.Level != fieldsync.LevelDispatcher || mine.CustomerID != a.customer ||
		!mine.FirstContactDue.Equal(date(2026, 10, 1, 10)) || !mine.ResolutionDue.Equal(date(2026, 10, 11, 0)) {
		t.Fatalf("customer's complaint: %+v", mine)
	}
	res, body := w.do(t, "POST", "/v1/tickets/"+a.ticket+"/complaints", w.custB, map[string]string{"text": "x"})
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.do(t, "POST", "/v1/tickets/"+a.ticket+"/complaints", w.techA, map[string]string{"text": "x"})
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
	res, body = w.do(t, "POST", "/v1/tickets/"+a.ticket+"/complaints", w.disp, map[string]string{"text": " "})
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	var staffs fieldsync.Complaint
	w.call(t, w.disp, "POST", "/v1/tickets/"+b.ticket+"/complaints", map[string]string{"text": "客户电话投诉：服务态度差"}, 201, &staffs)
	if staffs.Source != fieldsync.SourceDispatcher || staffs.CustomerID != b.customer {
		t.Fatalf("dispatcher's complaint: %+v", staffs)
	}

	// A customer sees only their own.
	if got := complaintIDs(w.complaints(t, w.custA, "")); got != mine.ID {
		t.Fatalf("customer A lists %s", got)
	}
	res, body = w.do(t, "GET", "/v1/complaints/"+mine.ID, w.custB, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	if got := complaintIDs(w.complaints(t, w.disp, "")); got != mine.ID+","+staffs.ID {
		t.Fatalf("dispatcher lists %s", got)
	}
	res, body = w.do(t, "GET", "/v1/complaints?due=soon", w.disp, nil)
	if p := wantProblem(t, res, body, 400, fieldsync.EInvalid); !strings.Contains(p.Detail, "overdue or due_today") {
		t.Fatalf("detail %q", p.Detail)
	}

	// Steps out of order are refused, naming the status; customers and
	// technicians do not work complaints.
	res, body = w.do(t, "POST", "/v1/complaints/"+staffs.ID+"/propose", w.disp, map[string]string{"resolution": "上门更换"})
	if p := wantProblem(t, res, body, 409, fieldsync.EInvalidTransition); !strings.Contains(p.Detail, "open") {
		t.Fatalf("detail %q does not name the status", p.Detail)
	}
	res, body = w.do(t, "POST", "/v1/complaints/"+staffs.ID+"/close", w.disp, nil)
	wantProblem(t, res, body, 409, fieldsync.EInvalidTransition)
	res, body = w.do(t, "POST", "/v1/complaints/"+mine.ID+"/contact", w.custA, map[string]string{})
	wantProblem(t, res, body, 403, fieldsync.EForbidden)

	// B's complaint goes through in time: contact, proposal, closing.
	var c fieldsync.Complaint
	w.call(t, w.disp, "POST", "/v1/complaints/"+staffs.ID+"/contact", map[string]string{"note": "已致电客户"}, 200, &c)
	w.call(t, w.disp, "POST", "/v1/complaints/"+staffs.ID+"/propose", map[string]string{"resolution": "免费上门复检"}, 200, &c)
	w.call(t, w.disp, "POST", "/v1/complaints/"+staffs.ID+"/close", nil, 200, &c)
	if c.Status != fieldsync.ComplaintClosed || c.Resolution != "免费上门复检" || c.Level != fieldsync.LevelDispatcher {
		t.Fatalf("closed: %+v", c)
	}
	res, body = w.do(t, "POST", "/v1/complaints/"+staffs.ID+"/escalate", w.disp, map[string]string{"reason": "x"})
	if p := wantProblem(t, res, body, 409, fieldsync.EInvalidTransition); !strings.Contains(p.Detail, "closed") {
		t.Fatalf("detail %q", p.Detail)
	}

	// Due today, not yet overdue.
	if got := complaintIDs(w.complaints(t, w.disp, "?due=due_today")); got != "" {
		t.Fatalf("due today on Sep 30: %s", got)
	}
	w.clock.Set(date(2026, 10, 1, 9))
	if got := complaintIDs(w.complaints(t, w.disp, "?due=due_today")); got != mine.ID {
		t.Fatalf("due today on Oct 1: %s", got)
	}
	if got := complaintIDs(w.complaints(t, w.disp, "?due=overdue")); got != "" {
		t.Fatalf("overdue before the deadline: %s", got)
	}

	// The first contact is missed: a read escalates, once.
	w.clock.Set(date(2026, 10, 1, 11))
	if got := complaintIDs(w.complaints(t, w.disp, "?due=overdue&level=supervisor")); got != mine.ID {
		t.Fatalf("overdue at the supervisor: %s", got)
	}
	w.call(t, w.custA, "GET", "/v1/complaints/"+mine.ID, nil, 200, &c)
	if c.Level != fieldsync.LevelSupervisor || len(c.Escalations) != 1 || c.Escalations[0].Clock != fieldsync.ClockFirstContact ||
		!c.Escalations[0].At.Equal(date(2026, 10, 1, 10)) {
		t.Fatalf("after the missed contact: %+v", c)
	}
	w.call(t, w.disp, "POST", "/v1/complaints/"+mine.ID+"/contact", map[string]string{"note": "已致歉"}, 200, &c)
	if c.Status != fieldsync.ComplaintContacted || len(c.Escalations) != 1 {
		t.Fatalf("late contact: %+v", c)
	}

	// The resolution is missed after the holiday: the sweep escalates.
	w.clock.Set(date(2026, 10, 11, 0).Add(time.Minute))
	if n, err := w.store.EscalateDue(t.Context(), w.clock.Now()); err != nil || n != 1 {
		t.Fatalf("sweep escalated %d: %v", n, err)
	}
	w.call(t, w.disp, "GET", "/v1/complaints/"+mine.ID, nil, 200, &c)
	if c.Level != fieldsync.LevelManager || len(c.Escalations) != 2 || c.Escalations[1].Clock != fieldsync.ClockResolution {
		t.Fatalf("after the missed resolution: %+v", c)
	}
	res, body = w.do(t, "POST", "/v1/complaints/"+mine.ID+"/escalate", w.disp, map[string]string{"reason": "媒体关注"})
	if p := wantProblem(t, res, body, 409, fieldsync.EInvalidTransition); !strings.Contains(p.Detail, "manager") {
		t.Fatalf("detail %q", p.Detail)
	}
	if got := complaintIDs(w.complaints(t, w.disp, "?due=overdue&status=contacted&level=manager")); got != mine.ID {
		t.Fatalf("overdue at the manager: %s", got)
	}

	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=complaint&id="+mine.ID, nil, 200, &audit)
	actions := []string{}
	for _, e := range audit.Items {
		actions = append(actions, e.Action+":"+e.UserID)
	}
	want := "complaint.create:" + w.custAUser + " complaint.escalate:system complaint.contact:" + w.dispID + " complaint.escalate:system"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("audit = %s\nwant    %s", got, want)
	}
}

// Staff escalate by hand, with a reason, one level at a time.
func TestComplaintManualEscalation(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	a := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	var c fieldsync.Complaint
	w.call(t, w.admin, "POST", "/v1/tickets/"+a.ticket+"/complaints", map[string]string{"text": "第三次维修仍未修好"}, 201, &c)
	res, body := w.do(t, "POST", "/v1/complaints/"+c.ID+"/escalate", w.disp, map[string]string{})
	if p := wantProblem(t, res, body, 400, fieldsync.EInvalid); !strings.Contains(p.Detail, "reason") {
		t.Fatalf("detail %q", p.Detail)
	}
	w.call(t, w.disp, "POST", "/v1/complaints/"+c.ID+"/escalate", map[string]string{"reason": "客户要求主管回电"}, 200, &c)
	if c.Level != fieldsync.LevelSupervisor || c.Escalations[0].By != w.dispID || c.Escalations[0].Reason != "客户要求主管回电" || c.Status != fieldsync.ComplaintOpen {
		t.Fatalf("escalated by hand: %+v", c)
	}
	res, body = w.do(t, "GET", "/v1/complaints/"+c.ID, w.techA, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
}

// A customer who refuses to sign a report through its share link opens a
// complaint on its ticket, with the refusal's reason, in the same write.
func TestRefusedSignOffOpensComplaint(t *testing.T) {
	w := newMediaWorld(t, "local")
	b, _ := w.signedCase(t, w.custBUser, "0190f000-0000-7000-8000-0000000000c1", 41)
	lb := w.link(t, w.disp, b.report, nil)
	if got := w.complaints(t, w.disp, ""); len(got) != 0 {
		t.Fatalf("complaints before the refusal: %+v", got)
	}
	w.call(t, "", "POST", lb.URL+"/sign", map[string]any{"refuse": true, "reason": "屏幕仍有竖线"}, 201, nil)
	got := w.complaints(t, w.custB, "")
	if len(got) != 1 {
		t.Fatalf("customer B's complaints: %+v", got)
	}
	c := got[0]
	if c.Source != fieldsync.SourceRefusedSignOff || c.Text != "屏幕仍有竖线" || c.TicketID != b.ticket || c.ReportID != b.report ||
		c.OpenedBy != "link:"+lb.ID || c.Status != fieldsync.ComplaintOpen {
		t.Fatalf("the refusal's complaint: %+v", c)
	}
	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=complaint&id="+c.ID, nil, 200, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Action != "complaint.create" || audit.Items[0].UserID != "link:"+lb.ID {
		t.Fatalf("audit: %+v", audit.Items)
	}
	// A second answer is refused, and opens nothing more.
	res, body := w.do(t, "POST", lb.URL+"/sign", "", map[string]any{"refuse": true, "reason": "again"})
	wantProblem(t, res, body, 409, fieldsync.EConflict)
	if got := w.complaints(t, w.disp, ""); len(got) != 1 {
		t.Fatalf("complaints after a second refusal: %d", len(got))
	}
}
