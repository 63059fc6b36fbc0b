package bolt_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/benchworld"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// countingStore counts the runs of each push's closure.
type countingStore struct {
	*bolt.DB
	runs *atomic.Int32
}

func (c countingStore) Push(ctx context.Context, fn func(syncproto.Txn) error) error {
	return c.DB.Push(ctx, func(tx syncproto.Txn) error {
		c.runs.Add(1)
		return fn(tx)
	})
}

// Concurrent pushes share a transaction; one of them failing makes the
// others run again, and each must still answer its own mutations and be
// applied exactly once.
func TestConcurrentPushesApplyOnceWhenASiblingFails(t *testing.T) {
	const tablets = 12
	db, visits := benchworld.PushStore(t, t.TempDir(), bolt.Open)
	defer db.Close()
	errSibling := errors.New("sibling fails")
	reran := false
	for round := 0; round < 10 && !reran; round++ {
		audited := dumpCount(t, db, "audit")
		// The batch runs once all pushes of the round (the failing one
		// too) are in it; the delay only bounds a lost one.
		db.SetBatch(tablets+1, time.Minute)
		runs := make([]atomic.Int32, tablets)
		resps := make([]*syncproto.PushResponse, tablets)
		errs := make([]error, tablets)
		tabs := make([]*benchworld.Tablet, tablets)
		batches := make([][]syncproto.Mutation, tablets)
		var wg sync.WaitGroup
		for i := range tablets {
			tabs[i] = benchworld.NewTablet(round*tablets+i, visits[round*tablets+i])
			batches[i] = tabs[i].Next()
			engine := benchEngine(countingStore{db, &runs[i]})
			wg.Go(func() { resps[i], errs[i] = engine.Push(t.Context(), tabs[i].Principal(), tabs[i].Request(batches[i])) })
		}
		var failRuns atomic.Int32
		var failErr error
		wg.Go(func() {
			failErr = db.Push(t.Context(), func(syncproto.Txn) error { failRuns.Add(1); return errSibling })
		})
		wg.Wait()
		if !errors.Is(failErr, errSibling) {
			t.Fatalf("the failing push returned %v", failErr)
		}
		if n := failRuns.Load(); n != 2 {
			t.Fatalf("the failing push ran %d times, want 2 (in the batch, then alone)", n)
		}
		for i := range tablets {
			if errs[i] != nil {
				t.Fatalf("tablet %d: %v", i, errs[i])
			}
			if err := checkApplied(resps[i], batches[i]); err != nil {
				t.Fatalf("tablet %d: %v", i, err)
			}
			for j, r := range resps[i].Results {
				if r.Seq != batches[i][j].Seq {
					t.Fatalf("tablet %d: result %d answers seq %d, want %d", i, j, r.Seq, batches[i][j].Seq)
				}
			}
			reran = reran || runs[i].Load() > 1
		}
		// One audit entry per applied mutation: none applied twice.
		if got, want := dumpCount(t, db, "audit")-audited, tablets*benchworld.TabletBatch; got != want {
			t.Fatalf("round %d: %d audit entries written, want %d", round, got, want)
		}
		// Sending the same batches again, one by one, finds every seq
		// consumed once.
		db.SetBatch(1000, time.Millisecond)
		for i := range tablets {
			resp, err := benchEngine(db).Push(t.Context(), tabs[i].Principal(), tabs[i].Request(batches[i]))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.Results {
				if r.Status != syncproto.Duplicate {
					t.Fatalf("tablet %d again: seq %d is %s, want duplicate", i, r.Seq, r.Status)
				}
			}
		}
	}
	if !reran {
		t.Fatal("no push ran again after its sibling failed: the pushes did not share a transaction")
	}
}

func dumpCount(t *testing.T, db *bolt.DB, bucket string) int {
	t.Helper()
	n := 0
	if err := db.Dump(bucket, func(k, v []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
