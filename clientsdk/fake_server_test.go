package clientsdk

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth/authproto"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

// fakeServer is a TEST DOUBLE of the server's auth and sync endpoints
// (docs/sync.md) over in-memory maps, for testing the SDK while the real
// engine is being written. It keeps the rules the SDK relies on and no
// more: access tokens that expire, refresh tokens that rotate (a reused one
// revokes its family), revocable devices, the protocol header, dedupe by
// seq per device and in-order apply, the visit state machine, draft reports
// merged field by field, partitions by technician with evictions, and
// cursors bound to an epoch. Revisions are positions in one change feed.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	users     map[string]fakeUser // login -> user
	access    map[string]fakeToken
	refresh   map[string]*fakeToken
	revoked   map[string]bool  // device id
	highSeq   map[string]int64 // device id -> highest consumed seq
	records   map[string]*fakeRecord
	evictions []fakeEviction
	feed      int64 // last change's position; every rev is one
	epoch     string
	wake      chan struct{} // closed and replaced on every change
	expiresIn int
	bodyLimit int64 // push bodies larger than this answer 413; 0: 1 MiB as the server's default

	// What the tests look at.
	pushes    [][]int64 // seqs of each push request, in order
	applied   []int64   // seqs applied, in order (each at most once per device)
	refreshes int
	unauth    int      // 401 answers
	issued    []string // every token handed out

	keys   map[string]string               // device id -> the device_key its last login presented
	signed map[string]fieldsync.SignAction // report id -> its sign action, parsed
}

type fakeUser struct{ id, password string }

type fakeToken struct {
	user, device, family string
	used                 bool
}

type fakeRecord struct {
	entity, id string
	owner      string // the technician who sees it; "" for reference data
	rev        int64
	deleted    bool
	data       json.RawMessage
}

type fakeEviction struct {
	at         int64
	user       string
	entity, id string
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{
		t: t, users: map[string]fakeUser{}, access: map[string]fakeToken{}, refresh: map[string]*fakeToken{},
		revoked: map[string]bool{}, highSeq: map[string]int64{}, records: map[string]*fakeRecord{},
		keys: map[string]string{}, signed: map[string]fieldsync.SignAction{},
		epoch: "e1", wake: make(chan struct{}), expiresIn: 900,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/login", f.login)
	mux.HandleFunc("POST /v1/auth/refresh", f.refreshToken)
	mux.HandleFunc("POST /v1/sync/push", f.authed(f.push))
	mux.HandleFunc("GET /v1/sync/pull", f.authed(f.pull))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// ---- what a dispatcher or an admin would do ----

func (f *fakeServer) addTechnician(login, password string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := "user-" + login
	f.users[login] = fakeUser{id: id, password: password}
	return id
}

func (f *fakeServer) addTemplate(id string) {
	tpl, ok := templates.ByID(id)
	if !ok {
		f.t.Fatalf("no template %s", id)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.put("template", id, "", tpl)
}

// addVisit creates a visit with its ticket, customer, site and asset,
// assigned to tech, and returns the visit's id.
// visitsBooked is when the fake's visits were booked: before any
// harness clock starts, since no step of a visit is recorded before its
// booking.
var visitsBooked = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (f *fakeServer) addVisit(tech, name string, status fieldsync.VisitStatus) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Second)
	f.put("customer", "cust-"+name, tech, fieldsync.Customer{ID: "cust-" + name, Name: "Customer " + name, Phone: "138 0000 0000", CreatedAt: now})
	f.put("site", "site-"+name, tech, fieldsync.Site{ID: "site-" + name, CustomerID: "cust-" + name, Address: "1 Road", Zone: fieldsync.ZoneCity, CreatedAt: now})
	f.put("asset", "asset-"+name, tech, fieldsync.Asset{ID: "asset-" + name, CustomerID: "cust-" + name, Category: fieldsync.CategoryTV, Model: "X1", Serial: "SN-" + name, CreatedAt: now})
	f.put("ticket", "ticket-"+name, tech, fieldsync.Ticket{ID: "ticket-" + name, CustomerID: "cust-" + name, SiteID: "site-" + name, AssetID: "asset-" + name,
		Channel: fieldsync.ChannelHotline, Kind: fieldsync.KindRepair, Description: "no picture", CreatedAt: now})
	id := "visit-" + name
	f.put("visit", id, tech, fieldsync.Visit{ID: id, TicketID: "ticket-" + name, TechnicianID: tech, Status: status,
		WindowStart: now.Add(time.Hour), WindowEnd: now.Add(3 * time.Hour), CreatedAt: visitsBooked, UpdatedAt: now})
	return id
}

// setVisitStatus is a change made on the server (a dispatcher cancelling).
func (f *fakeServer) setVisitStatus(id string, s fieldsync.VisitStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.visit(id)
	v.Status = s
	f.put("visit", id, f.records[key("visit", id)].owner, v)
}

// seal is the server sealing a signed report: its status sealed, with a
// seal of the hash the device signed.
func (f *fakeServer) seal(id string) fieldsync.Seal {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.records[key("report", id)]
	var r fieldsync.Report
	f.check(json.Unmarshal(rec.data, &r))
	s := fieldsync.Seal{Version: fieldsync.SealVersion, ReportID: id, Hash: r.Signature.Hash, DeviceID: r.Signature.DeviceID,
		DeviceKeyID: r.Signature.KeyID, DeviceSignature: r.Signature.Value, SealedAt: "2026-03-02T10:00:00Z", LogIndex: 0, KeyID: "server-key-1", Signature: "c2ln"}
	f.check(r.Sealed(s, time.Now()))
	f.put("report", id, rec.owner, r)
	return s
}

// record decodes the fake's copy of a record.
func record[T any](f *fakeServer, entity, id string) T {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v T
	f.check(json.Unmarshal(f.records[key(entity, id)].data, &v))
	return v
}

// reassign moves a visit's bundle to another technician: backfilled to
// them, evicted from the old one.
func (f *fakeServer) reassign(visitID, to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.visit(visitID)
	old := v.TechnicianID
	v.TechnicianID = to
	raw, err := json.Marshal(v)
	f.check(err)
	f.records[key("visit", visitID)].data = raw
	name := strings.TrimPrefix(visitID, "visit-")
	bundle := []string{key("visit", visitID), key("ticket", "ticket-"+name), key("customer", "cust-"+name),
		key("site", "site-"+name), key("asset", "asset-"+name)}
	for k, r := range f.records {
		if r.entity == "report" && strings.Contains(string(r.data), `"visit_id":"`+visitID+`"`) {
			bundle = append(bundle, k)
		}
	}
	for _, k := range bundle {
		r := f.records[k]
		f.put(r.entity, r.id, to, r.data)
		f.evictions = append(f.evictions, fakeEviction{at: f.feed, user: old, entity: r.entity, id: r.id})
	}
}

// remove deletes a record (announced in the feed when announce is set;
// otherwise it just vanishes, as after a restore from an older backup).
func (f *fakeServer) remove(entity, id string, announce bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !announce {
		delete(f.records, key(entity, id))
		return
	}
	r := f.records[key(entity, id)]
	f.feed++
	r.deleted, r.rev = true, f.feed
	f.changed()
}

// restore gives the server a new epoch, as a restore from a backup does:
// every cursor issued before is unknown.
func (f *fakeServer) restore() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch += "'"
	f.evictions = nil
}

func (f *fakeServer) revoke(device string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[device] = true
}

// expireAccess makes every access token invalid, as time would.
func (f *fakeServer) expireAccess() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.access)
}

// ---- what the tests read ----

func (f *fakeServer) Visit(id string) fieldsync.Visit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.visit(id)
}

func (f *fakeServer) Report(id string) (fieldsync.Report, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[key("report", id)]
	if !ok || r.deleted {
		return fieldsync.Report{}, false
	}
	var rep fieldsync.Report
	f.check(json.Unmarshal(r.data, &rep))
	return rep, true
}

func (f *fakeServer) stats() (pushes [][]int64, applied []int64, refreshes, unauth int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pushes), slices.Clone(f.applied), f.refreshes, f.unauth
}

// ---- auth ----

func (f *fakeServer) login(w http.ResponseWriter, r *http.Request) {
	var req authproto.LoginRequest
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		problemJSON(w, 400, fieldsync.EBadJSON, "bad body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[req.Login]
	switch {
	case !ok || u.password != req.Password:
		f.unauth++
		problemJSON(w, 401, fieldsync.EBadCredentials, "login or password is wrong")
	case f.revoked[req.DeviceID]:
		f.unauth++
		problemJSON(w, 401, fieldsync.EDeviceRevoked, "device revoked")
	default:
		if req.DeviceKey != "" {
			f.keys[req.DeviceID] = req.DeviceKey
		}
		f.issue(w, u.id, req.DeviceID, token())
	}
}

func (f *fakeServer) refreshToken(w http.ResponseWriter, r *http.Request) {
	var req authproto.RefreshRequest
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		problemJSON(w, 400, fieldsync.EBadJSON, "bad body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes++
	tok, ok := f.refresh[req.RefreshToken]
	switch {
	case !ok:
		f.unauth++
		problemJSON(w, 401, fieldsync.ERefreshInvalid, "unknown refresh token")
	case tok.used:
		for k, t := range f.refresh {
			if t.family == tok.family {
				delete(f.refresh, k)
			}
		}
		f.unauth++
		problemJSON(w, 401, fieldsync.ERefreshReused, "refresh token reused: session revoked")
	case f.revoked[tok.device]:
		f.unauth++
		problemJSON(w, 401, fieldsync.EDeviceRevoked, "device revoked")
	default:
		tok.used = true
		f.issue(w, tok.user, tok.device, tok.family)
	}
}

func (f *fakeServer) issue(w http.ResponseWriter, user, device, family string) {
	access, refresh := token(), token()
	f.issued = append(f.issued, access, refresh)
	f.access[access] = fakeToken{user: user, device: device}
	f.refresh[refresh] = &fakeToken{user: user, device: device, family: family}
	writeJSON(w, map[string]any{"access_token": access, "refresh_token": refresh, "expires_in": f.expiresIn, "install_id": fakeInstall(device),
		"user": map[string]string{"id": user, "role": string(fieldsync.RoleTechnician)}})
}

// fakeInstall is the one install the fake knows of a device.
func fakeInstall(device string) string { return "install-of-" + device }

func (f *fakeServer) authed(next func(w http.ResponseWriter, r *http.Request, tok fakeToken)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(syncproto.Header); v != strconv.Itoa(syncproto.Version) {
			problemJSON(w, 400, "unsupported_protocol", "protocol "+v)
			return
		}
		f.mu.Lock()
		tok, ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		revoked := ok && f.revoked[tok.device]
		if !ok || revoked {
			f.unauth++
		}
		f.mu.Unlock()
		switch {
		case !ok:
			problemJSON(w, 401, fieldsync.ETokenInvalid, "access token invalid or expired")
		case revoked:
			problemJSON(w, 401, fieldsync.EDeviceRevoked, "device revoked")
		default:
			next(w, r, tok)
		}
	}
}

// ---- push ----

func (f *fakeServer) push(w http.ResponseWriter, r *http.Request, tok fakeToken) {
	f.mu.Lock()
	limit := cmp.Or(f.bodyLimit, 1<<20)
	f.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err == nil && int64(len(body)) > limit {
		problemJSON(w, 413, fieldsync.ETooLarge, "body too large")
		return
	}
	var req syncproto.PushRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		problemJSON(w, 400, fieldsync.EBadJSON, "bad body")
		return
	}
	if req.DeviceID != tok.device || req.InstallID != fakeInstall(tok.device) {
		problemJSON(w, 403, fieldsync.EForbidden, "not your device or install")
		return
	}
	if len(req.Mutations) > syncproto.MaxBatch {
		problemJSON(w, 400, fieldsync.EInvalid, "too many mutations")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var seqs []int64
	resp := syncproto.PushResponse{Results: []syncproto.Result{}}
	for _, m := range req.Mutations {
		seqs = append(seqs, m.Seq)
		high := f.highSeq[tok.device]
		switch {
		case m.Seq <= high:
			resp.Results = append(resp.Results, syncproto.Result{Seq: m.Seq, Status: syncproto.Duplicate})
			continue
		case m.Seq > high+1:
			resp.Results = append(resp.Results, syncproto.Result{Seq: m.Seq, Status: syncproto.Rejected, Code: syncproto.CodeSeqGap,
				Detail: fmt.Sprintf("expected seq %d", high+1)})
			continue
		}
		f.highSeq[tok.device] = m.Seq
		res := f.apply(tok.user, tok.device, m)
		res.Seq = m.Seq
		if res.Status == syncproto.Applied {
			f.applied = append(f.applied, m.Seq)
		}
		resp.Results = append(resp.Results, res)
	}
	f.pushes = append(f.pushes, seqs)
	writeJSON(w, resp)
}

func (f *fakeServer) apply(user, device string, m syncproto.Mutation) syncproto.Result {
	refuse := func(status, code, detail string) syncproto.Result {
		return syncproto.Result{Status: status, Code: code, Detail: detail}
	}
	at := hlcTime(m.HLC)
	switch {
	case m.Entity == "visit" && m.Op == syncproto.OpAction:
		rec, ok := f.records[key("visit", m.ID)]
		switch {
		case !ok || rec.deleted:
			return refuse(syncproto.Rejected, fieldsync.ENotFound, "no visit "+m.ID)
		case rec.owner != user:
			return refuse(syncproto.Conflict, "visit_reassigned", "the visit went to another technician")
		}
		v := f.visit(m.ID)
		if err := v.Apply(fieldsync.VisitAction(m.Action), at, ""); err != nil {
			return refuse(syncproto.Conflict, fieldsync.ErrorCode(err), fieldsync.ErrorDetail(err))
		}
		return syncproto.Result{Status: syncproto.Applied, Rev: f.put("visit", m.ID, user, v)}
	case m.Entity == "report":
		var rep fieldsync.Report
		rec, ok := f.records[key("report", m.ID)]
		if ok && !rec.deleted {
			if rec.owner != user {
				return refuse(syncproto.Conflict, "visit_reassigned", "the visit went to another technician")
			}
			f.check(json.Unmarshal(rec.data, &rep))
		} else {
			var visitID, templateID, corrects string
			_ = json.Unmarshal(m.Fields["visit_id"], &visitID)
			_ = json.Unmarshal(m.Fields["template_id"], &templateID)
			_ = json.Unmarshal(m.Fields["corrects"], &corrects)
			vr, vok := f.records[key("visit", visitID)]
			switch {
			case m.Op != syncproto.OpUpsert:
				return refuse(syncproto.Rejected, fieldsync.ENotFound, "no report "+m.ID)
			case !vok || vr.deleted || vr.owner != user:
				return refuse(syncproto.Rejected, fieldsync.ENotFound, "no visit "+visitID)
			case templateID == "":
				return refuse(syncproto.Rejected, fieldsync.EInvalid, "a new report needs template_id")
			}
			rep = fieldsync.Report{ID: m.ID, VisitID: visitID, TemplateID: templateID, Corrects: corrects, Answers: map[string]json.RawMessage{},
				Status: fieldsync.ReportDraft, CreatedAt: at}
		}
		if err := rep.Editable(); err != nil {
			return refuse(syncproto.Conflict, fieldsync.EReportSealed, err.Error())
		}
		if m.Op == syncproto.OpAction {
			tpl, ok := templates.ByID(rep.TemplateID)
			if !ok {
				return refuse(syncproto.Rejected, fieldsync.EInvalid, "unknown template "+rep.TemplateID)
			}
			if missing := tpl.Missing(rep.Answers); len(missing) > 0 {
				return refuse(syncproto.Rejected, fieldsync.EReportIncomplete, strings.Join(missing, ", "))
			}
			a, err := fieldsync.ParseSignAction(m.Fields, tpl, device)
			if err != nil {
				return refuse(syncproto.Rejected, fieldsync.ErrorCode(err), fieldsync.ErrorDetail(err))
			}
			f.check(rep.Sign(at))
			rep.SignedPhotos, rep.Signature = a.Photos, &a.Signature
			f.signed[m.ID] = a
			rep.UpdatedAt = at
			return syncproto.Result{Status: syncproto.Applied, Rev: f.put("report", m.ID, user, rep)}
		}
		for name, raw := range m.Fields {
			var err error
			switch name {
			case "visit_id", "template_id", "corrects":
			case "findings":
				err = json.Unmarshal(raw, &rep.Findings)
			case "cause":
				err = json.Unmarshal(raw, &rep.Cause)
			case "responsibility":
				err = json.Unmarshal(raw, &rep.Responsibility)
			case "answers":
				var a map[string]json.RawMessage
				err = json.Unmarshal(raw, &a)
				for k, v := range a {
					rep.Answers[k] = v
				}
			default:
				return refuse(syncproto.Rejected, "unknown_field", name)
			}
			if err != nil {
				return refuse(syncproto.Rejected, fieldsync.EInvalid, name)
			}
		}
		rep.UpdatedAt = at
		return syncproto.Result{Status: syncproto.Applied, Rev: f.put("report", m.ID, user, rep)}
	}
	return refuse(syncproto.Rejected, "unknown_entity", string(m.Entity))
}

// ---- pull ----

func (f *fakeServer) pull(w http.ResponseWriter, r *http.Request, tok fakeToken) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit < 1 || limit > syncproto.MaxPullLimit {
		limit = syncproto.DefaultPullSize
	}
	wait, _ := time.ParseDuration(q.Get("wait"))
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		after, ok := f.parseCursor(q.Get("cursor"))
		if !ok {
			f.mu.Unlock()
			problemJSON(w, 409, fieldsync.ECursorReset, "unknown cursor: pull again from the start")
			return
		}
		page, woke := f.changesFor(tok.user, after, limit), f.wake
		f.mu.Unlock()
		if len(page.Changes) > 0 || page.HasMore || wait <= 0 {
			writeJSON(w, page)
			return
		}
		select {
		case <-woke:
		case <-deadline.C:
			writeJSON(w, page)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (f *fakeServer) parseCursor(c string) (int64, bool) {
	if c == "" {
		return 0, true
	}
	epoch, pos, ok := strings.Cut(c, ":")
	n, err := strconv.ParseInt(pos, 10, 64)
	return n, ok && err == nil && epoch == f.epoch
}

// changesFor is the feed after position `after` as user sees it: each
// record once, in feed order.
func (f *fakeServer) changesFor(user string, after int64, limit int) syncproto.PullResponse {
	var all []syncproto.Change
	sees := func(r *fakeRecord) bool { return r.owner == "" || r.owner == user }
	for _, r := range f.records {
		if r.rev > after && sees(r) {
			ch := syncproto.Change{Entity: fieldsync.Entity(r.entity), ID: r.id, Rev: r.rev, Op: syncproto.ChangeUpsert, Data: r.data}
			if r.deleted {
				ch.Op, ch.Data = syncproto.ChangeDelete, nil
			}
			all = append(all, ch)
		}
	}
	for _, e := range f.evictions {
		if r, ok := f.records[key(e.entity, e.id)]; e.at > after && e.user == user && (!ok || !sees(r)) {
			all = append(all, syncproto.Change{Entity: fieldsync.Entity(e.entity), ID: e.id, Rev: e.at, Op: syncproto.ChangeEvict})
		}
	}
	slices.SortFunc(all, func(a, b syncproto.Change) int { return cmp.Compare(a.Rev, b.Rev) })
	page := syncproto.PullResponse{Changes: []syncproto.Change{}, Cursor: fmt.Sprintf("%s:%d", f.epoch, f.feed)}
	if len(all) > limit {
		all = all[:limit]
		page.HasMore = true
		page.Cursor = fmt.Sprintf("%s:%d", f.epoch, all[limit-1].Rev)
	}
	page.Changes = append(page.Changes, all...)
	return page
}

// ---- plumbing ----

// put stores a record at the next position of the feed; f.mu is held.
func (f *fakeServer) put(entity, id, owner string, v any) int64 {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		raw, err = json.Marshal(v)
		f.check(err)
	}
	f.feed++
	f.records[key(entity, id)] = &fakeRecord{entity: entity, id: id, owner: owner, rev: f.feed, data: raw}
	f.changed()
	return f.feed
}

func (f *fakeServer) changed() {
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *fakeServer) visit(id string) fieldsync.Visit {
	var v fieldsync.Visit
	f.check(json.Unmarshal(f.records[key("visit", id)].data, &v))
	return v
}

func key(entity, id string) string { return entity + "\x00" + id }

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func problemJSON(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "urn:fieldsync:problem:" + code, "title": http.StatusText(status),
		"status": status, "detail": detail, "code": code})
}

// check reports a fault of the double itself; handlers run off the test
// goroutine, so it cannot stop the test.
func (f *fakeServer) check(err error) {
	if err != nil {
		f.t.Errorf("fake server: %v", err)
	}
}
