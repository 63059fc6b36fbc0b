package bolt_test

// Benchmarks of concurrent pushes: many tablets pushing at once, their
// pushes sharing transactions (DB.Push, bbolt's Batch) or each in its own
// (DB.PushSolo, bbolt's Update): small batches of report edits, and
// reports made and signed on the tablet, sealed in their push's
// transaction (bench_seal_test.go). The references are raw bbolt doing
// the same number of small writes with Update and with Batch, and the
// log alone: one seal-sized record appended per push. BENCHMARKS.md
// ("Concurrent pushes and seals") has the command and the figures.

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync/internal/benchworld"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// benchTablets is how many tablets push at once.
const benchTablets = 32

// benchPushStore is the store as a benchmark pushes to it: in shared or
// own transactions, each push appending a seal-sized record to the log
// (the log's reference) or not.
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
// pushes/s.
func parallel(b *testing.B, tablets chan *benchworld.Tablet, push func(t *benchworld.Tablet) error) int64 {
	return benchworld.RunTablets(b, benchTablets, tablets, push)
}

// BenchmarkConcurrentPush: benchTablets tablets of one technician push at
// once through the engine over the store (fsync on). "batch" is DB.Push
// (shared transactions, the production path) with bbolt's batch delay
// set to delay, "update" the same pushes each in a transaction of its
// own. Plain pushes are TabletBatch edits of the tablet's report;
// "+seal" pushes are reports made and signed on the tablet (reports a
// push), each sealed and its seal logged in the push's transaction.
// "log" is the log's reference: plain pushes that append one seal-sized
// record each, no more.
func BenchmarkConcurrentPush(b *testing.B) {
	for _, c := range []struct {
		name    string
		solo    bool
		reports int // signed reports a push; 0: plain pushes
		log     bool
		delay   time.Duration
	}{
		{"update", true, 0, false, 0},
		{"update+seal", true, 1, false, 0},
		{"batch", false, 0, false, 2 * time.Millisecond},
		{"batch+log", false, 0, true, 2 * time.Millisecond},
		{"batch+seal/delay=1ms", false, 1, false, time.Millisecond},
		{"batch+seal/delay=2ms", false, 1, false, 2 * time.Millisecond},
		{"batch+seal/delay=2ms/reports=20", false, 20, false, 2 * time.Millisecond},
	} {
		db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
		db.SetBatch(1000, c.delay)
		store := benchPushStore{db: db, solo: c.solo}
		if c.log {
			store.seals = new(atomic.Int64)
		}
		engine := benchEngine(store)
		if c.reports > 0 {
			setSealing(b, db, true)
			tablets := signedTablets(b, db, visits, benchTablets, c.reports)
			var seals int64
			b.Run(c.name, func(b *testing.B) {
				n := runSigned(b, engine, tablets)
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "seals/s")
				seals += n
			})
			checkSealed(b, db, tablets[0], seals)
			db.Close()
			continue
		}
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
		b.Run(c.name, func(b *testing.B) {
			n := parallel(b, tablets, push)
			if c.log {
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "seals/s")
			}
		})
		if c.log {
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
			})
		})
		raw.Close()
	}
}

// BenchmarkLonePush is one tablet pushing alone, one push after another,
// each a report made and signed on the tablet and sealed: the latency a
// push pays waiting for others to share its transaction (bbolt's batch
// delay), against a transaction of its own.
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
			setSealing(b, db, true)
			runSigned(b, benchEngine(benchPushStore{db: db, solo: c.solo}), signedTablets(b, db, visits, 1, 1))
		})
	}
}
