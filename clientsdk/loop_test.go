package clientsdk

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// fastLoop makes Start's timers short enough for tests.
func fastLoop(h *harness) {
	h.opts.Debounce = time.Millisecond
	h.opts.MinBackoff = time.Millisecond
	h.opts.MaxBackoff = 5 * time.Millisecond
}

// A failed round is retried on the backoff timer, without waiting for
// another local write.
func TestStartRetriesAfterFailureWithoutNewWrites(t *testing.T) {
	h := newHarness(t)
	fastLoop(h)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	h.net.set(func(n *netSwitch) { n.failPushes = 3 })
	must(t, c.Depart(visit))

	must(t, c.Start(context.Background()))
	waitFor(t, "the depart to reach the server", func() bool {
		return h.fake.Visit(visit).Status == fieldsync.VisitEnRoute
	})
	waitFor(t, "the outbox to empty", func() bool { return status(t, c).Pending == 0 })
	if _, failed := h.net.counts(); failed != 3 {
		t.Errorf("%d failed requests, want the 3 pushes that were cut", failed)
	}
	errs := 0
	for len(c.Events()) > 0 {
		if e := <-c.Events(); e.Kind == EventError {
			errs++
		}
	}
	if errs != 3 {
		t.Errorf("%d error events, want 3", errs)
	}
}

// The loop syncs local changes by itself, and the long poll brings the
// server's changes without any local write.
func TestStartSyncsLocalChangesAndServerNews(t *testing.T) {
	h := newHarness(t)
	fastLoop(h)
	a := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	b := h.fake.addVisit(h.tech, "b", fieldsync.VisitScheduled)
	c := h.open()
	must(t, c.Login(context.Background(), testLogin, testPassword))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, c.Start(ctx))
	if err := c.Start(ctx); err == nil {
		t.Error("a second Start was accepted")
	}
	waitFor(t, "the bootstrap", func() bool { vs, _ := c.Visits(); return len(vs) == 2 })

	must(t, c.Depart(a))
	waitFor(t, "the depart to reach the server", func() bool {
		return h.fake.Visit(a).Status == fieldsync.VisitEnRoute
	})

	h.fake.setVisitStatus(b, fieldsync.VisitCancelled)
	waitFor(t, "the cancellation to reach the device", func() bool {
		v, err := c.Bundle(b)
		return err == nil && v.Visit.Status == fieldsync.VisitCancelled
	})
	if s := status(t, c); !s.Running || s.Pending != 0 {
		t.Errorf("status: %+v", s)
	}

	must(t, c.Close())
	select {
	case <-c.loop.done:
	default:
		t.Fatal("Close returned before the loop did")
	}
	if _, err := c.Status(); !errors.Is(err, ErrClosed) {
		t.Errorf("Status after Close: %v", err)
	}
	for range c.Events() { // closed by Close: this ends
	}
}

// A revoked device pauses the loop with ErrDeviceRevoked; local work goes
// on and the loop itself keeps running until the context ends.
func TestStartPausesOnRevokedDevice(t *testing.T) {
	h := newHarness(t)
	fastLoop(h)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	h.fake.revoke(testDevice)
	ctx, cancel := context.WithCancel(context.Background())
	must(t, c.Depart(visit)) // before Start: the first round forgets the visit
	must(t, c.Start(ctx))

	waitFor(t, "the revocation to be reported", func() bool {
		s := status(t, c)
		return !s.SignedIn && strings.Contains(s.LastError, "revoked")
	})
	// The status is set before the event is sent: wait for the event too.
	waitFor(t, "an error event with ErrDeviceRevoked", func() bool {
		for {
			select {
			case e := <-c.Events():
				if e.Kind == EventError && errors.Is(e.Err, ErrDeviceRevoked) {
					return true
				}
			default:
				return false
			}
		}
	})
	if s := status(t, c); s.Pending != 1 || !s.Running {
		t.Errorf("status: %+v", s)
	}
	cancel()
	waitFor(t, "the loop to end with its context", func() bool { return !status(t, c).Running })
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	b := backoff{min: time.Second, max: time.Minute}
	for n := 1; n <= 40; n++ {
		ceil := min(time.Second<<min(n-1, 20), time.Minute)
		for range 50 {
			if d := b.wait(n, nil); d < time.Second || d > ceil {
				t.Fatalf("retry %d waits %s, want within [1s, %s]", n, d, ceil)
			}
		}
	}
	limited := &fieldsync.Error{Code: fieldsync.ETooMany, RetryAfter: 30}
	if d := b.wait(1, limited); d != 30*time.Second {
		t.Errorf("with Retry-After 30: %s", d)
	}
}
