package server

import (
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// A visit completed with its report's work has a work order and a
// certificate per repaired part: staff list and read them, the customer
// reads their own, another customer is answered as if none existed, a
// technician is not admitted, and a malformed filter says what to fix.
func TestWorkOrdersAndCertificatesOverHTTP(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 13, 9))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	other := w.intake(t, w.custBUser, fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	const report = "0190f000-0000-7000-8000-00000000a001"
	if rs := tab.push(t, tab.mutation("report", report, "upsert", "", map[string]any{
		"visit_id": v.ID, "template_id": "tv-v1", "work": []map[string]any{{"part": "major", "code": "PNL-65", "qty": 1}, {"part": "cable", "qty": 1}},
	})); rs[0].Status != syncproto.Applied {
		t.Fatalf("report push: %s", statuses(rs))
	}
	if rs := tab.push(t, tab.mutation("report", report, "upsert", "", map[string]any{"work": []map[string]any{{"part": "panel", "qty": 1}}})); rs[0].Status != syncproto.Rejected || rs[0].Code != fieldsync.EInvalid {
		t.Fatalf("a work line of an unknown part: %s", statuses(rs))
	}
	w.finishVisit(t, tab, v.ID, fieldsync.ActionComplete)

	var orders page[fieldsync.WorkOrder]
	w.call(t, w.disp, "GET", "/v1/workorders?ticket="+in.ticket, nil, 200, &orders)
	if len(orders.Items) != 1 || orders.Items[0].VisitID != v.ID || orders.Items[0].ReportID != report || len(orders.Items[0].Work) != 2 || orders.Items[0].Outcome != "" {
		t.Fatalf("work orders of the ticket: %+v", orders.Items)
	}
	o := orders.Items[0]
	w.call(t, w.disp, "GET", "/v1/workorders?limit=1", nil, 200, &orders)
	if len(orders.Items) != 1 || orders.Items[0].ID != o.ID {
		t.Fatalf("every work order: %+v", orders.Items)
	}
	w.call(t, w.disp, "GET", "/v1/workorders?asset="+other.asset, nil, 200, &orders)
	if len(orders.Items) != 0 {
		t.Fatalf("work orders of another asset: %+v", orders.Items)
	}
	var certs page[fieldsync.Certificate]
	w.call(t, w.disp, "GET", "/v1/assets/"+in.asset+"/certificates", nil, 200, &certs)
	if len(certs.Items) != 2 || certs.Items[0].WorkOrderID != o.ID || certs.Items[0].RepairedOn != "2026-03-13" || certs.Items[0].UnderWarranty {
		t.Fatalf("certificates: %+v", certs.Items)
	}

	// The customer reads their own.
	var got fieldsync.WorkOrder
	w.call(t, w.custA, "GET", "/v1/workorders/"+o.ID, nil, 200, &got)
	w.call(t, w.custA, "GET", "/v1/workorders?asset="+in.asset, nil, 200, &orders)
	if got.ID != o.ID || len(orders.Items) != 1 {
		t.Fatalf("customer A reads %+v and lists %+v", got, orders.Items)
	}
	w.call(t, w.custA, "GET", "/v1/assets/"+in.asset+"/certificates", nil, 200, &certs)
	if len(certs.Items) != 2 {
		t.Fatalf("customer A's certificates: %+v", certs.Items)
	}
	// Another customer: not found, as if none existed.
	for _, path := range []string{"/v1/workorders/" + o.ID, "/v1/workorders?ticket=" + in.ticket, "/v1/workorders?asset=" + in.asset, "/v1/assets/" + in.asset + "/certificates"} {
		res, body := w.do(t, "GET", path, w.custB, nil)
		wantProblem(t, res, body, 404, fieldsync.ENotFound)
	}
	res, body := w.do(t, "GET", "/v1/workorders", w.custB, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	res, body = w.do(t, "GET", "/v1/workorders?cursor=%00", w.disp, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	res, body = w.do(t, "GET", "/v1/workorders/"+o.ID, tab.token, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
}
