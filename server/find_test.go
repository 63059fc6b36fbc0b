package server

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// takeTicket takes a ticket of a new customer of that name and phone,
// linked to user when not empty, at a site in zone.
func (w *dispatchWorld) takeTicket(t *testing.T, name, phone, user string, zone fieldsync.Zone, channel, kind string) ids {
	t.Helper()
	var c, s, a, tk struct{ ID string }
	w.call(t, w.disp, "POST", "/v1/customers", map[string]string{"name": name, "phone": phone, "user_id": user}, 201, &c)
	w.call(t, w.disp, "POST", "/v1/sites", map[string]string{"customer_id": c.ID, "address": "上海市浦东新区世纪大道100号", "zone": string(zone)}, 201, &s)
	w.call(t, w.disp, "POST", "/v1/assets", map[string]string{"customer_id": c.ID, "category": "tv", "model": "65E7K", "serial": "SN-" + name}, 201, &a)
	w.call(t, w.disp, "POST", "/v1/tickets", map[string]string{"customer_id": c.ID, "site_id": s.ID, "asset_id": a.ID, "channel": channel, "kind": kind, "description": "屏幕有竖线"}, 201, &tk)
	return ids{c.ID, s.ID, a.ID, tk.ID}
}

// listIDs reads every page of a list as token, following next_cursor,
// and returns the ids in order with the number of pages read.
func (w *dispatchWorld) listIDs(t *testing.T, token, path string) (string, int) {
	t.Helper()
	var got []string
	cursor, pages := "", 0
	for {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var pg page[struct{ ID string }]
		w.call(t, token, "GET", p, nil, 200, &pg)
		pages++
		for _, it := range pg.Items {
			got = append(got, it.ID)
		}
		if pg.NextCursor == nil {
			t.Fatalf("%s: no next_cursor", p)
		}
		if *pg.NextCursor == "" || pages > 20 {
			return strings.Join(got, " "), pages
		}
		cursor = *pg.NextCursor
	}
}

// problemCase is a GET that fails with status and a body naming detail.
type problemCase struct {
	token, path string
	status      int
	detail      string
}

func (w *dispatchWorld) expectProblem(t *testing.T, tt problemCase) {
	t.Helper()
	res, body := w.do(t, "GET", tt.path, tt.token, nil)
	if res.StatusCode != tt.status || !strings.Contains(string(body), tt.detail) {
		t.Errorf("%s: %d %s, want %d naming %s", tt.path, res.StatusCode, body, tt.status, tt.detail)
	}
}

func TestTicketQueue(t *testing.T) {
	t0 := date(2026, 3, 10, 9)
	w := newDispatchWorld(t, t0)
	a := w.takeTicket(t, "Zhang Wei", "138 0013 8000", "", fieldsync.ZoneCity, "hotline", "repair")
	w.clock.Advance(time.Hour)
	b := w.takeTicket(t, "王芳", "13900139000", "", fieldsync.ZoneTownship, "web", "install")
	w.clock.Advance(time.Hour)
	c := w.takeTicket(t, "李娜", "13700137000", w.custAUser, fieldsync.ZoneSuburb, "store", "inspection")
	w.call(t, w.disp, "POST", "/v1/tickets/"+a.ticket+"/contact", map[string]string{}, 200, nil)
	w.call(t, w.disp, "POST", "/v1/tickets/"+b.ticket+"/contact", map[string]string{}, 200, nil)
	v := w.visit(t, a.ticket, w.techAID)
	// Past the open visit's due and c's first-response due: a's contact
	// was kept but its visit's promise is broken; b waits on nothing.
	now := t0.Add(27 * time.Hour)
	if v.Due.After(now) {
		now = v.Due
	}
	w.clock.Set(now.Add(time.Hour))
	d := w.takeTicket(t, "Li Lei", "13600136000", "", fieldsync.ZoneCity, "app", "repair")
	from := url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339))
	to := url.QueryEscape(t0.Add(2 * time.Hour).Format(time.RFC3339))

	name := map[string]string{a.ticket: "a", b.ticket: "b", c.ticket: "c", d.ticket: "d"}
	tests := []struct {
		name, token, query, want string
		pages                    int
	}{
		{"the whole queue, newest intake first, a page at a time", w.disp, "limit=1", "d c b a", 4},
		{"one customer's", w.admin, "customer_id=" + b.customer, "b", 1},
		{"zone of the site", w.disp, "zone=township", "b", 1},
		{"channel", w.disp, "channel=store", "c", 1},
		{"kind", w.disp, "kind=repair&limit=1", "d a", 2},
		{"intake in [from, to)", w.disp, "from=" + from + "&to=" + to, "b", 1},
		{"first contact still due", w.disp, "contact=due", "d c", 1},
		{"first contact overdue", w.disp, "contact=overdue", "c", 1},
		{"sla of the open visit, else of the first contact", w.disp, "sla=breached", "c a", 1},
		{"sla kept", w.disp, "sla=ok", "d b", 1},
		{"filters combine", w.disp, "sla=breached&zone=city", "a", 1},
		{"a customer lists only their own", w.custA, "limit=5", "c", 1},
		{"a customer with no customer record lists none", w.custB, "limit=5", "", 1},
	}
	for _, tt := range tests {
		ids, pages := w.listIDs(t, tt.token, "/v1/tickets?"+tt.query)
		var got []string
		for _, id := range strings.Fields(ids) {
			got = append(got, name[id])
		}
		if strings.Join(got, " ") != tt.want || pages != tt.pages {
			t.Errorf("%s: %v in %d pages, want %q in %d", tt.name, got, pages, tt.want, tt.pages)
		}
	}

	// The status filter: b cancelled, the others open.
	w.call(t, w.disp, "POST", "/v1/tickets/"+b.ticket+"/cancel", map[string]string{"reason": "customer withdrew"}, 200, nil)
	for _, tt := range []struct{ query, want string }{
		{"status=open", "d c a"},
		{"status=cancelled", "b"},
		{"status=" + url.QueryEscape("cancelled,open") + "&limit=2", "d c b a"},
		{"status=open,in_progress&zone=city", "d a"},
		{"status=resolved,closed", ""},
	} {
		ids, _ := w.listIDs(t, w.disp, "/v1/tickets?"+tt.query)
		var got []string
		for _, id := range strings.Fields(ids) {
			got = append(got, name[id])
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %v, want %q", tt.query, got, tt.want)
		}
	}

	for _, tt := range []problemCase{
		{w.disp, "status=done", 400, "status"},
		{w.disp, "status=open,,closed", 400, "status"},
		{w.disp, "status=", 400, "status"},
		{w.disp, "status=open,open", 400, "twice"},
		{w.disp, "zone=mars", 400, "zone"},
		{w.disp, "channel=fax", 400, "channel"},
		{w.disp, "kind=refund", 400, "kind"},
		{w.disp, "from=yesterday", 400, "from"},
		{w.disp, "to=2026-03-10", 400, "to"},
		{w.disp, "contact=soon", 400, "contact"},
		{w.disp, "sla=red", 400, "sla"},
		{w.disp, "limit=0", 400, "limit"},
		{w.disp, "cursor=%25%25", 400, "cursor"},
		{w.disp, "state=open", 400, `\"state\"`},
		{w.disp, "customer_id=nobody", 404, "nobody"},
		{w.custA, "customer_id=" + a.customer, 404, a.customer},
		{w.techA, "", 403, "forbidden"},
	} {
		tt.path = "/v1/tickets?" + tt.path
		w.expectProblem(t, tt)
	}
}

func TestCustomerSiteAndAssetSearch(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	a := w.takeTicket(t, "Zhang Wei", "13800138000", "", fieldsync.ZoneCity, "hotline", "repair")
	b := w.takeTicket(t, "ZHANGSAN Trading", "+86 21-6543-2100", "", fieldsync.ZoneCity, "hotline", "repair")
	c := w.takeTicket(t, "王芳", "139 0013 9000", "", fieldsync.ZoneCity, "hotline", "repair")
	var s2 struct{ ID string }
	w.call(t, w.disp, "POST", "/v1/sites", map[string]string{"customer_id": a.customer, "address": "北京市朝阳区", "zone": "suburb"}, 201, &s2)
	var kfr struct{ ID string }
	w.call(t, w.disp, "POST", "/v1/assets", map[string]string{"customer_id": c.customer, "category": "appliance", "model": "KFR-35GW", "serial": "AC 0001"}, 201, &kfr)

	name := map[string]string{a.customer: "a", b.customer: "b", c.customer: "c", a.site: "a.site", s2.ID: "s2",
		b.site: "b.site", c.site: "c.site", a.asset: "a.asset", b.asset: "b.asset", c.asset: "c.asset", kfr.ID: "kfr"}
	for _, tt := range []struct{ path, want string }{
		{"/v1/customers?limit=1", "a b c"},
		{"/v1/customers?q=" + url.QueryEscape("138 0013 8000"), "a"},
		{"/v1/customers?q=" + url.QueryEscape("138-0013-8000"), "a"},
		{"/v1/customers?q=0013&limit=1", "a c"},
		{"/v1/customers?q=zhang&limit=1", "a b"},
		{"/v1/customers?q=" + url.QueryEscape("王"), "c"},
		{"/v1/customers?q=nobody", ""},
		{"/v1/sites?customer=" + a.customer + "&limit=1", "a.site s2"},
		{"/v1/sites?limit=2", "a.site b.site c.site s2"},
		{"/v1/assets?serial=" + url.QueryEscape("ac0001"), "kfr"},
		{"/v1/assets?model=kfr-35gw", "kfr"},
		{"/v1/assets?q=" + url.QueryEscape("SN-王芳"), "c.asset"},
		{"/v1/assets?model=65E7K&limit=2", "a.asset b.asset c.asset"},
	} {
		ids, _ := w.listIDs(t, w.disp, tt.path+"&")
		var got []string
		for _, id := range strings.Fields(ids) {
			got = append(got, name[id])
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %v, want %q", tt.path, got, tt.want)
		}
	}
	// Ids and request ids are hex, so a bare "0013" may occur by chance:
	// look for the searches themselves.
	for _, searched := range []string{"q=", "13800138000", "138 0013", "138-0013", "138+0013", "138%200013", "0013&"} {
		if strings.Contains(w.logs.String(), searched) {
			t.Errorf("the log holds a search: %q", searched)
		}
	}

	long := strings.Repeat("x", fieldsync.MaxSearch+1)
	for _, tt := range []problemCase{
		{w.custA, "/v1/customers?q=zhang", 403, "forbidden"},
		{w.techA, "/v1/customers?q=zhang", 403, "forbidden"},
		{w.custA, "/v1/assets?serial=SN1", 403, "forbidden"},
		{w.custA, "/v1/sites?customer=" + a.customer, 403, "forbidden"},
		{w.disp, "/v1/customers?q=" + long, 400, "q must be"},
		{w.disp, "/v1/customers?q=+", 400, "q must be"},
		{w.disp, "/v1/customers?limit=500", 400, "limit"},
		{w.disp, "/v1/customers?name=zhang", 400, `\"name\"`},
		{w.disp, "/v1/assets?serial=", 400, "serial"},
		{w.disp, "/v1/assets?model=%01", 400, "model"},
		{w.disp, "/v1/sites?customer=nobody", 404, "nobody"},
		{w.disp, "/v1/sites?cursor=%25", 400, "cursor"},
	} {
		w.expectProblem(t, tt)
	}
}
