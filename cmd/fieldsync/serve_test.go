package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// idleListener accepts no connection: Accept waits until Close, or fails
// with err at once when err is set.
type idleListener struct {
	err    error
	closed chan struct{}
	once   sync.Once
}

func newIdleListener(err error) *idleListener {
	return &idleListener{err: err, closed: make(chan struct{})}
}

func (l *idleListener) Accept() (net.Conn, error) {
	if l.err != nil {
		return nil, l.err
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *idleListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *idleListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestServeUntilReturnsAfterItsLoops runs loops that take a while to stop:
// serveUntil must not return before the last of them has.
func TestServeUntilReturnsAfterItsLoops(t *testing.T) {
	broken := errors.New("the listener broke")
	tests := []struct {
		name    string
		ln      func() *idleListener
		stop    bool // cancel the context, as a signal does
		wantErr error
	}{
		{"on a signal, after the server shut down", func() *idleListener { return newIdleListener(nil) }, true, nil},
		{"when Serve fails, with its error", func() *idleListener { return newIdleListener(broken) }, false, broken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var stopped atomic.Int32
				loop := func(ctx context.Context) {
					<-ctx.Done()
					time.Sleep(time.Second) // the clock is the bubble's
					stopped.Add(1)
				}
				done := make(chan error, 1)
				go func() {
					done <- serveUntil(ctx, &http.Server{}, tt.ln(), time.Second, slog.New(slog.DiscardHandler), loop, loop, loop)
				}()
				if tt.stop {
					synctest.Wait() // serving, every loop started
					cancel()
				}
				if err := <-done; !errors.Is(err, tt.wantErr) {
					t.Fatalf("serveUntil = %v, want %v", err, tt.wantErr)
				}
				if n := stopped.Load(); n != 3 {
					t.Fatalf("serveUntil returned while %d of 3 loops ran", 3-n)
				}
			})
		})
	}
}

// inProcess is `fieldsync serve` running in this process.
type inProcess struct {
	logs          testenv.Buffer
	done          chan error // run's result
	stop          context.CancelFunc
	addr, metrics string // as the "listening" log line says
}

// serveInProcess runs `fieldsync serve` on a free port over dir, with
// getenv as its environment, and waits until it listens.
func serveInProcess(t *testing.T, dir string, getenv func(string) string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	p := &inProcess{done: make(chan error, 1), stop: cancel}
	go func() {
		p.done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, getenv, nil, nil, &p.logs)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for p.addr == "" {
		for _, line := range strings.Split(p.logs.String(), "\n") {
			var rec struct{ Msg, Addr, Metrics string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				p.addr, p.metrics = rec.Addr, rec.Metrics
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("serve returned %v before listening:\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve is not listening after 30s:\n%s", p.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// TestServeStopsCleanlyInProcess runs `fieldsync serve` in this process,
// under the race detector when the tests have it, asks it something and
// cancels it: run returns nil once the server and its loops have stopped,
// and the data file is free at once.
func TestServeStopsCleanlyInProcess(t *testing.T) {
	dir := t.TempDir()
	p := serveInProcess(t, dir, func(string) string { return "" })
	logs, done, cancel, addr := &p.logs, p.done, p.stop, p.addr
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v:\n%s", err, logs.String())
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `"msg":"stopped"`) {
		t.Fatalf("the log goes on after the stop:\n%s", logs.String())
	}
	db, err := bolt.Open(filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatalf("data file still held: %v", err)
	}
	db.Close()
}
