package clientsdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth/authproto"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

func seqs(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestSyncPushesInOrderAndClearsOutbox(t *testing.T) {
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	h.net.set(func(n *netSwitch) { n.down = true })

	must(t, c.Depart(visit))
	must(t, c.Arrive(visit))
	report, err := c.CreateReport(visit, "tv-v1")
	must(t, err)
	answerRequired(t, c, report, "tv-v1")
	findings := "no picture, backlight dead"
	must(t, c.SetReport(report, ReportFields{Findings: &findings}))
	must(t, c.SignReport(report, noPhotos("tv-v1")))
	must(t, c.Complete(visit))
	n := int64(len(outboxOf(t, c)))

	h.net.set(func(n *netSwitch) { n.down = false })
	rep := h.sync(c)

	pushes, applied, _, _ := h.fake.stats()
	if len(pushes) != 1 || !slices.Equal(pushes[0], seqs(1, n)) {
		t.Fatalf("pushes = %v, want one batch of seqs 1..%d", pushes, n)
	}
	if !slices.Equal(applied, seqs(1, n)) {
		t.Fatalf("the server applied %v, want 1..%d in order", applied, n)
	}
	if rep.Pushed != int(n) || rep.Applied != int(n) || rep.Refused != 0 {
		t.Errorf("report = %+v", rep)
	}
	if s := status(t, c); s.Pending != 0 || s.OldestPending != 0 || s.LastError != "" || !s.LastSync.Equal(h.clock.Now()) {
		t.Errorf("status = %+v", s)
	}

	// The server's state is what the device showed offline, and what the
	// device shows now is the server's.
	sv := h.fake.Visit(visit)
	if sv.Status != fieldsync.VisitCompleted || sv.ArrivedAt == nil || !sv.ArrivedAt.Equal(h.clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("server visit: %s arrived %v", sv.Status, sv.ArrivedAt)
	}
	sr, ok := h.fake.Report(report)
	if !ok || sr.Status != fieldsync.ReportSigned || sr.Findings != findings || string(sr.Answers["power_on"]) != "true" {
		t.Errorf("server report: %+v", sr)
	}
	b, err := c.Bundle(visit)
	must(t, err)
	if b.Visit.Status != fieldsync.VisitCompleted || len(b.Reports) != 1 || b.Reports[0].Status != fieldsync.ReportSigned {
		t.Errorf("device bundle: %s, reports %+v", b.Visit.Status, b.Reports)
	}
	if b.Ticket.ID == "" || b.Customer.ID == "" || b.Site.ID == "" || b.Asset.ID == "" {
		t.Errorf("bundle lacks its parts: %+v", b)
	}
}

func TestSyncPushesInBatches(t *testing.T) {
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	for range syncproto.MaxBatch + 1 {
		_, err := c.CreateReport(visit, "tv-v1")
		must(t, err)
	}
	h.sync(c)
	pushes, _, _, _ := h.fake.stats()
	if len(pushes) != 2 || len(pushes[0]) != syncproto.MaxBatch || !slices.Equal(pushes[1], []int64{syncproto.MaxBatch + 1}) {
		t.Fatalf("batches of %v", lens(pushes))
	}
	if s := status(t, c); s.Pending != 0 {
		t.Fatalf("%d still pending", s.Pending)
	}
}

// A server with a smaller body limit answers 413: the SDK halves its
// batches until they fit, rather than blocking the outbox.
func TestSyncShrinksBatchesTheServerFindsTooLarge(t *testing.T) {
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	h.fake.mu.Lock()
	h.fake.bodyLimit = 16 << 10
	h.fake.mu.Unlock()
	report, err := c.CreateReport(visit, "tv-v1")
	must(t, err)
	for i := range 20 {
		findings := strings.Repeat(string(rune('a'+i)), 3000)
		must(t, c.SetReport(report, ReportFields{Findings: &findings}))
	}
	h.sync(c)
	pushes, applied, _, _ := h.fake.stats()
	if !slices.Equal(applied, seqs(1, 21)) || len(pushes) < 4 {
		t.Fatalf("applied %v in batches of %v", applied, lens(pushes))
	}
	if sr, _ := h.fake.Report(report); sr.Findings != strings.Repeat("t", 3000) {
		t.Errorf("server findings end in %q", sr.Findings[len(sr.Findings)-1:])
	}
}

func lens(b [][]int64) []int {
	var out []int
	for _, x := range b {
		out = append(out, len(x))
	}
	return out
}

// A push that fails on the network leaves the outbox as it was; the retry
// is safe because the server dedupes by seq, and "duplicate" answers clear
// the entries it had already applied.
func TestNetworkCutKeepsOutbox(t *testing.T) {
	tests := []struct {
		name           string
		cut            func(n *netSwitch)
		wantDuplicates int
	}{
		{"the network is down", func(n *netSwitch) { n.down = true }, 0},
		{"the server applied the push and its answer was lost", func(n *netSwitch) { n.loseAnswers = true }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
			c := h.open()
			h.online(c)
			h.net.set(tt.cut)
			must(t, c.Depart(visit))
			must(t, c.Arrive(visit))
			h.clock.Advance(time.Minute)

			if _, err := c.Sync(context.Background()); err == nil {
				t.Fatal("sync through a cut network succeeded")
			}
			if out := outboxOf(t, c); len(out) != 2 || out[0].Seq != 1 || out[1].Seq != 2 {
				t.Fatalf("outbox after the cut: %+v", out)
			}
			s := status(t, c)
			if s.Pending != 2 || s.OldestPending != time.Minute || s.LastError == "" {
				t.Fatalf("status after the cut: %+v", s)
			}
			if v := visitOf(t, c, visit); v.Status != fieldsync.VisitOnSite {
				t.Fatalf("the overlay lost the work: visit is %s", v.Status)
			}

			h.net.set(func(n *netSwitch) { n.down, n.loseAnswers = false, false })
			rep := h.sync(c)
			if rep.Duplicates != tt.wantDuplicates {
				t.Errorf("duplicates = %d, want %d", rep.Duplicates, tt.wantDuplicates)
			}
			if _, applied, _, _ := h.fake.stats(); !slices.Equal(applied, []int64{1, 2}) {
				t.Errorf("the server applied %v, want [1 2] once each", applied)
			}
			if s := status(t, c); s.Pending != 0 || s.LastError != "" {
				t.Errorf("status after the retry: %+v", s)
			}
			if sv := h.fake.Visit(visit); sv.Status != fieldsync.VisitOnSite {
				t.Errorf("server visit is %s", sv.Status)
			}
		})
	}
}

// What the server refuses leaves the outbox for Conflicts, with the
// server's code, and does not hold back the work queued behind it.
func TestRefusedWorkGoesToConflicts(t *testing.T) {
	h := newHarness(t)
	a := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	b := h.fake.addVisit(h.tech, "b", fieldsync.VisitScheduled)
	d := h.fake.addVisit(h.tech, "d", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	h.net.set(func(n *netSwitch) { n.down = true })
	// While the tablet is offline, a dispatcher cancels a and deletes d.
	h.fake.setVisitStatus(a, fieldsync.VisitCancelled)
	h.fake.remove("visit", d, true)

	must(t, c.Depart(a)) // 1: conflict, a is cancelled
	rd, err := c.CreateReport(d, "tv-v1")
	must(t, err)                               // 2: rejected, no visit d
	must(t, c.SetAnswer(rd, "power_on", true)) // 3: rejected, no such report
	must(t, c.Depart(b))                       // 4..6: applied
	rb, err := c.CreateReport(b, "tv-v1")
	must(t, err)
	must(t, c.SetAnswer(rb, "power_on", true))

	h.net.set(func(n *netSwitch) { n.down = false })
	rep := h.sync(c)
	if rep.Refused != 3 || rep.Applied != 3 {
		t.Fatalf("report = %+v, want 3 refused and 3 applied", rep)
	}
	conflicts, err := c.Conflicts()
	must(t, err)
	want := []struct {
		seq          int64
		status, code string
	}{{1, syncproto.Conflict, fieldsync.EInvalidTransition}, {2, syncproto.Rejected, fieldsync.ENotFound}, {3, syncproto.Rejected, fieldsync.ENotFound}}
	if len(conflicts) != len(want) {
		t.Fatalf("conflicts = %+v", conflicts)
	}
	for i, w := range want {
		got := conflicts[i]
		if got.Mutation.Seq != w.seq || got.Status != w.status || got.Code != w.code || got.Detail == "" {
			t.Errorf("conflict %d = %+v, want seq %d %s %s", i, got, w.seq, w.status, w.code)
		}
	}
	if sv := h.fake.Visit(b); sv.Status != fieldsync.VisitEnRoute {
		t.Errorf("the work behind the refusals was not applied: server visit b is %s", sv.Status)
	}
	if sr, ok := h.fake.Report(rb); !ok || string(sr.Answers["power_on"]) != "true" {
		t.Errorf("server report on b: %+v", sr)
	}

	// The refused work left the overlay: the device shows the server's state.
	if v := visitOf(t, c, a); v.Status != fieldsync.VisitCancelled {
		t.Errorf("visit a shows %s, want the server's cancelled", v.Status)
	}
	if _, err := c.Bundle(d); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Errorf("deleted visit d: %v", err)
	}
	if _, err := c.Report(rd); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Errorf("refused report: %v", err)
	}

	refused := 0
	for len(c.Events()) > 0 {
		if e := <-c.Events(); e.Kind == EventRefused && e.Refusal != nil {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d refused events, want 3", refused)
	}

	must(t, c.DismissConflict(1))
	if s := status(t, c); s.Refused != 2 || s.Pending != 0 {
		t.Errorf("status after dismissing one: %+v", s)
	}
}

// An eviction removes what the technician no longer sees, except records
// the device still has unsynced work on; those go once it is answered.
func TestEvictKeepsRecordsWithPendingWork(t *testing.T) {
	h := newHarness(t)
	a := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	b := h.fake.addVisit(h.tech, "b", fieldsync.VisitScheduled)
	other := h.fake.addTechnician("wang", "another-password")
	c := h.open()
	h.online(c)

	h.net.set(func(n *netSwitch) { n.blocked["/v1/sync/push"] = true })
	must(t, c.Depart(a))
	h.fake.reassign(a, other)
	h.fake.reassign(b, other)
	var rep SyncReport
	must(t, c.records.in.pull(context.Background(), &rep))

	if s := recordOf(t, c, "visit", a); s == nil || !s.Evicted {
		t.Fatalf("visit a with pending work: %+v", s)
	}
	for _, gone := range [][2]string{{"visit", b}, {"ticket", "ticket-b"}, {"customer", "cust-b"}, {"ticket", "ticket-a"}} {
		if s := recordOf(t, c, fieldsync.Entity(gone[0]), gone[1]); s != nil {
			t.Errorf("%s %s is still on the device", gone[0], gone[1])
		}
	}
	vs, err := c.Visits()
	must(t, err)
	if len(vs) != 1 || vs[0].ID != a || vs[0].Status != fieldsync.VisitEnRoute {
		t.Fatalf("visits = %+v, want a, en route", vs)
	}

	h.net.set(func(n *netSwitch) { delete(n.blocked, "/v1/sync/push") })
	rep = h.sync(c)
	conflicts, err := c.Conflicts()
	must(t, err)
	if rep.Refused != 1 || len(conflicts) != 1 || conflicts[0].Code != "visit_reassigned" {
		t.Fatalf("report %+v, conflicts %+v", rep, conflicts)
	}
	if s := recordOf(t, c, "visit", a); s != nil {
		t.Errorf("visit a stayed after its work was answered: %+v", s)
	}
	if vs, _ := c.Visits(); len(vs) != 0 {
		t.Errorf("visits = %+v, want none", vs)
	}
}

// cursor_reset drops the server copy, keeps the outbox and refused work,
// and pulls everything again.
func TestCursorResetRebootstrapsKeepingOutbox(t *testing.T) {
	h := newHarness(t)
	a := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	b := h.fake.addVisit(h.tech, "b", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)

	h.net.set(func(n *netSwitch) { n.blocked["/v1/sync/push"] = true })
	must(t, c.Depart(a))
	// The server is restored from a backup that never had visit b.
	h.fake.restore()
	h.fake.remove("visit", b, false)
	var rep SyncReport
	must(t, c.records.in.pull(context.Background(), &rep))
	if !rep.Reset {
		t.Fatal("no reset")
	}
	if s := recordOf(t, c, "visit", b); s != nil {
		t.Error("visit b survived the reset")
	}
	if out := outboxOf(t, c); len(out) != 1 || out[0].Action != "depart" {
		t.Fatalf("outbox after the reset: %+v", out)
	}
	if v := visitOf(t, c, a); v.Status != fieldsync.VisitEnRoute {
		t.Errorf("visit a shows %s: the overlay lost the pending depart", v.Status)
	}
	if tpls, _ := c.Templates(); len(tpls) != 1 {
		t.Errorf("templates after the reset: %d", len(tpls))
	}

	h.net.set(func(n *netSwitch) { delete(n.blocked, "/v1/sync/push") })
	rep = h.sync(c)
	if rep.Applied != 1 || rep.Reset {
		t.Errorf("report = %+v", rep)
	}
	if sv := h.fake.Visit(a); sv.Status != fieldsync.VisitEnRoute {
		t.Errorf("server visit a is %s", sv.Status)
	}

	h.fake.restore()
	if rep = h.sync(c); !rep.Reset || recordOf(t, c, "visit", a) == nil {
		t.Errorf("a reset met by Sync: %+v", rep)
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		name string
		do   func(t *testing.T, h *harness, c *Client, visit string)
	}{
		{"401 token_invalid renews the token once and retries", func(t *testing.T, h *harness, c *Client, visit string) {
			h.fake.expireAccess()
			must(t, c.Depart(visit))
			h.sync(c)
			if _, _, refreshes, _ := h.fake.stats(); refreshes != 1 {
				t.Errorf("%d refreshes, want 1", refreshes)
			}
			if sv := h.fake.Visit(visit); sv.Status != fieldsync.VisitEnRoute {
				t.Errorf("server visit is %s", sv.Status)
			}
		}},
		{"a token about to expire is renewed before it is sent", func(t *testing.T, h *harness, c *Client, _ string) {
			h.clock.Advance(15 * time.Minute)
			_, _, _, unauthBefore := h.fake.stats()
			h.sync(c)
			if _, _, refreshes, unauth := h.fake.stats(); refreshes != 1 || unauth != unauthBefore {
				t.Errorf("%d refreshes and %d new 401s, want 1 and 0", refreshes, unauth-unauthBefore)
			}
		}},
		{"the rotated refresh token survives a restart", func(t *testing.T, h *harness, c *Client, _ string) {
			h.fake.expireAccess()
			h.sync(c)
			must(t, c.Close())
			c = h.open()
			h.fake.expireAccess()
			h.sync(c) // with the first refresh token, the server would revoke the session
			if _, _, refreshes, _ := h.fake.stats(); refreshes != 2 {
				t.Errorf("%d refreshes, want 2", refreshes)
			}
		}},
		{"a reused refresh token signs the device out and keeps its work", func(t *testing.T, h *harness, c *Client, visit string) {
			// Someone copied the refresh token and used it first.
			var stolen string
			must(t, c.db.View(func(tx *bbolt.Tx) (err error) {
				stolen, err = getSecret(tx, keyRefresh)
				return err
			}))
			body, _ := json.Marshal(authproto.RefreshRequest{RefreshToken: stolen})
			resp, err := http.Post(h.fake.srv.URL+"/v1/auth/refresh", "application/json", bytes.NewReader(body))
			must(t, err)
			resp.Body.Close()
			h.fake.expireAccess()
			must(t, c.Depart(visit))

			if _, err := c.Sync(context.Background()); !errors.Is(err, ErrSignedOut) {
				t.Fatalf("sync after the reuse: %v, want ErrSignedOut", err)
			}
			if s := status(t, c); s.SignedIn || s.Pending != 1 {
				t.Errorf("status: %+v", s)
			}
			if v := visitOf(t, c, visit); v.Status != fieldsync.VisitEnRoute {
				t.Errorf("visit shows %s", v.Status)
			}
			must(t, c.Login(context.Background(), testLogin, testPassword))
			h.sync(c)
			if s := status(t, c); !s.SignedIn || s.Pending != 0 {
				t.Errorf("status after logging in again: %+v", s)
			}
		}},
		{"wrong credentials are the server's code", func(t *testing.T, h *harness, c *Client, _ string) {
			wantCode(t, c.Login(context.Background(), testLogin, "not-the-password"), fieldsync.EBadCredentials)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
			c := h.open()
			h.online(c)
			tt.do(t, h, c, visit)
		})
	}
}

// A revoked device stops syncing with ErrDeviceRevoked, forgets the
// server's records and keeps its unsynced work; it does not knock again
// until a login.
func TestDeviceRevoked(t *testing.T) {
	tests := []struct {
		name   string
		before func(h *harness)
	}{
		{"seen on a sync request", func(h *harness) {}},
		{"seen on a token refresh", func(h *harness) { h.fake.expireAccess() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
			c := h.open()
			h.online(c)
			must(t, c.Depart(visit))
			h.fake.revoke(testDevice)
			tt.before(h)

			if _, err := c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
				t.Fatalf("sync: %v, want ErrDeviceRevoked", err)
			}
			reached, _ := h.net.counts()
			if _, err := c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
				t.Fatalf("second sync: %v", err)
			}
			if again, _ := h.net.counts(); again != reached {
				t.Errorf("a revoked device kept calling the server")
			}
			if s := status(t, c); s.Pending != 1 || s.SignedIn || !strings.Contains(s.LastError, "revoked") {
				t.Errorf("status: %+v", s)
			}
			if b, err := c.Bundle(visit); code(err) != fieldsync.ENotFound {
				t.Errorf("the server's records after revocation: %v %+v", err, b)
			}

			must(t, c.Close())
			c = h.open()
			if s := status(t, c); !strings.Contains(s.LastError, "revoked") || s.Pending != 1 {
				t.Errorf("status after restart: %+v", s)
			}
			if _, err := c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
				t.Errorf("sync after restart: %v", err)
			}
			wantCode(t, c.Login(context.Background(), testLogin, testPassword), fieldsync.EDeviceRevoked)
		})
	}
}

// A seq_gap must not happen; when it does, the round stops with an error
// and nothing is dropped.
func TestSeqGapStopsTheRoundAndKeepsWork(t *testing.T) {
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	// The device's counter jumped ahead of the server's (a broken restore).
	must(t, c.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyNextSeq, u64(5)) }))
	must(t, c.Depart(visit))

	_, err := c.Sync(context.Background())
	wantCode(t, err, syncproto.CodeSeqGap)
	if out := outboxOf(t, c); len(out) != 1 || out[0].Seq != 5 {
		t.Fatalf("outbox: %+v", out)
	}
	if conflicts, _ := c.Conflicts(); len(conflicts) != 0 {
		t.Errorf("a seq_gap became a conflict: %+v", conflicts)
	}
	if !strings.Contains(h.logs.String(), "seq_gap") {
		t.Error("the seq_gap was not logged")
	}
	if v := visitOf(t, c, visit); v.Status != fieldsync.VisitEnRoute {
		t.Errorf("visit shows %s", v.Status)
	}
}
