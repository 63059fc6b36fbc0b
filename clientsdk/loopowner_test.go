package clientsdk

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// The loop's goroutines run together: one returning stops the others, and
// done closes once every one has returned.
func TestLoopOwnsItsGoroutines(t *testing.T) {
	var l loop
	var returned atomic.Int32
	untilStopped := func(ctx context.Context) { <-ctx.Done(); returned.Add(1) }
	quits := func(context.Context) { returned.Add(1) }
	must(t, l.start(context.Background(), untilStopped, quits, untilStopped))
	<-l.done
	if n := returned.Load(); n != 3 {
		t.Fatalf("done closed with %d of 3 goroutines returned", n)
	}
	if l.isRunning() {
		t.Error("running after every goroutine returned")
	}

	// Started again, they run until close, which waits for them.
	returned.Store(0)
	must(t, l.start(context.Background(), untilStopped, untilStopped))
	if err := l.start(context.Background(), untilStopped); err == nil {
		t.Error("a second start while running was accepted")
	}
	l.close()
	if n := returned.Load(); n != 2 {
		t.Fatalf("close returned with %d of 2 goroutines returned", n)
	}
	if err := l.start(context.Background(), untilStopped); !errors.Is(err, ErrClosed) {
		t.Errorf("start after close: %v, want ErrClosed", err)
	}
	l.close() // twice is harmless
}
