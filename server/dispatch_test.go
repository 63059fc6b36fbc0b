package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/store/bolt"
)

var cst = time.FixedZone("CST", 8*3600)

// dispatchWorld is a server with an admin, a dispatcher, two technicians
// and two customers, each logged in.
type dispatchWorld struct {
	*testServer
	clock                *testenv.Clock
	admin, disp, techA   string // access tokens
	techB, custA, custB  string
	techAID, techBID     string
	custAUser, custBUser string
	dispID               string
}

func newDispatchWorld(t *testing.T, now time.Time) *dispatchWorld {
	t.Helper()
	c := testenv.NewClock(now)
	return worldOn(t, newTestServer(t, func(d *Deps) { onClock(d, c) }), c)
}

// onClock runs the server on the test's clock c, its sign-ins too (as
// `fieldsync serve` runs both on one clock): a device key is registered
// at the server's time, so a signature received later is the key's.
// Access tokens last as long as the test, whose clock jumps hours.
func onClock(d *Deps, c *testenv.Clock) {
	d.Now = c.Now
	d.Issuer.Now, d.Issuer.TTL = c.Now, 365*24*time.Hour
	d.Auth = auth.NewService(d.Store.(*bolt.DB), d.Issuer, nil)
}

// worldOn adds the accounts of a dispatch world to a test server.
func worldOn(t *testing.T, ts *testServer, c *testenv.Clock) *dispatchWorld {
	t.Helper()
	w := &dispatchWorld{testServer: ts, clock: c}
	ids := map[string]string{}
	for login, role := range map[string]fieldsync.Role{
		"admin": fieldsync.RoleAdmin, "disp": fieldsync.RoleDispatcher, "tech.a": fieldsync.RoleTechnician,
		"tech.b": fieldsync.RoleTechnician, "cust.a": fieldsync.RoleCustomer, "cust.b": fieldsync.RoleCustomer,
	} {
		u, err := ts.svc.CreateUser(t.Context(), login, login, login+"-password", role)
		if err != nil {
			t.Fatal(err)
		}
		ids[login] = u.ID
	}
	w.admin = ts.login(t, "admin", "d-admin").AccessToken
	w.disp = ts.login(t, "disp", "d-disp").AccessToken
	w.techA = ts.login(t, "tech.a", "d-tech-a").AccessToken
	w.techB = ts.login(t, "tech.b", "d-tech-b").AccessToken
	w.custA = ts.login(t, "cust.a", "d-cust-a").AccessToken
	w.custB = ts.login(t, "cust.b", "d-cust-b").AccessToken
	w.techAID, w.techBID, w.custAUser, w.custBUser, w.dispID = ids["tech.a"], ids["tech.b"], ids["cust.a"], ids["cust.b"], ids["disp"]
	return w
}

// call sends a request and decodes a 2xx answer into out; it fails the
// test on any other status than want.
func (w *dispatchWorld) call(t *testing.T, token, method, path string, body any, want int, out any) {
	t.Helper()
	res, raw := w.do(t, method, path, token, body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

type ids struct{ customer, site, asset, ticket string }

// intake creates a customer (linked to user, if any), a site in zone, an
// asset and a ticket, as the dispatcher.
func (w *dispatchWorld) intake(t *testing.T, user string, zone fieldsync.Zone) ids {
	t.Helper()
	var c, s, a, tk struct{ ID string }
	w.call(t, w.disp, "POST", "/v1/customers", map[string]string{"name": "刘女士", "phone": "138 0013 8000", "user_id": user}, 201, &c)
	w.call(t, w.disp, "POST", "/v1/sites", map[string]string{"customer_id": c.ID, "address": "上海市浦东新区世纪大道100号", "zone": string(zone)}, 201, &s)
	w.call(t, w.disp, "POST", "/v1/assets", map[string]string{"customer_id": c.ID, "category": "tv", "model": "65E7K", "serial": "SN1", "invoice_date": "2026-01-15"}, 201, &a)
	w.call(t, w.disp, "POST", "/v1/tickets", map[string]string{"customer_id": c.ID, "site_id": s.ID, "asset_id": a.ID, "channel": "hotline", "kind": "repair", "description": "屏幕有竖线"}, 201, &tk)
	return ids{c.ID, s.ID, a.ID, tk.ID}
}

type visitJSON struct {
	ID           string    `json:"id"`
	TicketID     string    `json:"ticket_id"`
	TechnicianID string    `json:"technician_id"`
	Status       string    `json:"status"`
	Due          time.Time `json:"due"`
	SLA          struct {
		Due   time.Time `json:"due"`
		State string    `json:"state"`
	} `json:"sla"`
}

func (w *dispatchWorld) visit(t *testing.T, ticket, tech string) visitJSON {
	t.Helper()
	start := w.clock.Now().Add(2 * time.Hour)
	var v visitJSON
	w.call(t, w.disp, "POST", "/v1/visits", map[string]any{"ticket_id": ticket, "technician_id": tech, "window_start": start, "window_end": start.Add(2 * time.Hour)}, 201, &v)
	return v
}

func TestVisitDeadlinesFollowZoneAndCalendar(t *testing.T) {
	tests := []struct {
		name   string
		opened time.Time
		zone   fieldsync.Zone
		due    time.Time
	}{
		// Qingming: Sat Apr 4 – Mon Apr 6 are off. Friday 18:00 keeps 6 h of
		// Friday, then counts from Tuesday 00:00.
		{"a city ticket on the Friday evening before Qingming is due Tuesday evening", date(2026, 4, 3, 18), fieldsync.ZoneCity, date(2026, 4, 7, 18)},
		{"a suburb ticket on that Friday is due Wednesday evening", date(2026, 4, 3, 18), fieldsync.ZoneSuburb, date(2026, 4, 8, 18)},
		{"a township ticket on that Friday is due Thursday evening", date(2026, 4, 3, 18), fieldsync.ZoneTownship, date(2026, 4, 9, 18)},
		// Spring Festival: Sat Feb 14 is a make-up working day, Feb 15–23 off.
		{"a city ticket on the Friday before the Spring Festival is due on the make-up Saturday", date(2026, 2, 13, 18), fieldsync.ZoneCity, date(2026, 2, 14, 18)},
		{"a suburb ticket that Friday waits out the whole festival", date(2026, 2, 13, 18), fieldsync.ZoneSuburb, date(2026, 2, 24, 18)},
		{"a city ticket on a plain Tuesday is due 24 h later", date(2026, 3, 10, 9), fieldsync.ZoneCity, date(2026, 3, 11, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newDispatchWorld(t, tt.opened)
			in := w.intake(t, "", tt.zone)
			v := w.visit(t, in.ticket, w.techAID)
			if !v.Due.Equal(tt.due) || !v.SLA.Due.Equal(tt.due) {
				t.Fatalf("due %s, want %s", v.Due.In(cst), tt.due)
			}
			if v.Status != "scheduled" || v.SLA.State != "ok" {
				t.Fatalf("new visit %+v: want scheduled and ok", v)
			}
		})
	}
}

func date(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, cst) }

func TestIntakeAssignReassignAndAudit(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)

	var tk struct {
		FirstResponseDue time.Time `json:"first_response_due"`
		SLA              struct{ State string }
	}
	w.call(t, w.custA, "GET", "/v1/tickets/"+in.ticket, nil, 200, &tk)
	if !tk.FirstResponseDue.Equal(date(2026, 3, 11, 9)) || tk.SLA.State != "ok" {
		t.Fatalf("ticket first response %s %s, want 24 h later and ok", tk.FirstResponseDue, tk.SLA.State)
	}
	v := w.visit(t, in.ticket, w.techAID)

	var detail struct {
		visitJSON
		Ticket   struct{ ID string }
		Customer struct{ ID string }
		Site     struct{ Zone string }
		Asset    struct{ Serial string }
		Reports  []any
	}
	w.call(t, w.techA, "GET", "/v1/visits/"+v.ID, nil, 200, &detail)
	if detail.Ticket.ID != in.ticket || detail.Customer.ID != in.customer || detail.Site.Zone != "city" || detail.Asset.Serial != "SN1" || detail.Reports == nil {
		t.Fatalf("bundle %+v", detail)
	}
	res, body := w.do(t, "GET", "/v1/visits/"+v.ID, w.techB, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)

	w.call(t, w.disp, "POST", "/v1/visits/"+v.ID+"/assign", map[string]string{"technician_id": w.techBID}, 200, &v)
	if v.TechnicianID != w.techBID || v.Status != "scheduled" {
		t.Fatalf("reassigned visit %+v", v)
	}
	w.call(t, w.techB, "GET", "/v1/visits/"+v.ID, nil, 200, nil)
	res, body = w.do(t, "GET", "/v1/visits/"+v.ID, w.techA, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)

	var mine page[visitJSON]
	w.call(t, w.techA, "GET", "/v1/visits", nil, 200, &mine)
	if len(mine.Items) != 0 {
		t.Fatalf("technician A still lists %d visits", len(mine.Items))
	}
	w.call(t, w.techB, "GET", "/v1/visits", nil, 200, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != v.ID {
		t.Fatalf("technician B lists %+v", mine.Items)
	}

	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=visit&id="+v.ID, nil, 200, &audit)
	if len(audit.Items) != 2 || audit.Items[0].Action != "visit.create" || audit.Items[1].Action != "visit.assign" {
		t.Fatalf("audit of the visit: %+v", audit.Items)
	}
	a := audit.Items[1]
	ch := a.Changes["technician_id"]
	if a.UserID != w.dispID || a.DeviceID != "d-disp" || string(ch.From) != `"`+w.techAID+`"` || string(ch.To) != `"`+w.techBID+`"` || a.At.IsZero() {
		t.Fatalf("assign entry %+v", a)
	}
	w.call(t, w.admin, "GET", "/v1/audit", nil, 200, &audit)
	if len(audit.Items) < 6 {
		t.Fatalf("the full audit has %d entries, want every change", len(audit.Items))
	}
}

func TestSLAStatesAndFilters(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))                                // Tuesday
	early := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)    // due Wed 09:00
	late := w.visit(t, w.intake(t, "", fieldsync.ZoneTownship).ticket, w.techAID) // due Fri 09:00

	list := func(q string) []string {
		var p page[visitJSON]
		w.call(t, w.disp, "GET", "/v1/visits?"+q, nil, 200, &p)
		var out []string
		for _, v := range p.Items {
			out = append(out, v.ID+"="+v.SLA.State)
		}
		return out
	}
	w.clock.Set(date(2026, 3, 11, 6)) // 3 h before the city visit is due
	if got := list("sla=at_risk"); len(got) != 1 || got[0] != early.ID+"=at_risk" {
		t.Fatalf("at risk: %v", got)
	}
	w.clock.Set(date(2026, 3, 11, 10))
	if got := list("sla=breached"); len(got) != 1 || got[0] != early.ID+"=breached" {
		t.Fatalf("breached: %v", got)
	}
	if got := list("sla=ok"); len(got) != 1 || got[0] != late.ID+"=ok" {
		t.Fatalf("ok: %v", got)
	}
	if got := list("status=scheduled&technician=" + w.techAID); len(got) != 2 {
		t.Fatalf("scheduled for A: %v", got)
	}
	from := url.QueryEscape(date(2026, 3, 10, 0).Format(time.RFC3339))
	to := url.QueryEscape(date(2026, 3, 10, 23).Format(time.RFC3339))
	if got := list("from=" + from + "&to=" + to); len(got) != 2 {
		t.Fatalf("windows on Mar 10: %v", got)
	}
	if got := list("from=" + to); len(got) != 0 {
		t.Fatalf("windows after Mar 10 23:00: %v", got)
	}
}

func TestVisitListPages(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	want := map[string]bool{}
	for range 5 {
		want[w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID).ID] = true
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		var p page[visitJSON]
		w.call(t, w.disp, "GET", "/v1/visits?limit=2&cursor="+cursor, nil, 200, &p)
		pages++
		for _, v := range p.Items {
			if seen[v.ID] {
				t.Fatalf("visit %s listed twice", v.ID)
			}
			seen[v.ID] = true
		}
		if p.NextCursor == nil {
			t.Fatal("a page without next_cursor")
		}
		if *p.NextCursor == "" {
			break
		}
		cursor = *p.NextCursor
	}
	if pages != 3 || len(seen) != 5 {
		t.Fatalf("%d pages, %d visits; want 3 pages of 5 visits", pages, len(seen))
	}
	for id := range want {
		if !seen[id] {
			t.Fatalf("visit %s missing from the pages", id)
		}
	}
}

func TestDispatchRoleMatrix(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, w.custAUser, fieldsync.ZoneCity)
	other := w.intake(t, w.custBUser, fieldsync.ZoneSuburb)
	v := w.visit(t, in.ticket, w.techAID)
	newCustomer := map[string]string{"name": "x", "phone": "1"}
	tests := []struct {
		name, token, method, path string
		body                      any
		status                    int
	}{
		{"a dispatcher creates customers", w.disp, "POST", "/v1/customers", newCustomer, 201},
		{"a technician may not create customers", w.techA, "POST", "/v1/customers", newCustomer, 403},
		{"a customer may not create customers", w.custA, "POST", "/v1/customers", newCustomer, 403},
		{"a customer reads their own customer record", w.custA, "GET", "/v1/customers/" + in.customer, nil, 200},
		{"a customer may not read another's record", w.custB, "GET", "/v1/customers/" + in.customer, nil, 404},
		{"a technician may not read customers directly", w.techA, "GET", "/v1/customers/" + in.customer, nil, 403},
		{"a dispatcher reads a site", w.disp, "GET", "/v1/sites/" + in.site, nil, 200},
		{"a customer may not read sites directly", w.custA, "GET", "/v1/sites/" + in.site, nil, 403},
		{"a dispatcher reads an asset", w.disp, "GET", "/v1/assets/" + in.asset, nil, 200},
		{"a technician may not read assets directly", w.techA, "GET", "/v1/assets/" + in.asset, nil, 403},
		{"a customer reads their own ticket", w.custA, "GET", "/v1/tickets/" + in.ticket, nil, 200},
		{"a customer may not read another's ticket", w.custA, "GET", "/v1/tickets/" + other.ticket, nil, 404},
		{"a technician may not read tickets directly", w.techA, "GET", "/v1/tickets/" + in.ticket, nil, 403},
		{"a customer may not open tickets through the dispatcher API", w.custA, "POST", "/v1/tickets", map[string]string{}, 403},
		{"a technician may not record contact", w.techA, "POST", "/v1/tickets/" + in.ticket + "/contact", map[string]string{}, 403},
		{"a technician may not book visits", w.techA, "POST", "/v1/visits", map[string]string{}, 403},
		{"a customer lists visits only by ticket", w.custA, "GET", "/v1/visits", nil, 400},
		{"a customer lists the visits of their own ticket", w.custA, "GET", "/v1/visits?ticket=" + in.ticket, nil, 200},
		{"a customer may not list another's ticket's visits", w.custB, "GET", "/v1/visits?ticket=" + in.ticket, nil, 404},
		{"a technician may not list another's visits", w.techA, "GET", "/v1/visits?technician=" + w.techBID, nil, 403},
		{"a technician reads their own visit", w.techA, "GET", "/v1/visits/" + v.ID, nil, 200},
		{"another technician may not read it", w.techB, "GET", "/v1/visits/" + v.ID, nil, 404},
		{"a customer reads a visit of their own ticket", w.custA, "GET", "/v1/visits/" + v.ID, nil, 200},
		{"another customer may not read it", w.custB, "GET", "/v1/visits/" + v.ID, nil, 404},
		{"a technician may not reassign", w.techA, "POST", "/v1/visits/" + v.ID + "/assign", map[string]string{"technician_id": w.techAID}, 403},
		{"a technician may not cancel", w.techA, "POST", "/v1/visits/" + v.ID + "/cancel", map[string]string{"reason": "x"}, 403},
		{"a dispatcher may not read the audit", w.disp, "GET", "/v1/audit", nil, 403},
		{"an admin reads the audit", w.admin, "GET", "/v1/audit", nil, 200},
		{"every role reads templates", w.custA, "GET", "/v1/templates", nil, 200},
		{"a customer lists their own tickets", w.custA, "GET", "/v1/tickets", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := w.do(t, tt.method, tt.path, tt.token, tt.body)
			if res.StatusCode != tt.status {
				t.Fatalf("%d, want %d: %s", res.StatusCode, tt.status, body)
			}
		})
	}
	var mine page[struct{ ID string }]
	w.call(t, w.custB, "GET", "/v1/tickets", nil, 200, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != other.ticket {
		t.Fatalf("customer B's tickets: %+v", mine.Items)
	}
}

func TestDispatchValidation(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, "", fieldsync.ZoneCity)
	other := w.intake(t, "", fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	now := w.clock.Now()
	window := func(ticket, tech string, start time.Time) map[string]any {
		return map[string]any{"ticket_id": ticket, "technician_id": tech, "window_start": start, "window_end": start.Add(time.Hour)}
	}
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"an unknown zone", "POST", "/v1/sites", map[string]string{"customer_id": in.customer, "address": "x", "zone": "moon"}, 400, fieldsync.EInvalid},
		{"a site of an unknown customer", "POST", "/v1/sites", map[string]string{"customer_id": "nope", "address": "x", "zone": "city"}, 404, fieldsync.ENotFound},
		{"a customer without a name", "POST", "/v1/customers", map[string]string{"phone": "1"}, 400, fieldsync.EInvalid},
		{"a customer linked to a technician account", "POST", "/v1/customers", map[string]string{"name": "x", "phone": "1", "user_id": w.techAID}, 400, fieldsync.EInvalid},
		{"an unknown category", "POST", "/v1/assets", map[string]string{"customer_id": in.customer, "category": "car", "model": "m", "serial": "s"}, 400, fieldsync.EInvalid},
		{"a malformed invoice date", "POST", "/v1/assets", map[string]string{"customer_id": in.customer, "category": "tv", "model": "m", "serial": "s", "invoice_date": "15/01/2026"}, 400, fieldsync.EInvalid},
		{"an unknown channel", "POST", "/v1/tickets", map[string]string{"customer_id": in.customer, "site_id": in.site, "asset_id": in.asset, "channel": "fax", "kind": "repair", "description": "d"}, 400, fieldsync.EInvalid},
		{"a ticket without a description", "POST", "/v1/tickets", map[string]string{"customer_id": in.customer, "site_id": in.site, "asset_id": in.asset, "channel": "web", "kind": "repair"}, 400, fieldsync.EInvalid},
		{"a ticket for another customer's site", "POST", "/v1/tickets", map[string]string{"customer_id": in.customer, "site_id": other.site, "asset_id": in.asset, "channel": "web", "kind": "repair", "description": "d"}, 400, fieldsync.EInvalid},
		{"a visit window in the past", "POST", "/v1/visits", window(other.ticket, w.techAID, now.Add(-3*time.Hour)), 400, fieldsync.EInvalid},
		{"a visit without a technician", "POST", "/v1/visits", window(other.ticket, "", now.Add(time.Hour)), 400, fieldsync.EInvalid},
		{"a visit for a dispatcher", "POST", "/v1/visits", window(other.ticket, w.dispID, now.Add(time.Hour)), 400, fieldsync.EInvalid},
		{"a visit of an unknown ticket", "POST", "/v1/visits", window("nope", w.techAID, now.Add(time.Hour)), 404, fieldsync.ENotFound},
		{"a second open visit on a ticket", "POST", "/v1/visits", window(in.ticket, w.techBID, now.Add(time.Hour)), 409, fieldsync.EConflict},
		{"a window that is not a time", "POST", "/v1/visits", map[string]any{"ticket_id": other.ticket, "technician_id": w.techAID, "window_start": "tomorrow"}, 400, fieldsync.EBadJSON},
		{"an unknown visit", "GET", "/v1/visits/nope", nil, 404, fieldsync.ENotFound},
		{"an unknown status filter", "GET", "/v1/visits?status=lost", nil, 400, fieldsync.EInvalid},
		{"an unknown sla filter", "GET", "/v1/visits?sla=late", nil, 400, fieldsync.EInvalid},
		{"a malformed cursor", "GET", "/v1/visits?cursor=!!!", nil, 400, fieldsync.EInvalid},
		{"a limit of zero", "GET", "/v1/visits?limit=0", nil, 400, fieldsync.EInvalid},
		{"a from that is not a time", "GET", "/v1/visits?from=yesterday", nil, 400, fieldsync.EInvalid},
		{"cancel without a reason", "POST", "/v1/visits/" + v.ID + "/cancel", map[string]string{}, 400, fieldsync.EInvalid},
		{"assign to an unknown user", "POST", "/v1/visits/" + v.ID + "/assign", map[string]string{"technician_id": "nope"}, 404, fieldsync.ENotFound},
		{"an unknown template", "GET", "/v1/templates/nope", nil, 404, fieldsync.ENotFound},
		{"audit by id without entity", "GET", "/v1/audit?id=" + v.ID, nil, 400, fieldsync.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := w.disp
			if strings.HasPrefix(tt.path, "/v1/audit") {
				token = w.admin
			}
			var before page[fieldsync.AuditEntry]
			w.call(t, w.admin, "GET", "/v1/audit?limit=200", nil, 200, &before)
			res, body := w.do(t, tt.method, tt.path, token, tt.body)
			wantProblem(t, res, body, tt.status, tt.code)
			var after page[fieldsync.AuditEntry]
			w.call(t, w.admin, "GET", "/v1/audit?limit=200", nil, 200, &after)
			if len(after.Items) != len(before.Items) {
				t.Fatalf("a refused request wrote %d audit entries", len(after.Items)-len(before.Items))
			}
		})
	}

	// The cancelled visit is terminal: cancelling again is a forbidden transition.
	w.call(t, w.disp, "POST", "/v1/visits/"+v.ID+"/cancel", map[string]string{"reason": "customer away"}, 200, nil)
	res, body := w.do(t, "POST", "/v1/visits/"+v.ID+"/cancel", w.disp, map[string]string{"reason": "again"})
	wantProblem(t, res, body, 409, fieldsync.EInvalidTransition)
	res, body = w.do(t, "POST", "/v1/visits/"+v.ID+"/assign", w.disp, map[string]string{"technician_id": w.techBID})
	wantProblem(t, res, body, 409, fieldsync.EInvalidTransition)
	// With the only visit cancelled, the ticket takes a new one.
	w.visit(t, in.ticket, w.techBID)
	_ = fmt.Sprint
}

func TestAccountChangesAreAudited(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	var u struct{ ID string }
	w.call(t, w.admin, "POST", "/v1/users", map[string]string{"login": "new.tech", "password": "secret-secret", "role": "technician"}, 201, &u)
	w.call(t, w.admin, "POST", "/v1/devices/d-tech-a/revoke", nil, 200, nil)

	var users, devices page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=user&id="+u.ID, nil, 200, &users)
	w.call(t, w.admin, "GET", "/v1/audit?entity=device&id=d-tech-a", nil, 200, &devices)
	if len(users.Items) != 1 || users.Items[0].Action != "user.create" || users.Items[0].DeviceID != "d-admin" {
		t.Fatalf("user audit: %+v", users.Items)
	}
	if _, leaked := users.Items[0].Changes["password_hash"]; leaked {
		t.Fatal("the audit trail holds a password hash")
	}
	if len(devices.Items) != 1 || devices.Items[0].Action != "device.revoke" || devices.Items[0].Changes["revoked_at"].To == nil {
		t.Fatalf("device audit: %+v", devices.Items)
	}
}

// TestConcurrentBookingsMakeOneVisit books many visits for one ticket at
// once over real connections: the "one open visit per ticket" check and
// the write are one transaction, so exactly one booking wins and every
// other one is a conflict.
func TestConcurrentBookingsMakeOneVisit(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	ticket := w.intake(t, "", fieldsync.ZoneCity).ticket
	start := w.clock.Now().Add(2 * time.Hour)
	body, err := json.Marshal(map[string]any{"ticket_id": ticket, "technician_id": w.techAID, "window_start": start, "window_end": start.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	const bookings = 24
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make(chan answer, bookings)
	ready, fire := sync.WaitGroup{}, make(chan struct{})
	ready.Add(bookings)
	for range bookings {
		go func() {
			req, err := http.NewRequest("POST", w.URL+"/v1/visits", bytes.NewReader(body))
			if err != nil {
				answers <- answer{err: err}
				ready.Done()
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+w.disp)
			ready.Done()
			<-fire
			res, err := w.Client().Do(req)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			defer res.Body.Close()
			raw, err := io.ReadAll(res.Body)
			answers <- answer{res.StatusCode, raw, err}
		}()
	}
	ready.Wait()
	close(fire)
	created := 0
	for range bookings {
		a := <-answers
		switch {
		case a.err != nil:
			t.Fatal(a.err)
		case a.status == http.StatusCreated:
			created++
		case a.status == http.StatusConflict:
			var p Problem
			if err := json.Unmarshal(a.body, &p); err != nil || p.Code != fieldsync.EConflict {
				t.Fatalf("a refused booking answered %s, want code %s", a.body, fieldsync.EConflict)
			}
		default:
			t.Fatalf("a booking answered %d: %s", a.status, a.body)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent bookings created a visit, want exactly 1", created, bookings)
	}
	var visits page[visitJSON]
	w.call(t, w.disp, "GET", "/v1/visits?technician="+w.techAID, nil, 200, &visits)
	if len(visits.Items) != 1 {
		t.Fatalf("the ticket has %d visits, want 1", len(visits.Items))
	}
}
