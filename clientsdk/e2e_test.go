package clientsdk

// End-to-end tests: the SDK against the REAL server — a bbolt store on a
// temp file, the real auth (argon2id passwords, signed tokens, revocable
// devices), real HTTP on loopback — with the dispatcher driving the server
// through its HTTP API. No fakes: only the tablet's network is wrapped, to
// cut it or lose answers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/auth/authproto"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

// e2eWorld is a real server with an admin, a dispatcher, two technicians
// and one visit (customer, site, asset, ticket) assigned to tech.a.
type e2eWorld struct {
	t     testing.TB
	srv   *httptest.Server
	store *bolt.DB

	admin, disp  string // access tokens
	techA, techB string // user ids
	ticket       string
	visit        string
}

const (
	e2eTechA = "tech.a"
	e2eTechB = "tech.b"
)

func e2ePassword(login string) string { return login + "-password" }

// opts adjust the server's dependencies (photo storage…) before it starts.
func newE2EWorld(t testing.TB, opts ...func(*server.Deps)) *e2eWorld {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PublishTemplates(context.Background(), templates.All()); err != nil {
		t.Fatal(err)
	}
	key, err := auth.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	issuer := auth.NewIssuer(keys)
	svc := auth.NewService(store, issuer, nil)
	deps := server.Deps{
		Store: store, Auth: svc, Issuer: issuer, Version: "e2e", Logger: slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&deps)
	}
	srv := httptest.NewServer(server.New(deps))
	// Every exchange with the server, the tablets' too, is held to its document.
	spec, err := os.ReadFile(filepath.Join("..", "server", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Client().Transport = testenv.OpenAPIValidator(t, spec, srv.Client().Transport)
	// Registered first, so it runs after every client opened by the test
	// has been closed.
	t.Cleanup(func() {
		srv.Close()
		store.Close()
	})
	w := &e2eWorld{t: t, srv: srv, store: store}
	ids := map[string]string{}
	for login, role := range map[string]fieldsync.Role{
		"admin": fieldsync.RoleAdmin, "disp": fieldsync.RoleDispatcher, e2eTechA: fieldsync.RoleTechnician, e2eTechB: fieldsync.RoleTechnician,
	} {
		u, err := svc.CreateUser(context.Background(), login, login, e2ePassword(login), role)
		if err != nil {
			t.Fatal(err)
		}
		ids[login] = u.ID
	}
	w.techA, w.techB = ids[e2eTechA], ids[e2eTechB]
	w.admin = w.login("admin", "d-admin")
	w.disp = w.login("disp", "d-disp")

	w.ticket = w.intake()
	w.visit = w.newVisit(w.ticket, w.techA)
	return w
}

// intake creates a customer, a site, an asset and a ticket, as the
// dispatcher, and returns the ticket's id.
func (w *e2eWorld) intake() string {
	w.t.Helper()
	var c, s, a, tk struct{ ID string }
	w.call(w.disp, "POST", "/v1/customers", map[string]string{"name": "刘女士", "phone": "138 0013 8000"}, 201, &c)
	w.call(w.disp, "POST", "/v1/sites", map[string]string{"customer_id": c.ID, "address": "上海市浦东新区世纪大道100号", "zone": string(fieldsync.ZoneCity)}, 201, &s)
	w.call(w.disp, "POST", "/v1/assets", map[string]string{"customer_id": c.ID, "category": "tv", "model": "65E7K", "serial": "SN1", "invoice_date": "2026-01-15"}, 201, &a)
	w.call(w.disp, "POST", "/v1/tickets", map[string]string{"customer_id": c.ID, "site_id": s.ID, "asset_id": a.ID, "channel": "hotline", "kind": "repair", "description": "屏幕有竖线"}, 201, &tk)
	return tk.ID
}

// newVisit plans a visit of ticket for tech, as the dispatcher.
func (w *e2eWorld) newVisit(ticket, tech string) string {
	w.t.Helper()
	start := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Second)
	var v struct{ ID string }
	w.call(w.disp, "POST", "/v1/visits", map[string]any{"ticket_id": ticket, "technician_id": tech, "window_start": start, "window_end": start.Add(2 * time.Hour)}, 201, &v)
	return v.ID
}

// login signs a staff member in over HTTP and returns the access token.
func (w *e2eWorld) login(login, device string) string {
	w.t.Helper()
	var s authproto.Tokens
	w.call("", "POST", "/v1/auth/login", map[string]string{"login": login, "password": e2ePassword(login), "device_id": device, "device_name": device}, 200, &s)
	return s.AccessToken
}

// call sends a JSON request and decodes the answer into out; any other
// status than want fails the test.
func (w *e2eWorld) call(token, method, path string, body any, want int, out any) {
	w.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, r)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	if res.StatusCode != want {
		w.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			w.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// e2eVisit is the dispatcher's view of a visit (GET /v1/visits/{id}).
type e2eVisit struct {
	fieldsync.Visit
	Reports     []fieldsync.Report  `json:"reports"`
	RefusedWork []syncproto.Refusal `json:"refused_work"`
}

func (w *e2eWorld) dispatcherVisit(id string) e2eVisit {
	w.t.Helper()
	var v e2eVisit
	w.call(w.disp, "GET", "/v1/visits/"+id, nil, 200, &v)
	return v
}

// auditActions returns the actions of a record's audit trail, oldest
// first, read by the admin.
func (w *e2eWorld) auditActions(entity, id string) []string {
	w.t.Helper()
	var out []string
	cursor := ""
	for {
		var page struct {
			Items      []fieldsync.AuditEntry `json:"items"`
			NextCursor string                 `json:"next_cursor"`
		}
		w.call(w.admin, "GET", "/v1/audit?limit=200&entity="+entity+"&id="+id+"&cursor="+cursor, nil, 200, &page)
		for _, e := range page.Items {
			out = append(out, e.Action)
		}
		if page.NextCursor == "" || len(page.Items) == 0 {
			return out
		}
		cursor = page.NextCursor
	}
}

// tablet is one technician's device: its file, its client and its network.
type tablet struct {
	c    *Client
	net  *netSwitch
	path string
	opts Options
}

// tablet opens a device on a fresh file; its network goes to the real
// server. PollWait is off unless the test turns it on (opts).
func (w *e2eWorld) tablet(t *testing.T, device string, opts ...func(*Options)) *tablet {
	t.Helper()
	tb := &tablet{net: &netSwitch{next: w.srv.Client(), blocked: map[string]bool{}}, path: filepath.Join(t.TempDir(), device+".db")}
	tb.opts = Options{Key: testKey, ServerURL: w.srv.URL, DeviceID: device, DeviceName: "Tablet " + device, Transport: tb.net, PollWait: -1}
	for _, o := range opts {
		o(&tb.opts)
	}
	tb.open(t)
	return tb
}

// open (re)opens the tablet's file; the client is closed when the test ends.
func (tb *tablet) open(t *testing.T) {
	t.Helper()
	c, err := Open(tb.path, tb.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tb.c = c
}

func (tb *tablet) login(t *testing.T, login string) {
	t.Helper()
	if err := tb.c.Login(context.Background(), login, e2ePassword(login)); err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
}

func (tb *tablet) sync(t *testing.T) SyncReport {
	t.Helper()
	rep, err := tb.c.Sync(context.Background())
	if err != nil {
		t.Fatalf("sync %s: %v", tb.opts.DeviceID, err)
	}
	return rep
}

func (tb *tablet) offline(down bool) { tb.net.set(func(n *netSwitch) { n.down = down }) }

func (tb *tablet) lists(t *testing.T, visit string) bool {
	t.Helper()
	vs, err := tb.c.Visits()
	must(t, err)
	return slices.ContainsFunc(vs, func(v fieldsync.Visit) bool { return v.ID == visit })
}

// e2eAnswers answers every required item of tv-v1 (and one optional one)
// with a value it accepts, and returns what it answered.
func e2eAnswers(t *testing.T, c *Client, report string) map[string]string {
	t.Helper()
	tpl, _ := templates.ByID("tv-v1")
	out := map[string]string{}
	for _, it := range tpl.Items {
		var v any
		switch it.Type {
		case fieldsync.ItemYesNo:
			v = true
		case fieldsync.ItemChoice:
			v = it.Options[len(it.Options)-1].Value
		case fieldsync.ItemNumber:
			v = 65.0
		default:
			v = "竖线, 屏线松动"
		}
		if !it.Required && it.ID != "remote_works" {
			continue
		}
		must(t, c.SetAnswer(report, it.ID, v))
		raw, _ := json.Marshal(v)
		out[it.ID] = string(raw)
	}
	return out
}

func countOf(actions []string, action string) int {
	n := 0
	for _, a := range actions {
		if a == action {
			n++
		}
	}
	return n
}

// A day offline: everything done on the tablet without network reaches
// the server in one sync, and nothing is left to push afterwards.
func TestE2EOfflineDayReachesServerOnReconnect(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	if rep := tab.sync(t); rep.Pulled == 0 || rep.Pushed != 0 {
		t.Fatalf("bootstrap: %+v", rep)
	}
	if !tab.lists(t, w.visit) {
		t.Fatal("after the bootstrap the tablet does not list the technician's visit")
	}
	tpls, err := tab.c.Templates()
	must(t, err)
	if !slices.ContainsFunc(tpls, func(t fieldsync.Template) bool { return t.ID == "tv-v1" }) {
		t.Fatalf("after the bootstrap the tablet has no tv-v1 template (%d templates)", len(tpls))
	}
	b, err := tab.c.Bundle(w.visit)
	must(t, err)
	if b.Ticket.ID != w.ticket || b.Customer.ID == "" || b.Site.ID == "" || b.Asset.ID == "" {
		t.Fatalf("the bundle lacks parts: %+v", b)
	}

	tab.offline(true)
	must(t, tab.c.Depart(w.visit))
	must(t, tab.c.Arrive(w.visit))
	report, err := tab.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	answers := e2eAnswers(t, tab.c, report)
	findings := "no picture, loose panel cable / 屏线松动"
	must(t, tab.c.SetReport(report, ReportFields{Findings: &findings}))
	must(t, tab.c.Complete(w.visit))
	must(t, tab.c.SignReport(report, noPhotos("tv-v1")))
	writes := 3 + len(answers) + 3 // depart, arrive, create; answers; findings, complete, sign

	if _, err := tab.c.Sync(context.Background()); err == nil {
		t.Fatal("a sync without network succeeded")
	}
	if s := status(t, tab.c); s.Pending != writes || s.LastError == "" {
		t.Fatalf("offline status %+v: want %d pending and the last error", s, writes)
	}
	if v := visitOf(t, tab.c, w.visit); v.Status != fieldsync.VisitCompleted {
		t.Fatalf("the tablet shows the visit %s, want completed", v.Status)
	}
	if got := w.dispatcherVisit(w.visit); got.Status != fieldsync.VisitScheduled || len(got.Reports) != 0 {
		t.Fatalf("the server saw offline work: %s, %d reports", got.Status, len(got.Reports))
	}

	tab.offline(false)
	rep := tab.sync(t)
	if rep.Pushed != writes || rep.Applied != writes || rep.Refused != 0 || rep.Duplicates != 0 {
		t.Fatalf("reconnect: %+v, want %d applied", rep, writes)
	}
	got := w.dispatcherVisit(w.visit)
	if got.Status != fieldsync.VisitCompleted || got.ArrivedAt == nil || got.FinishedAt == nil {
		t.Fatalf("the dispatcher sees the visit %s (arrived %v, completed %v), want completed", got.Status, got.ArrivedAt, got.FinishedAt)
	}
	if len(got.Reports) != 1 {
		t.Fatalf("the dispatcher sees %d reports, want 1", len(got.Reports))
	}
	r := got.Reports[0]
	// Every required slot has a reason, so the server seals the report as
	// soon as the signature arrives.
	if r.ID != report || r.Status != fieldsync.ReportSealed || r.Seal == nil || r.SignedBy != w.techA || r.Findings != findings {
		t.Fatalf("the dispatcher sees the report %+v", r)
	}
	for item, want := range answers {
		if g := string(r.Answers[item]); g != want {
			t.Errorf("answer %s: the server has %s, want %s", item, g, want)
		}
	}
	if len(r.Answers) != len(answers) {
		t.Errorf("the server has %d answers, want %d", len(r.Answers), len(answers))
	}
	if len(got.RefusedWork) != 0 {
		t.Errorf("refused work: %+v", got.RefusedWork)
	}

	if rep := tab.sync(t); rep.Pushed != 0 {
		t.Fatalf("a second sync pushed %d mutations", rep.Pushed)
	}
	if n := len(outboxOf(t, tab.c)); n != 0 {
		t.Fatalf("the outbox holds %d entries after the sync", n)
	}
	if s := status(t, tab.c); s.Pending != 0 || s.Refused != 0 || s.LastError != "" || s.LastSync.IsZero() {
		t.Fatalf("status after the sync: %+v", s)
	}
	// The tablet now reads the server's own copy.
	lr, err := tab.c.Report(report)
	must(t, err)
	if lr.Status != fieldsync.ReportSealed || lr.Seal == nil || lr.Findings != findings || lr.SignedBy != w.techA {
		t.Fatalf("the tablet shows the report %+v", lr)
	}
}

// Two tablets of one technician edit one draft offline: the server merges
// field by field, and the later edit of the same answer wins whatever the
// order the tablets sync in.
func TestE2ETwoDevicesMergeADraftFieldByField(t *testing.T) {
	w := newE2EWorld(t)
	clock := testenv.NewClock(time.Now())
	withClock := func(o *Options) { o.Now = clock.Now }
	one := w.tablet(t, "tab-1", withClock)
	two := w.tablet(t, "tab-2", withClock)
	one.login(t, e2eTechA)
	two.login(t, e2eTechA)
	one.sync(t)
	report, err := one.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	one.sync(t)
	two.sync(t)
	if _, err := two.c.Report(report); err != nil {
		t.Fatalf("the second tablet did not receive the draft: %v", err)
	}

	one.offline(true)
	two.offline(true)
	findings, cause := "vertical lines from the left edge", "panel cable loosened in transport"
	must(t, one.c.SetReport(report, ReportFields{Findings: &findings}))
	must(t, one.c.SetAnswer(report, "fault_description", "answer A (tab-1, earlier)"))
	must(t, one.c.SetAnswer(report, "power_on", false))
	clock.Advance(time.Minute)
	must(t, two.c.SetReport(report, ReportFields{Cause: &cause}))
	must(t, two.c.SetAnswer(report, "fault_description", "answer B (tab-2, later)"))
	must(t, two.c.SetAnswer(report, "picture_fault", "lines"))

	// The later edit syncs first: arrival order must not decide.
	two.offline(false)
	one.offline(false)
	if rep := two.sync(t); rep.Applied != 3 {
		t.Fatalf("tab-2: %+v", rep)
	}
	if rep := one.sync(t); rep.Applied != 3 {
		t.Fatalf("tab-1: %+v", rep)
	}
	two.sync(t)
	one.sync(t)

	for _, tb := range []*tablet{one, two} {
		r, err := tb.c.Report(report)
		must(t, err)
		if r.Findings != findings || r.Cause != cause {
			t.Errorf("%s shows findings %q and cause %q, want both edits", tb.opts.DeviceID, r.Findings, r.Cause)
		}
		if got := string(r.Answers["fault_description"]); got != `"answer B (tab-2, later)"` {
			t.Errorf("%s shows fault_description %s, want the later edit", tb.opts.DeviceID, got)
		}
		if string(r.Answers["power_on"]) != "false" || string(r.Answers["picture_fault"]) != `"lines"` {
			t.Errorf("%s shows answers %s, want both tablets' other answers", tb.opts.DeviceID, r.Answers)
		}
		if s := status(t, tb.c); s.Pending != 0 || s.Refused != 0 {
			t.Errorf("%s status %+v", tb.opts.DeviceID, s)
		}
	}
	srv := w.dispatcherVisit(w.visit).Reports
	if len(srv) != 1 || srv[0].Findings != findings || srv[0].Cause != cause || string(srv[0].Answers["fault_description"]) != `"answer B (tab-2, later)"` {
		t.Fatalf("the dispatcher sees %+v", srv)
	}
}

// A push whose answer is lost is sent again: the server answers
// duplicates and applies nothing twice, as its audit trail shows.
func TestE2EReplayedPushesApplyExactlyOnce(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)

	tab.offline(true)
	must(t, tab.c.Depart(w.visit))
	must(t, tab.c.Arrive(w.visit))
	report, err := tab.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	answers := e2eAnswers(t, tab.c, report)
	must(t, tab.c.SignReport(report, noPhotos("tv-v1")))
	must(t, tab.c.Complete(w.visit))
	writes := 2 + 1 + len(answers) + 2
	tab.offline(false)

	// Twice: the server applies the batch, and the tablet never hears.
	tab.net.set(func(n *netSwitch) { n.loseAnswers = true })
	for range 2 {
		if _, err := tab.c.Sync(context.Background()); err == nil {
			t.Fatal("a sync whose answer was lost succeeded")
		}
		if n := status(t, tab.c).Pending; n != writes {
			t.Fatalf("%d pending after a lost answer, want all %d kept", n, writes)
		}
	}
	if got := w.dispatcherVisit(w.visit); got.Status != fieldsync.VisitCompleted {
		t.Fatalf("the lost push did not reach the server: visit %s", got.Status)
	}
	tab.net.set(func(n *netSwitch) { n.loseAnswers = false })
	rep := tab.sync(t)
	if rep.Pushed != writes || rep.Duplicates != writes || rep.Applied != 0 || rep.Refused != 0 {
		t.Fatalf("the retry: %+v, want %d duplicates and nothing applied", rep, writes)
	}
	if s := status(t, tab.c); s.Pending != 0 || s.Refused != 0 {
		t.Fatalf("status %+v", s)
	}

	visit := w.auditActions("visit", w.visit)
	for _, a := range []string{"visit.create", "visit.depart", "visit.arrive", "visit.complete"} {
		if n := countOf(visit, a); n != 1 {
			t.Errorf("the visit's audit holds %s %d times, want once: %v", a, n, visit)
		}
	}
	if len(visit) != 4 {
		t.Errorf("the visit's audit: %v", visit)
	}
	rep2 := w.auditActions("report", report)
	if countOf(rep2, "report.create") != 1 || countOf(rep2, "report.update") != len(answers) || countOf(rep2, "report.sign") != 1 || countOf(rep2, "report.seal") != 1 || len(rep2) != len(answers)+3 {
		t.Errorf("the report's audit: %v, want create, %d updates, sign, seal", rep2, len(answers))
	}
	r := w.dispatcherVisit(w.visit).Reports
	if len(r) != 1 || r[0].Status != fieldsync.ReportSealed {
		t.Fatalf("reports %+v", r)
	}
}

// A visit reassigned while its technician is offline: the new technician
// receives it, the old one's work is refused as visit_reassigned — listed
// on their tablet and kept on the server for the dispatcher — and the
// visit leaves the old tablet once that work is answered.
func TestE2EReassignedWhileOfflineKeepsRefusedWorkAndEvicts(t *testing.T) {
	w := newE2EWorld(t)
	a := w.tablet(t, "tab-a")
	a.login(t, e2eTechA)
	a.sync(t)
	must(t, a.c.Depart(w.visit))
	report, err := a.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	a.sync(t)

	a.offline(true)
	must(t, a.c.Arrive(w.visit))
	must(t, a.c.SetAnswer(report, "power_on", false))
	must(t, a.c.SetAnswer(report, "fault_description", "no picture"))
	offline := outboxOf(t, a.c)
	if len(offline) != 3 {
		t.Fatalf("outbox %d, want 3", len(offline))
	}

	var assigned struct {
		TechnicianID string                `json:"technician_id"`
		Status       fieldsync.VisitStatus `json:"status"`
	}
	w.call(w.disp, "POST", "/v1/visits/"+w.visit+"/assign", map[string]string{"technician_id": w.techB}, 200, &assigned)
	if assigned.TechnicianID != w.techB || assigned.Status != fieldsync.VisitScheduled {
		t.Fatalf("reassigned visit %+v", assigned)
	}

	b := w.tablet(t, "tab-b")
	b.login(t, e2eTechB)
	b.sync(t)
	bundle, err := b.c.Bundle(w.visit)
	if err != nil {
		t.Fatalf("tech B did not receive the visit: %v", err)
	}
	if bundle.Visit.TechnicianID != w.techB || bundle.Ticket.ID != w.ticket || bundle.Asset.ID == "" || len(bundle.Reports) != 1 || bundle.Reports[0].ID != report {
		t.Fatalf("tech B's bundle %+v", bundle)
	}

	// A's tablet first hears of the eviction while its push cannot get
	// through: the visit stays, with the work done on it.
	a.offline(false)
	a.net.set(func(n *netSwitch) { n.blocked["/v1/sync/push"] = true })
	if _, err := a.c.records.in.poll(context.Background()); err != nil {
		t.Fatalf("pull: %v", err)
	}
	if !a.lists(t, w.visit) {
		t.Fatal("the eviction dropped a visit that still has unsynced work")
	}
	if v := visitOf(t, a.c, w.visit); v.Status != fieldsync.VisitOnSite {
		t.Fatalf("tablet A shows its evicted visit %s, want its own arrival laid over", v.Status)
	}

	a.net.set(func(n *netSwitch) { delete(n.blocked, "/v1/sync/push") })
	rep := a.sync(t)
	if rep.Refused != 3 || rep.Applied != 0 {
		t.Fatalf("A's sync: %+v, want 3 refused", rep)
	}
	if a.lists(t, w.visit) {
		t.Fatal("tablet A still lists the reassigned visit once its work was answered")
	}
	if _, err := a.c.Bundle(w.visit); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("tablet A's bundle of the reassigned visit: %v", err)
	}
	if _, err := a.c.Report(report); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("tablet A still holds the report of the reassigned visit: %v", err)
	}
	conflicts, err := a.c.Conflicts()
	must(t, err)
	if len(conflicts) != len(offline) {
		t.Fatalf("A's conflicts: %+v, want %d", conflicts, len(offline))
	}
	for i, f := range conflicts {
		if f.Code != syncproto.CodeVisitReassigned || f.Status != syncproto.Conflict || f.Mutation.Seq != offline[i].Seq {
			t.Errorf("conflict %d: %+v, want seq %d visit_reassigned", i, f, offline[i].Seq)
		}
	}
	if s := status(t, a.c); s.Pending != 0 || s.Refused != len(offline) {
		t.Fatalf("A's status %+v", s)
	}

	got := w.dispatcherVisit(w.visit)
	if got.TechnicianID != w.techB || got.Status != fieldsync.VisitScheduled {
		t.Fatalf("the refused work changed the visit: %+v", got.Visit)
	}
	if len(got.RefusedWork) != len(offline) {
		t.Fatalf("the dispatcher sees %d refused mutations, want %d: %+v", len(got.RefusedWork), len(offline), got.RefusedWork)
	}
	for i, f := range got.RefusedWork {
		m := offline[i]
		if f.Code != syncproto.CodeVisitReassigned || f.DeviceID != "tab-a" || f.UserID != w.techA ||
			f.Mutation.Seq != m.Seq || f.Mutation.Entity != m.Entity || f.Mutation.Action != m.Action || f.VisitID != w.visit {
			t.Errorf("refused work %d: %+v, want %+v", i, f, m)
		}
	}
	if len(got.Reports) != 1 || got.Reports[0].Answers["power_on"] != nil {
		t.Fatalf("A's refused answers reached the report: %+v", got.Reports)
	}
	// Refused work is answered again on a replay, and stays on the server.
	if rep := a.sync(t); rep.Pushed != 0 {
		t.Fatalf("a later sync pushed %d", rep.Pushed)
	}
	if n := len(w.dispatcherVisit(w.visit).RefusedWork); n != len(offline) {
		t.Fatalf("refused work went from %d to %d", len(offline), n)
	}
}

// A revoked tablet stops syncing with ErrDeviceRevoked and keeps its
// unsynced work, across a restart too (what it forgets:
// TestE2ERevokedDeviceForgetsSyncedDataAndExportsItsWork).
func TestE2ERevokedDeviceStopsSyncingAndKeepsLocalWork(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	must(t, tab.c.Depart(w.visit))
	must(t, tab.c.Arrive(w.visit))
	before := outboxOf(t, tab.c)

	w.call(w.admin, "POST", "/v1/devices/tab-a/revoke", nil, 200, nil)

	_, err := tab.c.Sync(context.Background())
	if !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("sync of a revoked device: %v, want ErrDeviceRevoked", err)
	}
	if got := w.dispatcherVisit(w.visit); got.Status != fieldsync.VisitScheduled {
		t.Fatalf("a revoked device's push was applied: %s", got.Status)
	}
	check := func(c *Client) {
		t.Helper()
		s := status(t, c)
		if s.Pending != len(before) || s.SignedIn || s.UserID != w.techA {
			t.Fatalf("status of the revoked device %+v", s)
		}
		if after := outboxOf(t, c); len(after) != len(before) || after[0].Seq != before[0].Seq {
			t.Fatalf("the outbox changed: %+v, was %+v", after, before)
		}
	}
	check(tab.c)
	reached, _ := tab.net.counts()
	if _, err := tab.c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("a second sync: %v", err)
	}
	if again, _ := tab.net.counts(); again != reached {
		t.Errorf("a stopped device still called the server (%d requests)", again-reached)
	}

	must(t, tab.c.Close())
	tab.open(t)
	check(tab.c)
	if _, err := tab.c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("sync after a restart: %v", err)
	}
	wantCode(t, tab.c.Login(context.Background(), e2eTechA, e2ePassword(e2eTechA)), fieldsync.EDeviceRevoked)
	check(tab.c)
}

// Start syncs a local change by itself, and brings the dispatcher's news
// through the long poll without any local write.
func TestE2EBackgroundSyncPushesLocalChangesAndPullsNews(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a", func(o *Options) {
		o.PollWait = 5 * time.Second
		o.Debounce = 5 * time.Millisecond
		o.MinBackoff, o.MaxBackoff = 5*time.Millisecond, 50*time.Millisecond
	})
	tab.login(t, e2eTechA)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, tab.c.Start(ctx))
	waitFor(t, "the bootstrap", func() bool { return tab.lists(t, w.visit) })

	must(t, tab.c.Depart(w.visit))
	waitFor(t, "the outbox to empty", func() bool { return status(t, tab.c).Pending == 0 })
	if got := w.dispatcherVisit(w.visit); got.Status != fieldsync.VisitEnRoute {
		t.Fatalf("the dispatcher sees %s, want en_route", got.Status)
	}
	if s := status(t, tab.c); !s.Running || s.LastError != "" || s.Refused != 0 {
		t.Fatalf("status %+v", s)
	}

	second := w.newVisit(w.intake(), w.techA)
	waitFor(t, "the new visit to arrive by the long poll", func() bool { return tab.lists(t, second) })
}

// An edit made after reading another tablet's edit of the same field is
// the later one, and wins, even when this tablet's clock runs behind the
// other's (within the skew the server accepts): pulled stamps move the
// device's clock, across a restart too.
func TestE2EAnEditMadeAfterSeeingAnotherWinsDespiteClockSkew(t *testing.T) {
	w := newE2EWorld(t)
	fast := testenv.NewClock(time.Now().Add(2 * time.Minute))
	one := w.tablet(t, "tab-1", func(o *Options) { o.Now = fast.Now })
	two := w.tablet(t, "tab-2")
	one.login(t, e2eTechA)
	two.login(t, e2eTechA)
	one.sync(t)
	report, err := one.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	first := "lines on the left edge (tab-1)"
	must(t, one.c.SetReport(report, ReportFields{Findings: &first}))
	must(t, one.c.SetAnswer(report, "fault_description", "first look (tab-1)"))
	one.sync(t)

	two.sync(t)
	r, err := two.c.Report(report)
	must(t, err)
	if r.Findings != first {
		t.Fatalf("tab-2 reads findings %q, want tab-1's", r.Findings)
	}
	must(t, two.c.Close()) // the stamps seen must survive a restart
	two.open(t)
	second := "panel cable loose, reseated (tab-2, after reading tab-1)"
	must(t, two.c.SetReport(report, ReportFields{Findings: &second}))
	must(t, two.c.SetAnswer(report, "fault_description", "fixed (tab-2)"))
	if rep := two.sync(t); rep.Applied != 2 {
		t.Fatalf("tab-2's sync: %+v", rep)
	}
	one.sync(t)

	srv := w.dispatcherVisit(w.visit).Reports
	if len(srv) != 1 || srv[0].Findings != second || string(srv[0].Answers["fault_description"]) != `"fixed (tab-2)"` {
		t.Fatalf("the server kept %+v, want tab-2's later edits", srv)
	}
	for _, tb := range []*tablet{one, two} {
		r, err := tb.c.Report(report)
		must(t, err)
		if r.Findings != second {
			t.Errorf("%s reads findings %q, want the later edit", tb.opts.DeviceID, r.Findings)
		}
	}
}

// Work on a report created offline on a visit reassigned meanwhile is kept
// for the dispatcher: every refused mutation, the report's later edits
// included, is listed in the visit's refused_work.
func TestE2EReassignedWhileOfflineKeepsEditsOfAReportCreatedOffline(t *testing.T) {
	w := newE2EWorld(t)
	a := w.tablet(t, "tab-a")
	a.login(t, e2eTechA)
	a.sync(t)
	a.offline(true)
	must(t, a.c.Depart(w.visit))
	must(t, a.c.Arrive(w.visit))
	report, err := a.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	must(t, a.c.SetAnswer(report, "power_on", false))
	findings := "no picture"
	must(t, a.c.SetReport(report, ReportFields{Findings: &findings}))
	offline := outboxOf(t, a.c)
	w.call(w.disp, "POST", "/v1/visits/"+w.visit+"/assign", map[string]string{"technician_id": w.techB}, 200, nil)
	a.offline(false)
	if rep := a.sync(t); rep.Refused != len(offline) {
		t.Fatalf("sync: %+v", rep)
	}
	got := w.dispatcherVisit(w.visit).RefusedWork
	if len(got) != len(offline) {
		t.Fatalf("the dispatcher sees %d of the %d refused mutations: %+v", len(got), len(offline), got)
	}
	for i, f := range got {
		if f.Mutation.Seq != offline[i].Seq || f.VisitID != w.visit {
			t.Errorf("refused work %d: %+v", i, f)
		}
	}
}
