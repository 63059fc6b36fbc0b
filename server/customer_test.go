package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// customerCase is one customer's ticket with a visit of technician A's, a
// report on it with fields filled from the tablet, and a photo.
type customerCase struct {
	ids
	visit, report, sha string
}

func (w *mediaWorld) customerCase(t *testing.T, user, report string, seed int64) customerCase {
	t.Helper()
	in := w.intake(t, user, fieldsync.ZoneCity)
	v := w.dispatchWorld.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-"+report[len(report)-2:])
	rs := tab.push(t,
		tab.mutation("report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"}),
		tab.mutation("report", report, "upsert", "", map[string]any{"findings": "屏幕有竖线"}))
	if rs[0].Status != syncproto.Applied || rs[1].Status != syncproto.Applied {
		t.Fatalf("report: %s", statuses(rs))
	}
	photo := testJPEG(t, 64, 48, seed)
	res, body := w.createOn(t, w.techA, report, "fault", photo)
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	if res, body := w.patch(t, w.techA, res.Header.Get("Location"), 0, photo, ""); res.StatusCode != 204 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	return customerCase{ids: in, visit: v.ID, report: report, sha: hexSHA(photo)}
}

type reportJSON struct {
	ID       string            `json:"id"`
	VisitID  string            `json:"visit_id"`
	Findings string            `json:"findings"`
	Clocks   map[string]string `json:"clocks"`
	Photos   []struct {
		SHA256 string `json:"sha256"`
		URL    string `json:"url"`
	} `json:"photos"`
}

// A customer reads their own tickets' visits, reports and photos, and
// nothing of another customer's: those answer 404 exactly as records that
// do not exist. Writes stay closed to them by role (403).
func TestCustomerReadsOwnReportsAndNothingElse(t *testing.T) {
	w := newMediaWorld(t, "local")
	a := w.customerCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000a1", 11)
	b := w.customerCase(t, w.custBUser, "0190f000-0000-7000-8000-0000000000b1", 12)

	// Customer A lists and reads their reports, with their photos' URLs,
	// without the merge clocks that staff see.
	var list page[reportJSON]
	w.call(t, w.custA, "GET", "/v1/reports?ticket="+a.ticket, nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].ID != a.report || list.Items[0].Findings != "屏幕有竖线" {
		t.Fatalf("customer A's reports: %+v", list.Items)
	}
	var r reportJSON
	w.call(t, w.custA, "GET", "/v1/reports/"+a.report, nil, 200, &r)
	if len(r.Photos) != 1 || r.Photos[0].SHA256 != a.sha || r.Photos[0].URL != "/v1/media/"+a.sha {
		t.Fatalf("customer A's report photos: %+v", r.Photos)
	}
	if r.Clocks != nil || list.Items[0].Clocks != nil {
		t.Fatalf("a customer sees the report's merge clocks: %v", r.Clocks)
	}
	// Nor do staff and technicians: the merge clocks are sync's, and only
	// a sync pull carries them.
	var staff, tech reportJSON
	w.call(t, w.disp, "GET", "/v1/reports/"+a.report, nil, 200, &staff)
	w.call(t, w.techA, "GET", "/v1/reports/"+a.report, nil, 200, &tech)
	if staff.ID != a.report || staff.Clocks != nil || tech.Clocks != nil {
		t.Fatalf("the HTTP API shows the report's merge clocks: staff %v, technician %v", staff.Clocks, tech.Clocks)
	}
	var pulled reportJSON
	if err := json.Unmarshal(w.device(t, "tech.a", "tab-pull").pull(t)["report/"+a.report].Data, &pulled); err != nil || len(pulled.Clocks) == 0 {
		t.Fatalf("the pulled report has no merge clocks: %+v %v", pulled, err)
	}
	var staffDetail struct {
		Reports []reportJSON `json:"reports"`
	}
	w.call(t, w.disp, "GET", "/v1/visits/"+a.visit, nil, 200, &staffDetail)
	if len(staffDetail.Reports) != 1 || staffDetail.Reports[0].Clocks != nil {
		t.Fatalf("the dispatcher's visit shows the report's merge clocks: %+v", staffDetail.Reports)
	}

	// The photo, whole and by HEAD.
	res, body := w.do(t, "GET", r.Photos[0].URL, w.custA, nil)
	if res.StatusCode != 200 || hexSHA(body) != a.sha {
		t.Fatalf("GET of the photo: %d (%d bytes)", res.StatusCode, len(body))
	}
	res, _ = w.do(t, "HEAD", r.Photos[0].URL, w.custA, nil)
	if res.StatusCode != 200 || res.Header.Get("ETag") != `"`+a.sha+`"` {
		t.Fatalf("HEAD of the photo: %d %v", res.StatusCode, res.Header)
	}

	// The visits of their ticket, listed and read, without refused work.
	var visits page[visitJSON]
	w.call(t, w.custA, "GET", "/v1/visits?ticket="+a.ticket, nil, 200, &visits)
	if len(visits.Items) != 1 || visits.Items[0].ID != a.visit {
		t.Fatalf("customer A's visits: %+v", visits.Items)
	}
	var detail struct {
		Reports     []reportJSON      `json:"reports"`
		RefusedWork []json.RawMessage `json:"refused_work"`
	}
	w.call(t, w.custA, "GET", "/v1/visits/"+a.visit, nil, 200, &detail)
	if len(detail.Reports) != 1 || detail.Reports[0].Clocks != nil || len(detail.Reports[0].Photos) != 1 || detail.RefusedWork == nil || len(detail.RefusedWork) != 0 {
		t.Fatalf("customer A's visit: %+v", detail)
	}
	res, body = w.do(t, "GET", "/v1/visits", w.custA, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)

	// Customer B's records do not exist for customer A, in the very words
	// of a record that does not exist.
	const missing = "0190f000-0000-7000-8000-00000000ffff"
	missingSHA := strings.Repeat("ab", 32)
	for _, tt := range []struct{ name, path, absent string }{
		{"B's ticket", "/v1/tickets/" + b.ticket, "/v1/tickets/" + missing},
		{"B's visit", "/v1/visits/" + b.visit, "/v1/visits/" + missing},
		{"B's visits listed", "/v1/visits?ticket=" + b.ticket, "/v1/visits?ticket=" + missing},
		{"B's report", "/v1/reports/" + b.report, "/v1/reports/" + missing},
		{"B's reports listed", "/v1/reports?ticket=" + b.ticket, "/v1/reports?ticket=" + missing},
		{"B's photo", "/v1/media/" + b.sha, "/v1/media/" + missingSHA},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := w.do(t, "GET", tt.path, w.custA, nil)
			got := wantProblem(t, res, body, 404, fieldsync.ENotFound)
			res, body = w.do(t, "GET", tt.absent, w.custA, nil)
			want := wantProblem(t, res, body, 404, fieldsync.ENotFound)
			replaced := strings.NewReplacer(b.ticket, missing, b.visit, missing, b.report, missing, b.sha, missingSHA).Replace(got.Detail)
			if replaced != want.Detail {
				t.Errorf("detail %q, unlike a missing record's %q", got.Detail, want.Detail)
			}
		})
	}
	if res, _ := w.do(t, "HEAD", "/v1/media/"+b.sha, w.custA, nil); res.StatusCode != 404 || res.Header.Get("ETag") != "" {
		t.Fatalf("HEAD of B's photo by A: %d %v", res.StatusCode, res.Header)
	}
	// Technician B, on no visit of either, sees none of it.
	res, body = w.do(t, "GET", "/v1/reports/"+a.report, w.techB, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)

	// Writes are not a customer's: the role fence answers 403.
	for _, tt := range []struct{ method, path string }{
		{"POST", "/v1/visits/" + a.visit + "/cancel"},
		{"POST", "/v1/visits/" + a.visit + "/assign"},
		{"POST", "/v1/media/" + a.sha + "/attach"},
		{"POST", "/v1/tickets/" + a.ticket + "/contact"},
	} {
		res, body := w.do(t, tt.method, tt.path, w.custA, map[string]string{})
		wantProblem(t, res, body, 403, fieldsync.EForbidden)
	}
	res, body = w.do(t, "POST", "/v1/sync/push", w.custA, syncproto.PushRequest{DeviceID: "d-cust-a"})
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
}

// GET /v1/me answers every role with its account; a customer login also
// with the customer records it reads as.
func TestMeNamesTheCustomerRecords(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	type me struct {
		ID        string               `json:"id"`
		Role      fieldsync.Role       `json:"role"`
		Customers []fieldsync.Customer `json:"customers"`
	}
	for _, tt := range []struct {
		name, token string
		role        fieldsync.Role
		customers   []string
	}{
		{"a linked customer", w.custA, fieldsync.RoleCustomer, []string{in.customer}},
		{"a customer with no record yet", w.custB, fieldsync.RoleCustomer, nil},
		{"a technician", w.techA, fieldsync.RoleTechnician, nil},
		{"a dispatcher", w.disp, fieldsync.RoleDispatcher, nil},
		{"an admin", w.admin, fieldsync.RoleAdmin, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got me
			res, raw := w.do(t, "GET", "/v1/me", tt.token, nil)
			if res.StatusCode != 200 {
				t.Fatalf("%d %s", res.StatusCode, raw)
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.Role != tt.role || got.Customers == nil || !bytes.Contains(raw, []byte(`"customers":`)) {
				t.Fatalf("me: %s", raw)
			}
			var ids []string
			for _, c := range got.Customers {
				ids = append(ids, c.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.customers, ",") {
				t.Fatalf("customers %v, want %v", ids, tt.customers)
			}
		})
	}
}
