package bolt_test

// Benchmarks of concurrent pushes: many tablets pushing a small batch
// each at once, their pushes sharing transactions (DB.Push, bbolt's
// Batch) or each in its own (DB.PushSolo, bbolt's Update), with and
// without a seal appended to the transparency log in each push; the
// reference is raw bbolt doing the same number of small writes with
// Update and with Batch. BENCHMARKS.md ("Concurrent pushes and seals")
// has the command and the figures.

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync/internal/benchworld"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// benchTablets is how many tablets push at once.
const benchTablets = 32

// benchPushStore is the store as a benchmark pushes to it: in shared or
// own transactions, each push appending a seal to the log or not.
type benchPushStore struct {
	db    *bolt.DB
	solo  bool
	seals *atomic.Int64 // nil: no seal
}

func (s benchPushStore) Push(ctx context.Context, fn func(syncproto.Txn) error) error {
	if s.seals != nil {
		fn = bolt.AppendingLog(fn, logRecord(s.seals.Add(1)))
	}
	if s.solo {
		return s.db.PushSolo(ctx, fn)
	}
	return s.db.Push(ctx, fn)
}

// parallel runs push from benchTablets tablets at once and reports
// pushes/s, and seals/s when each push seals.
func parallel(b *testing.B, tablets chan *benchworld.Tablet, push func(t *benchworld.Tablet) error, sealing bool) {
	n := benchworld.RunTablets(b, benchTablets, tablets, push)
	if sealing {
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "seals/s")
	}
}

// BenchmarkConcurrentPush: benchTablets tablets of one technician push
// TabletBatch report mutations each, at once, through the engine over the
// store (fsync on). "batch" is DB.Push (shared transactions, the
// production path) with bbolt's batch delay set to delay, "update" the
// same pushes each in a transaction of its own; "+seal" appends one
// record to the transparency log in each push's transaction.
func BenchmarkConcurrentPush(b *testing.B) {
	for _, c := range []struct {
		name  string
		solo  bool
		seal  bool
		delay time.Duration
	}{
		{"update", true, false, 0},
		{"update+seal", true, true, 0},
		{"batch", false, false, 2 * time.Millisecond},
		{"batch+seal/delay=0.5ms", false, true, 500 * time.Microsecond},
		{"batch+seal/delay=1ms", false, true, time.Millisecond},
		{"batch+seal/delay=2ms", false, true, 2 * time.Millisecond},
		{"batch+seal/delay=5ms", false, true, 5 * time.Millisecond},
		{"batch+seal/delay=10ms", false, true, 10 * time.Millisecond},
	} {
		db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
		db.SetBatch(1000, c.delay)
		store := benchPushStore{db: db, solo: c.solo}
		if c.seal {
			store.seals = new(atomic.Int64)
		}
		engine := benchEngine(store)
		push := func(t *benchworld.Tablet) error {
			batch := t.Next()
			resp, err := engine.Push(context.Background(), t.Principal(), t.Request(batch))
			if err == nil {
				err = checkApplied(resp, batch)
			}
			return err
		}
		tablets := make(chan *benchworld.Tablet, benchTablets)
		for i := range benchTablets {
			t := benchworld.NewTablet(i, visits[i])
			if err := push(t); err != nil { // creates its report
				b.Fatal(err)
			}
			tablets <- t
		}
		b.Run(c.name, func(b *testing.B) { parallel(b, tablets, push, c.seal) })
		if c.seal {
			checkLogSize(b, db, store.seals.Load())
		}
		db.Close()
	}
	// The reference: raw bbolt, TabletBatch puts of a report-sized value
	// per write, from benchTablets goroutines.
	for _, mode := range []string{"rawbolt/update", "rawbolt/batch"} {
		raw, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bbolt.Options{Timeout: time.Second, InitialMmapSize: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		raw.MaxBatchDelay = 2 * time.Millisecond
		if err := raw.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("reports")); return err }); err != nil {
			b.Fatal(err)
		}
		write := raw.Update
		if mode == "rawbolt/batch" {
			write = raw.Batch
		}
		value := make([]byte, 1500) // a report's JSON is about this size
		var next atomic.Int64
		tablets := make(chan *benchworld.Tablet, benchTablets)
		for i := range benchTablets {
			tablets <- benchworld.NewTablet(i, "")
		}
		b.Run(mode, func(b *testing.B) {
			parallel(b, tablets, func(*benchworld.Tablet) error {
				first := next.Add(benchworld.TabletBatch) - benchworld.TabletBatch
				return write(func(tx *bbolt.Tx) error {
					bk := tx.Bucket([]byte("reports"))
					for i := range int64(benchworld.TabletBatch) {
						if err := bk.Put(be64(int(first+i)), value); err != nil {
							return err
						}
					}
					return nil
				})
			}, false)
		})
		raw.Close()
	}
}

// BenchmarkLonePush is one tablet pushing alone, one push after another:
// the latency a push pays waiting for others to share its transaction
// (bbolt's batch delay), against a transaction of its own.
func BenchmarkLonePush(b *testing.B) {
	for _, c := range []struct {
		name  string
		solo  bool
		delay time.Duration
	}{
		{"update", true, 0},
		{"batch/delay=1ms", false, time.Millisecond},
		{"batch/delay=2ms", false, 2 * time.Millisecond},
		{"batch/delay=10ms", false, 10 * time.Millisecond},
	} {
		b.Run(c.name, func(b *testing.B) {
			db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
			defer db.Close()
			db.SetBatch(1000, c.delay)
			engine := benchEngine(benchPushStore{db: db, solo: c.solo, seals: new(atomic.Int64)})
			t := benchworld.NewTablet(0, visits[0])
			b.ResetTimer()
			for b.Loop() {
				batch := t.Next()
				resp, err := engine.Push(b.Context(), t.Principal(), t.Request(batch))
				if err == nil {
					err = checkApplied(resp, batch)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// checkLogSize fails unless the log holds exactly n records: each push
// appended its seal once, however often its closure ran.
func checkLogSize(b *testing.B, db *bolt.DB, n int64) {
	b.Helper()
	if err := db.ViewLog(b.Context(), func(r translog.Reader) error {
		size, err := r.Size()
		if err == nil && size != n {
			err = fmt.Errorf("the log holds %d records after %d sealing pushes", size, n)
		}
		return err
	}); err != nil {
		b.Fatal(err)
	}
}
