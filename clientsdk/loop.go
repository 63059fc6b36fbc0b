package clientsdk

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// Start runs background sync until ctx is done or Close is called; it
// returns at once. A round runs on start, after local changes (gathered
// for Options.Debounce), and when a long-polled pull brings news. A failed
// round is retried on a timer with exponential backoff and full jitter
// between MinBackoff and MaxBackoff, local writes or not. ErrDeviceRevoked
// and ErrSignedOut pause it until the next successful Login.
//
// The loop is a goroutine for the text records (and one for the long poll
// in flight) and one for the photos, so a long upload never holds up the
// records; Close waits for them all. Progress is reported by Events and
// Status.
func (c *Client) Start(ctx context.Context) error {
	if c.isClosed() {
		return ErrClosed
	}
	return c.loop.start(ctx, c.loop.records.run, c.loop.photos.run)
}

// loop owns Start's goroutines: it starts them under one context, stops
// them, and knows when they have all returned.
type loop struct {
	records recordLoop
	photos  photoLoop

	mu      sync.Mutex // guards the fields below
	closed  bool       // no more starts
	running bool
	stop    context.CancelFunc // of the running goroutines
	done    chan struct{}      // closed when they have all returned
}

// start runs each of runs on a goroutine of its own. When one returns,
// the others are stopped: they run together or not at all. The last to
// return closes done.
func (l *loop) start(ctx context.Context, runs ...func(context.Context)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.running:
		return errors.New("clientsdk: already started")
	}
	ctx, stop := context.WithCancel(ctx)
	done, left := make(chan struct{}), len(runs) // left is guarded by mu
	l.stop, l.done, l.running = stop, done, true
	for _, run := range runs {
		go func() {
			run(ctx)
			stop()
			l.mu.Lock()
			defer l.mu.Unlock()
			if left--; left == 0 {
				l.running = false
				close(done)
			}
		}()
	}
	return nil
}

// close stops the goroutines and waits for them; start refuses from then
// on.
func (l *loop) close() {
	l.mu.Lock()
	l.closed = true
	stop, done := l.stop, l.done
	l.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// loggedIn wakes a loop paused by the end of a session.
func (l *loop) loggedIn() { wake(l.records.loggedIn) }

func (l *loop) isRunning() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running
}

// wake tells a loop that work is waiting, without blocking: a wake-up
// channel has capacity 1, and one pending wake-up is as good as many.
func wake(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// recordLoop runs text rounds: on start, after local writes (debounced),
// when a long poll brings news, and after failures with backoff. A round
// that did not end the session wakes the photo loop.
type recordLoop struct {
	round    func(context.Context) (SyncReport, error)
	poll     func(context.Context) (bool, error)
	pollWait time.Duration // <= 0: no long poll
	debounce time.Duration
	backoff  backoff

	changed   <-chan struct{} // a local write happened
	loggedIn  chan struct{}   // a login succeeded (capacity 1)
	photosDue chan<- struct{} // wakes the photo loop
}

// poller is one long-poll in flight, on a goroutine of its own; its owner
// is the record loop, which stops it and waits for it before a round and
// before returning.
type poller struct {
	cancel context.CancelFunc
	done   chan pollResult
}

type pollResult struct {
	woke bool
	err  error
}

func (l *recordLoop) startPoll(ctx context.Context) *poller {
	if l.pollWait <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &poller{cancel: cancel, done: make(chan pollResult, 1)}
	go func() {
		woke, err := l.poll(ctx)
		p.done <- pollResult{woke, err}
	}()
	return p
}

// stop cancels the poll and waits for its goroutine.
func (p *poller) stop() {
	if p != nil {
		p.cancel()
		<-p.done
	}
}

func (l *recordLoop) run(ctx context.Context) {
	var (
		timer    = time.NewTimer(0) // the first round, at once
		armed    = true             // a round is due when timer fires
		failures int                // rounds failed in a row
		paused   bool               // signed out or revoked: wait for Login
		poll     *poller
	)
	defer timer.Stop()
	arm := func(d time.Duration) { timer.Reset(d); armed = true }
	for {
		var polled <-chan pollResult
		if poll != nil {
			polled = poll.done
		}
		select {
		case <-ctx.Done():
			poll.stop()
			return
		case <-l.changed:
			if !armed && !paused {
				arm(l.debounce)
			}
			continue
		case <-l.loggedIn:
			paused, failures = false, 0
			arm(0)
			continue
		case res := <-polled:
			poll = nil
			switch classify(res.err) {
			case succeeded:
				if res.woke {
					arm(0)
				} else {
					poll = l.startPoll(ctx)
				}
			case sessionEnded:
				paused = true
			default:
				failures++
				arm(l.backoff.wait(failures, res.err))
			}
			continue
		case <-timer.C:
			armed = false
		}
		if paused {
			continue
		}
		poll.stop() // the round pulls anyway
		poll = nil
		_, err := l.round(ctx)
		if ctx.Err() != nil {
			return
		}
		switch classify(err) {
		case succeeded:
			failures = 0
			poll = l.startPoll(ctx)
			wake(l.photosDue)
		case sessionEnded:
			paused = true
		default:
			failures++
			arm(l.backoff.wait(failures, err))
			wake(l.photosDue)
		}
	}
}

// photoLoop uploads the photo queue whenever a text round wakes it, and
// retries a round that failed with the same backoff as text rounds.
type photoLoop struct {
	round   func(context.Context) error
	due     <-chan struct{}
	backoff backoff
}

func (l *photoLoop) run(ctx context.Context) {
	var (
		timer    = time.NewTimer(time.Hour)
		retry    <-chan time.Time // the backoff timer, when armed
		failures int
	)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.due:
			timer.Stop()
		case <-retry:
		}
		retry = nil
		err := l.round(ctx)
		if ctx.Err() != nil {
			return
		}
		switch classify(err) {
		case succeeded:
			failures = 0
		case sessionEnded:
			// The text loop pauses too; a Login wakes it, and it wakes us.
		default:
			failures++
			timer.Reset(l.backoff.wait(failures, err))
			retry = timer.C
		}
	}
}

// backoff spaces the retries of failed rounds.
type backoff struct {
	min, max time.Duration
}

// wait is the wait before retry number n (from 1): uniform between min
// and min·2^(n-1), capped at max (full jitter, with a floor so a dead
// network is not hammered), and never less than the server's Retry-After.
func (b backoff) wait(n int, err error) time.Duration {
	lo, hi := b.min, b.max
	ceil := lo
	for i := 1; i < n && ceil < hi; i++ {
		ceil *= 2
	}
	ceil = min(ceil, hi)
	d := lo + rand.N(ceil-lo+1)
	if ra := retryAfter(err); ra > d {
		d = min(ra, hi)
	}
	return d
}
