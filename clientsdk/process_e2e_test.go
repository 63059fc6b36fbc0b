package clientsdk

import (
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// The after-sales process through the API, on a server clock the test
// moves: a visit ends needing a second one with parts, the dispatcher
// finds it to book and books it at the second-visit promise, the second
// visit completes; its follow-up is answered by the customer with their
// login; the customer's complaint misses its first contact and rises to
// the supervisor, on the dispatcher's list of overdue ones and in the
// audit trail.
func TestE2EAfterSalesProcess(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	w := newE2EWorld(t, func(d *server.Deps) { d.Now = clock.Now })
	must(t, w.store.PublishReference(t.Context(), []bolt.Reference{{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: quote.DefaultSource()}}))

	// A customer with a login, and their ticket.
	const custLogin = "cust.liu"
	var user, cust, site, asset, ticket struct{ ID string }
	w.call(w.admin, "POST", "/v1/users", map[string]string{"login": custLogin, "name": "刘女士", "password": e2ePassword(custLogin), "role": string(fieldsync.RoleCustomer)}, 201, &user)
	w.call(w.disp, "POST", "/v1/customers", map[string]string{"name": "刘女士", "phone": "138 0013 8000", "user_id": user.ID}, 201, &cust)
	w.call(w.disp, "POST", "/v1/sites", map[string]string{"customer_id": cust.ID, "address": "上海市静安区南京西路1266号", "zone": string(fieldsync.ZoneCity)}, 201, &site)
	w.call(w.disp, "POST", "/v1/assets", map[string]string{"customer_id": cust.ID, "category": "tv", "model": "75Q10K", "serial": "SN-PROCESS", "invoice_date": "2026-01-15"}, 201, &asset)
	w.call(w.disp, "POST", "/v1/tickets", map[string]string{"customer_id": cust.ID, "site_id": site.ID, "asset_id": asset.ID, "channel": "hotline", "kind": "repair", "description": "主板故障,需要备件"}, 201, &ticket)
	customer := w.login(custLogin, "phone-liu")

	// The first visit ends on site needing a second one with a part.
	first := w.newVisit(ticket.ID, w.techA)
	a := w.tablet(t, "tab-a")
	a.login(t, e2eTechA)
	a.sync(t)
	must(t, a.c.Depart(first))
	must(t, a.c.Arrive(first))
	must(t, a.c.NeedSecondVisit(first, fieldsync.SecondVisit{Parts: []fieldsync.PartNeed{{Code: "tv-mainboard", Qty: 1}}, Note: "带主板"}))
	if rep := a.sync(t); rep.Refused != 0 {
		refused, _ := a.c.Conflicts()
		t.Fatalf("sync of the first visit: %+v %+v", rep, refused)
	}

	// The dispatcher's list to book names it; booked, the second visit is
	// due at the promise and the list moves it to booked.
	var toBook struct {
		Items []fieldsync.SecondVisitRequest `json:"items"`
	}
	w.call(w.disp, "GET", "/v1/second-visits?state=to_book", nil, 200, &toBook)
	if len(toBook.Items) != 1 || toBook.Items[0].Visit.ID != first || toBook.Items[0].Visit.SecondVisit == nil ||
		toBook.Items[0].Visit.SecondVisit.Parts[0] != (fieldsync.PartNeed{Code: "tv-mainboard", Qty: 1}) {
		t.Fatalf("to book: %+v", toBook.Items)
	}
	second := w.newVisit(ticket.ID, w.techB)
	if v := w.dispatcherVisit(second); v.PreviousVisitID != first || !v.Due.Equal(toBook.Items[0].Due) {
		t.Fatalf("the second visit: previous %q, due %v; want %s, the promise %v", v.PreviousVisitID, v.Due, first, toBook.Items[0].Due)
	}

	// The second visit completes.
	b := w.tablet(t, "tab-b")
	b.login(t, e2eTechB)
	b.sync(t)
	must(t, b.c.Depart(second))
	must(t, b.c.Arrive(second))
	must(t, b.c.Complete(second))
	if rep := b.sync(t); rep.Refused != 0 {
		t.Fatalf("sync of the second visit: %+v", rep)
	}
	if v := w.dispatcherVisit(second); v.Status != fieldsync.VisitCompleted {
		t.Fatalf("the second visit is %s", v.Status)
	}

	// Its follow-up: the customer finds and answers it; the dispatcher
	// sees the answer.
	type followUps struct {
		Items []fieldsync.FollowUp `json:"items"`
	}
	var mine followUps
	w.call(customer, "GET", "/v1/followups?status=pending", nil, 200, &mine)
	if len(mine.Items) != 1 || mine.Items[0].VisitID != second {
		t.Fatalf("the customer's pending follow-ups: %+v", mine.Items)
	}
	var f fieldsync.FollowUp
	w.call(customer, "POST", "/v1/followups/"+mine.Items[0].ID+"/answer", map[string]any{"score": 5, "comment": "第二次上门修好了"}, 200, &f)
	var answered followUps
	w.call(w.disp, "GET", "/v1/followups?status=answered", nil, 200, &answered)
	if len(answered.Items) != 1 || answered.Items[0].ID != f.ID || answered.Items[0].Score != 5 || answered.Items[0].AnsweredBy != user.ID {
		t.Fatalf("the dispatcher's answered follow-ups: %+v", answered.Items)
	}

	// The customer complains; nobody calls back within 24 hours.
	var c fieldsync.Complaint
	w.call(customer, "POST", "/v1/tickets/"+ticket.ID+"/complaints", map[string]string{"text": "第一次上门没带备件"}, 201, &c)
	if c.Level != fieldsync.LevelDispatcher || c.FirstContactDue.IsZero() {
		t.Fatalf("the new complaint: %+v", c)
	}
	var overdue struct {
		Items []fieldsync.Complaint `json:"items"`
	}
	w.call(w.disp, "GET", "/v1/complaints?due=overdue&level=supervisor", nil, 200, &overdue)
	if len(overdue.Items) != 0 {
		t.Fatalf("overdue at the supervisor before the clock: %+v", overdue.Items)
	}
	clock.Set(c.FirstContactDue.Add(time.Hour))
	w.call(w.disp, "GET", "/v1/complaints?due=overdue&level=supervisor", nil, 200, &overdue)
	if len(overdue.Items) != 1 || overdue.Items[0].ID != c.ID || overdue.Items[0].Level != fieldsync.LevelSupervisor ||
		len(overdue.Items[0].Escalations) != 1 || overdue.Items[0].Escalations[0].Clock != fieldsync.ClockFirstContact {
		t.Fatalf("overdue at the supervisor: %+v", overdue.Items)
	}
	if got := w.auditActions("complaint", c.ID); !slices.Equal(got, []string{"complaint.create", "complaint.escalate"}) {
		t.Fatalf("the complaint's audit: %v", got)
	}
}
