package clientsdk

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

const (
	testDevice   = "tab-7"
	testLogin    = "li"
	testPassword = "a-long-secret-password"
)

// harness is one tablet (a file in t.TempDir) against one fake server,
// with a switch on the network and a clock the test moves.
type harness struct {
	t     *testing.T
	fake  *fakeServer
	net   *netSwitch
	clock *testenv.Clock
	logs  *testenv.Buffer
	tech  string
	path  string
	opts  Options
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	f := newFakeServer(t)
	h := &harness{
		t: t, fake: f, clock: testenv.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), logs: &testenv.Buffer{},
		tech: f.addTechnician(testLogin, testPassword), path: filepath.Join(t.TempDir(), "tablet.db"),
	}
	h.net = &netSwitch{next: f.srv.Client(), blocked: map[string]bool{}}
	h.opts = Options{
		Key: testKey, ServerURL: f.srv.URL, DeviceID: testDevice, DeviceName: "Tablet 7", Transport: h.net, Now: h.clock.Now,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	f.addTemplate("tv-v1")
	t.Cleanup(h.checkLogsHoldNoSecrets)
	return h
}

// open opens the tablet's file; the client is closed when the test ends.
func (h *harness) open() *Client {
	h.t.Helper()
	c, err := Open(h.path, h.opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// online signs in and syncs: the device then holds the server's partition.
func (h *harness) online(c *Client) {
	h.t.Helper()
	if err := c.Login(context.Background(), testLogin, testPassword); err != nil {
		h.t.Fatal(err)
	}
	h.sync(c)
}

func (h *harness) sync(c *Client) SyncReport {
	h.t.Helper()
	rep, err := c.Sync(context.Background())
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return rep
}

// checkLogsHoldNoSecrets: whatever a test did, no password or token the
// server issued reached the logs.
func (h *harness) checkLogsHoldNoSecrets() {
	logs := h.logs.String()
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	secrets := append([]string{testPassword}, h.fake.issued...)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			h.t.Errorf("a secret reached the logs: %q", s)
		}
	}
}

// netSwitch is the tablet's network: it can be down, lose answers after
// the server acted, or fail chosen paths or a number of pushes.
type netSwitch struct {
	next Transport

	mu          sync.Mutex
	down        bool            // nothing reaches the server
	loseAnswers bool            // requests reach the server, answers are lost
	blocked     map[string]bool // paths that never reach the server
	failPushes  int             // the next n pushes never reach the server
	reached     int             // requests that reached the server
	failed      int             // requests that did not
}

var errNetDown = errors.New("network is unreachable (test)")

func (n *netSwitch) Do(req *http.Request) (*http.Response, error) {
	n.mu.Lock()
	fail := n.down || n.blocked[req.URL.Path]
	if !fail && req.URL.Path == "/v1/sync/push" && n.failPushes > 0 {
		n.failPushes--
		fail = true
	}
	lose := n.loseAnswers
	if fail {
		n.failed++
	} else {
		n.reached++
	}
	n.mu.Unlock()
	if fail {
		return nil, errNetDown
	}
	resp, err := n.next.Do(req)
	if err == nil && lose {
		resp.Body.Close()
		return nil, errors.New("connection reset after the request went out (test)")
	}
	return resp, err
}

func (n *netSwitch) set(fn func(n *netSwitch)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fn(n)
}

func (n *netSwitch) counts() (reached, failed int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.reached, n.failed
}

// waitFor waits for cond with a deadline, checking it on a short tick.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// outboxOf reads the tablet's outbox directly.
func outboxOf(t *testing.T, c *Client) []syncproto.Mutation {
	t.Helper()
	var out []syncproto.Mutation
	if err := c.db.View(func(tx *bbolt.Tx) (err error) {
		out, err = queued(tx, 0, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func recordOf(t *testing.T, c *Client, entity fieldsync.Entity, id string) *stored {
	t.Helper()
	var s *stored
	if err := c.db.View(func(tx *bbolt.Tx) (err error) {
		s, err = getRecord(tx, entity, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func visitOf(t *testing.T, c *Client, id string) fieldsync.Visit {
	t.Helper()
	b, err := c.Bundle(id)
	if err != nil {
		t.Fatalf("bundle %s: %v", id, err)
	}
	return b.Visit
}

func status(t *testing.T, c *Client) Status {
	t.Helper()
	s, err := c.Status()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// answerRequired answers every required item of the template with a value
// it accepts.
func answerRequired(t *testing.T, c *Client, reportID, templateID string) {
	t.Helper()
	tpl, _ := templates.ByID(templateID)
	for _, it := range tpl.Items {
		if !it.Required {
			continue
		}
		var v any
		switch it.Type {
		case fieldsync.ItemYesNo:
			v = true
		case fieldsync.ItemChoice:
			v = it.Options[0].Value
		case fieldsync.ItemNumber:
			v = 1.0
			if it.Min != nil {
				v = *it.Min
			}
		default:
			v = "ok"
		}
		if err := c.SetAnswer(reportID, it.ID, v); err != nil {
			t.Fatalf("answer %s: %v", it.ID, err)
		}
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := fieldsync.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// noPhotos signs with a reason for every required photo slot of the
// template but those in except, which have photos.
func noPhotos(templateID string, except ...string) SignOptions {
	tpl, _ := templates.ByID(templateID)
	o := SignOptions{Unphotographed: map[string]string{}}
	for _, slot := range tpl.RequiredSlots() {
		if !slices.Contains(except, slot) {
			o.Unphotographed[slot] = "the customer kept it"
		}
	}
	return o
}
