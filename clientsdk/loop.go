package clientsdk

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Start runs background sync until ctx is done or Close is called; it
// returns at once. A round runs on start, after local changes (gathered
// for Options.Debounce), and when a long-polled pull brings news. A failed
// round is retried on a timer with exponential backoff and full jitter
// between MinBackoff and MaxBackoff, local writes or not. ErrDeviceRevoked
// and ErrSignedOut pause it until the next successful Login.
//
// The loop is one goroutine; Close waits for it. Progress is reported by
// Events and Status.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.running:
		return errors.New("clientsdk: already started")
	}
	ctx, stop := context.WithCancel(ctx)
	c.stop, c.done, c.running = stop, make(chan struct{}), true
	go func(done chan struct{}) {
		defer close(done)
		c.run(ctx)
		stop()
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}(c.done)
	return nil
}

// poller is one long-poll in flight.
type poller struct {
	cancel context.CancelFunc
	done   chan pollResult
}

type pollResult struct {
	woke bool
	err  error
}

func (c *Client) startPoll(ctx context.Context) *poller {
	if c.opts.PollWait <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &poller{cancel: cancel, done: make(chan pollResult, 1)}
	go func() {
		woke, err := c.poll(ctx)
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

func (c *Client) run(ctx context.Context) {
	// Photos upload on a goroutine of their own, so a long upload never
	// holds up the text records; each text round wakes it.
	photoCtx, stopPhotos := context.WithCancel(ctx)
	photosDone := make(chan struct{})
	go func() {
		defer close(photosDone)
		c.runPhotos(photoCtx)
	}()
	defer func() {
		stopPhotos()
		<-photosDone
	}()
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
		case <-c.changed:
			if !armed && !paused {
				arm(c.opts.Debounce)
			}
			continue
		case <-c.loggedIn:
			paused, failures = false, 0
			arm(0)
			continue
		case res := <-polled:
			poll = nil
			switch {
			case stopsSync(res.err):
				paused = true
			case res.err != nil:
				failures++
				arm(c.backoff(failures, res.err))
			case res.woke:
				arm(0)
			default:
				poll = c.startPoll(ctx)
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
		_, err := c.syncRecords(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			failures = 0
			poll = c.startPoll(ctx)
			c.poke(c.photosDue)
		case stopsSync(err):
			paused = true
		default:
			failures++
			arm(c.backoff(failures, err))
			c.poke(c.photosDue)
		}
	}
}

// runPhotos uploads the photo queue whenever a text round wakes it, and
// retries a round that failed with the same backoff as text rounds.
func (c *Client) runPhotos(ctx context.Context) {
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
		case <-c.photosDue:
			timer.Stop()
		case <-retry:
		}
		retry = nil
		err := c.syncPhotos(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			failures = 0
		case stopsSync(err):
			// The text loop pauses too; a Login wakes it, and it wakes us.
		default:
			failures++
			timer.Reset(c.backoff(failures, err))
			retry = timer.C
		}
	}
}

func stopsSync(err error) bool {
	return errors.Is(err, ErrDeviceRevoked) || errors.Is(err, ErrSignedOut)
}

// backoff is the wait before retry number n (from 1): uniform between
// MinBackoff and MinBackoff·2^(n-1), capped at MaxBackoff (full jitter,
// with a floor so a dead network is not hammered), and never less than
// the server's Retry-After.
func (c *Client) backoff(n int, err error) time.Duration {
	lo, hi := c.opts.MinBackoff, c.opts.MaxBackoff
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
