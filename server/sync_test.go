package server

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/sla"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/warranty"
)

// device is a technician's tablet speaking the sync protocol by hand.
type device struct {
	w       *dispatchWorld
	id      string
	token   string
	install string
	seq     int64
	cursor  string
	clock   *syncproto.Clock
	key     ed25519.PrivateKey // the signing key it registered at login
}

func (w *dispatchWorld) device(t *testing.T, login, id string) *device {
	t.Helper()
	key := newDeviceKey(t)
	s := w.loginWithKey(t, login, id, key.Public().(ed25519.PublicKey))
	return &device{w: w, id: id, token: s.AccessToken, install: s.InstallID, clock: syncproto.NewClock(id, w.clock.Now), key: key}
}

func (d *device) mutation(entity fieldsync.Entity, id, op, action string, fields map[string]any) syncproto.Mutation {
	d.seq++
	m := syncproto.Mutation{Seq: d.seq, Entity: entity, ID: id, Op: op, Action: action, HLC: d.clock.Now().String()}
	if fields != nil {
		m.Fields = map[string]json.RawMessage{}
		for k, v := range fields {
			raw, _ := json.Marshal(v)
			m.Fields[k] = raw
		}
	}
	return m
}

func (d *device) push(t *testing.T, ms ...syncproto.Mutation) []syncproto.Result {
	t.Helper()
	var resp syncproto.PushResponse
	d.w.call(t, d.token, "POST", "/v1/sync/push", syncproto.PushRequest{DeviceID: d.id, InstallID: d.install, Mutations: ms}, 200, &resp)
	if len(resp.Results) != len(ms) {
		t.Fatalf("%d results for %d mutations", len(resp.Results), len(ms))
	}
	return resp.Results
}

// pull reads every change after the device's cursor, page by page.
func (d *device) pull(t *testing.T) map[string]syncproto.Change {
	t.Helper()
	out := map[string]syncproto.Change{}
	for {
		var resp syncproto.PullResponse
		d.w.call(t, d.token, "GET", "/v1/sync/pull?limit=3&cursor="+d.cursor, nil, 200, &resp)
		for _, c := range resp.Changes {
			out[string(c.Entity)+"/"+c.ID] = c
		}
		d.cursor = resp.Cursor
		if !resp.HasMore {
			return out
		}
	}
}

func statuses(rs []syncproto.Result) string {
	s := ""
	for _, r := range rs {
		s += fmt.Sprintf("%d:%s:%s ", r.Seq, r.Status, r.Code)
	}
	return s
}

func TestSyncOfflineDayExactlyOnce(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, "", fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")

	got := tab.pull(t)
	for _, want := range []string{"visit/" + v.ID, "ticket/" + in.ticket, "customer/" + in.customer, "site/" + in.site, "asset/" + in.asset, "template/tv-v1"} {
		if c, ok := got[want]; !ok || c.Op != "upsert" || len(c.Data) == 0 || c.Rev == 0 {
			t.Fatalf("bootstrap lacks %s: %+v", want, got)
		}
	}

	// A day offline: depart, arrive, fill a report, complete.
	w.clock.Set(date(2026, 3, 10, 11))
	report := "0190f000-0000-7000-8000-000000000001"
	batch := []syncproto.Mutation{
		tab.mutation("visit", v.ID, "action", "depart", nil),
		tab.mutation("visit", v.ID, "action", "arrive", nil),
		tab.mutation("report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1", "answers": map[string]any{"power_on": true}, "findings": "竖线来自屏线松动"}),
		tab.mutation("visit", v.ID, "action", "complete", nil),
	}
	w.clock.Set(date(2026, 3, 10, 15)) // synced hours later
	if rs := tab.push(t, batch...); statuses(rs) != "1:applied: 2:applied: 3:applied: 4:applied: " {
		t.Fatalf("push: %s", statuses(rs))
	}
	// The same batch again (the answer was lost on the way): nothing twice.
	if rs := tab.push(t, batch...); statuses(rs) != "1:duplicate: 2:duplicate: 3:duplicate: 4:duplicate: " {
		t.Fatalf("replay: %s", statuses(rs))
	}
	var detail struct {
		Status    string     `json:"status"`
		ArrivedAt *time.Time `json:"arrived_at"`
		SLA       struct{ State string }
		Reports   []fieldsync.Report
	}
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &detail)
	if detail.Status != "completed" || len(detail.Reports) != 1 || detail.Reports[0].Findings != "竖线来自屏线松动" || string(detail.Reports[0].Answers["power_on"]) != "true" {
		t.Fatalf("dispatcher sees %+v", detail)
	}
	// The arrival counts at the time the tablet logged it, not at sync.
	if detail.ArrivedAt == nil || !detail.ArrivedAt.Equal(date(2026, 3, 10, 11)) || detail.SLA.State != "met" {
		t.Fatalf("arrival %v (%s), want 11:00 and met", detail.ArrivedAt, detail.SLA.State)
	}
	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=visit&id="+v.ID, nil, 200, &audit)
	if len(audit.Items) != 4 || audit.Items[3].DeviceID != "tab-a" {
		t.Fatalf("audit of the visit: %d entries (%+v)", len(audit.Items), audit.Items)
	}

	// The device's own pull brings back the server's versions.
	got = tab.pull(t)
	if c := got["visit/"+v.ID]; c.Op != "upsert" || !json.Valid(c.Data) {
		t.Fatalf("pull after push: %+v", got)
	}
	if got := tab.pull(t); len(got) != 0 {
		t.Fatalf("an incremental pull with nothing new returned %d changes", len(got))
	}
}

// TestSyncPullCarriesReferenceData pulls the reference data `fieldsync
// serve` publishes for tablets to count deadlines offline; the test
// client holds each record to the document's Calendar, SLAPolicy,
// WarrantyPolicy and PriceList.
func TestSyncPullCarriesReferenceData(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	policy, err := json.Marshal(sla.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.PublishReference(t.Context(), []bolt.Reference{
		{Entity: fieldsync.EntityCalendar, ID: "cn-2026", Data: calendar.DefaultSource()},
		{Entity: fieldsync.EntityPolicy, ID: "default", Data: policy},
		{Entity: fieldsync.EntityWarrantyPolicy, ID: warranty.PolicyID, Data: warranty.DefaultSource()},
		{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: quote.DefaultSource()},
	}); err != nil {
		t.Fatal(err)
	}
	got := w.device(t, "tech.a", "tab-a").pull(t)
	for _, id := range []string{"calendar/cn-2026", "policy/default", "warranty_policy/default", "price_list/default", "template/tv-v1"} {
		if c := got[id]; c.Op != syncproto.ChangeUpsert || len(c.Data) == 0 {
			t.Errorf("the pull has %s as %+v, want an upsert with its data", id, c)
		}
	}
}

func TestSyncSeqGapAndRefusalsDoNotBlock(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")

	bad := tab.mutation("visit", v.ID, "action", "complete", nil) // scheduled cannot complete
	unknown := tab.mutation("invoice", "x1", "upsert", "", map[string]any{"total": 1})
	good := tab.mutation("visit", v.ID, "action", "depart", nil)
	if rs := tab.push(t, bad, unknown, good); statuses(rs) != "1:conflict:invalid_transition 2:rejected:unknown_entity 3:applied: " {
		t.Fatalf("push: %s", statuses(rs))
	}
	// Sent again (the answer was lost): the refusals are answered again,
	// the applied one is a duplicate, and nothing changes.
	if rs := tab.push(t, bad, unknown, good); statuses(rs) != "1:conflict:invalid_transition 2:rejected:unknown_entity 3:duplicate: " {
		t.Fatalf("replay: %s", statuses(rs))
	}
	skip := syncproto.Mutation{Seq: 5, Entity: "visit", ID: v.ID, Op: "action", Action: "arrive", HLC: tab.clock.Now().String()}
	if rs := tab.push(t, skip); statuses(rs) != "5:rejected:seq_gap " {
		t.Fatalf("gap: %s", statuses(rs))
	}
	skip.Seq = 4
	if rs := tab.push(t, skip); statuses(rs) != "4:applied: " {
		t.Fatalf("the seq after a gap refusal must still apply: %s", statuses(rs))
	}
	var detail struct {
		Status      string
		RefusedWork []syncproto.Refusal `json:"refused_work"`
	}
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &detail)
	if detail.Status != "on_site" || len(detail.RefusedWork) != 1 || detail.RefusedWork[0].Code != "invalid_transition" {
		t.Fatalf("visit %+v", detail)
	}
}

func TestSyncTwoTabletsMergeADraftFieldByField(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	one := w.device(t, "tech.a", "tab-1")
	two := w.device(t, "tech.a", "tab-2")
	report := "0190f000-0000-7000-8000-0000000000aa"
	one.push(t, one.mutation("report", report, "upsert", "", map[string]any{"visit_id": v.ID, "template_id": "tv-v1"}))

	// Both offline: one writes findings and an answer, two writes the cause
	// and the same answer later; then both sync, the later one first.
	w.clock.Set(date(2026, 3, 10, 10))
	m1 := one.mutation("report", report, "upsert", "", map[string]any{"findings": "屏线松动", "answers": map[string]any{"power_on": false}})
	w.clock.Set(date(2026, 3, 10, 10).Add(time.Minute))
	m2 := two.mutation("report", report, "upsert", "", map[string]any{"cause": "运输震动", "answers": map[string]any{"power_on": true}})
	two.push(t, m2)
	one.push(t, m1)

	var r fieldsync.Report
	for _, c := range w.device(t, "disp", "d-disp-sync").pull(t) {
		if c.Entity == "report" && c.ID == report {
			json.Unmarshal(c.Data, &r)
		}
	}
	if r.Findings != "屏线松动" || r.Cause != "运输震动" || string(r.Answers["power_on"]) != "true" {
		t.Fatalf("merged draft %+v: want both texts and the later answer", r)
	}

	// Signed, the report refuses edits from either tablet.
	if rs := one.push(t, one.sign(t, report, signing{})); rs[0].Status != "rejected" || rs[0].Code != fieldsync.EReportIncomplete {
		t.Fatalf("signing an incomplete report: %s", statuses(rs))
	}
	answers := map[string]any{}
	tpl := w.template(t, "tv-v1")
	for _, it := range tpl.Items {
		if it.Required {
			answers[it.ID] = sampleAnswer(it)
		}
	}
	if rs := one.push(t, one.mutation("report", report, "upsert", "", map[string]any{"answers": answers})); rs[0].Status != "applied" {
		t.Fatalf("complete: %s", statuses(rs))
	}
	if rs := one.push(t, one.sign(t, report, signing{})); statuses(rs) != fmt.Sprintf("%d:applied: ", one.seq) {
		t.Fatalf("complete and sign: %s", statuses(rs))
	}
	if rs := two.push(t, two.mutation("report", report, "upsert", "", map[string]any{"findings": "改写"})); rs[0].Status != "conflict" || rs[0].Code != fieldsync.EReportSealed {
		t.Fatalf("edit after signing: %s", statuses(rs))
	}
}

func (w *dispatchWorld) template(t *testing.T, id string) fieldsync.Template {
	t.Helper()
	var tpl fieldsync.Template
	w.call(t, w.disp, "GET", "/v1/templates/"+id, nil, 200, &tpl)
	return tpl
}

func sampleAnswer(it fieldsync.ChecklistItem) any {
	switch it.Type {
	case fieldsync.ItemYesNo:
		return true
	case fieldsync.ItemChoice:
		return it.Options[0].Value
	case fieldsync.ItemNumber:
		if it.Min != nil {
			return *it.Min
		}
		return 1
	}
	return "ok"
}

func TestSyncReassignmentWhileOffline(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, "", fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	a := w.device(t, "tech.a", "tab-a")
	b := w.device(t, "tech.b", "tab-b")
	a.pull(t)
	b.pull(t)

	// A goes offline and works; meanwhile the dispatcher gives the visit to B.
	arrive := []syncproto.Mutation{a.mutation("visit", v.ID, "action", "depart", nil), a.mutation("visit", v.ID, "action", "arrive", nil)}
	w.call(t, w.disp, "POST", "/v1/visits/"+v.ID+"/assign", map[string]string{"technician_id": w.techBID}, 200, nil)

	got := b.pull(t)
	for _, want := range []string{"visit/" + v.ID, "ticket/" + in.ticket, "customer/" + in.customer, "site/" + in.site, "asset/" + in.asset} {
		if got[want].Op != "upsert" {
			t.Fatalf("B's backfill lacks %s: %+v", want, got)
		}
	}
	got = a.pull(t)
	for _, want := range []string{"visit/" + v.ID, "ticket/" + in.ticket, "customer/" + in.customer} {
		if got[want].Op != "evict" {
			t.Fatalf("A was not told to evict %s: %+v", want, got)
		}
	}
	if rs := a.push(t, arrive...); rs[0].Code != syncproto.CodeVisitReassigned || rs[0].Status != "conflict" || rs[1].Status != "conflict" {
		t.Fatalf("A's offline work: %s", statuses(rs))
	}
	var detail struct {
		Status      string
		RefusedWork []syncproto.Refusal `json:"refused_work"`
	}
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &detail)
	if detail.Status != "scheduled" || len(detail.RefusedWork) != 2 || detail.RefusedWork[0].UserID != w.techAID {
		t.Fatalf("A's work is not kept on the visit: %+v", detail)
	}
}

func TestSyncCursorsAndVersions(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	tab := w.device(t, "tech.a", "tab-a")
	tab.pull(t)
	tests := []struct {
		name, path, header string
		status             int
		code               string
	}{
		{"a cursor of another store resets", "/v1/sync/pull?cursor=ZGVhZGJlZWYuNQ", "", 409, fieldsync.ECursorReset},
		{"a cursor that is not base64 resets", "/v1/sync/pull?cursor=!!", "", 409, fieldsync.ECursorReset},
		{"a limit over 1000 is invalid", "/v1/sync/pull?limit=1001", "", 400, fieldsync.EInvalid},
		{"a wait over 30s is invalid", "/v1/sync/pull?wait=5m", "", 400, fieldsync.EInvalid},
		{"protocol 2 is not spoken here", "/v1/sync/pull", "2", 400, fieldsync.EUnsupportedProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", w.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+tab.token)
			if tt.header != "" {
				req.Header.Set(syncproto.Header, tt.header)
			}
			res, body := w.send(t, req)
			wantProblem(t, res, body, tt.status, tt.code)
		})
	}
	res, body := w.do(t, "POST", "/v1/sync/push", tab.token, syncproto.PushRequest{DeviceID: "someone-else"})
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
	res, body = w.do(t, "GET", "/v1/sync/pull", w.custA, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
}

func TestSyncLongPollWakesOnChange(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	tab := w.device(t, "tech.a", "tab-a")
	tab.pull(t)
	done := make(chan syncproto.PullResponse, 1)
	go func() {
		req, _ := http.NewRequest("GET", w.URL+"/v1/sync/pull?wait=20s&cursor="+tab.cursor, nil)
		req.Header.Set("Authorization", "Bearer "+tab.token)
		res, err := w.Client().Do(req)
		if err != nil {
			close(done)
			return
		}
		defer res.Body.Close()
		var resp syncproto.PullResponse
		json.NewDecoder(res.Body).Decode(&resp)
		done <- resp
	}()
	v := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	select {
	case resp := <-done:
		found := false
		for _, c := range resp.Changes {
			found = found || c.ID == v.ID
		}
		if !found {
			t.Fatalf("long poll woke without the new visit: %+v", resp)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("long poll did not wake on a new visit")
	}
}
