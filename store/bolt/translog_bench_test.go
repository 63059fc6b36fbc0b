package bolt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// BenchmarkAppend measures log appends (seals/s) on a bbolt file, one
// per transaction and 100 per transaction (a push batch sealing its
// reports), against the reference of raw bbolt puts of the same record
// bytes in transactions of the same shape.
func BenchmarkAppend(b *testing.B) {
	for _, perTx := range []int{1, 100} {
		b.Run(fmt.Sprintf("log/tx=%d", perTx), func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), "log.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var next int64
			b.ResetTimer()
			for b.Loop() {
				batch := make([][]byte, perTx)
				for j := range batch {
					batch[j] = logRecord(next)
					next++
				}
				if err := db.AppendLogBatch(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "seals/s")
		})
		b.Run(fmt.Sprintf("raw/tx=%d", perTx), func(b *testing.B) {
			raw, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bbolt.Options{Timeout: time.Second, InitialMmapSize: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			if err := raw.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("records")); return err }); err != nil {
				b.Fatal(err)
			}
			var next int64
			b.ResetTimer()
			for b.Loop() {
				if err := raw.Update(func(tx *bbolt.Tx) error {
					bk := tx.Bucket([]byte("records"))
					for range perTx {
						if err := bk.Put(be64(int(next)), logRecord(next)); err != nil {
							return err
						}
						next++
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "seals/s")
		})
	}
}

// envLog1M adds the log of 1M entries to BenchmarkProof; building it
// once takes about a minute, and it is cached in os.TempDir() after.
const envLog1M = "FIELDSYNC_BENCH_LOG_1M"

// benchLog returns a store whose log holds size records (logRecord),
// built once in transactions of 50,000 appends and cached in
// os.TempDir() by schema version; the benchmarks only read it.
func benchLog(b *testing.B, size int64) *bolt.DB {
	b.Helper()
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("fieldsync-bench-log-%d-schema%d-v1.db", size, bolt.SchemaVersion()))
	if _, err := os.Stat(cache); err != nil {
		start := time.Now()
		tmp := cache + ".building"
		os.Remove(tmp)
		db, err := bolt.Open(tmp)
		if err != nil {
			b.Fatal(err)
		}
		const perTx = 50_000
		for i := int64(0); i < size; i += perTx {
			batch := make([][]byte, 0, perTx)
			for j := i; j < min(i+perTx, size); j++ {
				batch = append(batch, logRecord(j))
			}
			if err := db.AppendLogBatch(batch); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, cache); err != nil {
			b.Fatal(err)
		}
		b.Logf("built a log of %d entries in %s", size, time.Since(start).Round(time.Second))
	}
	db, err := bolt.Open(cache)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// countingReader counts the stored hashes a proof reads.
type countingReader struct {
	translog.Reader
	reads int
}

func (c *countingReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	c.reads += len(indexes)
	return c.Reader.ReadHashes(indexes)
}

// BenchmarkProof measures inclusion and consistency proofs (time, hashes
// and bytes per proof, stored hashes read) and their verification, in
// logs of 10k entries and, with FIELDSYNC_BENCH_LOG_1M=1, 1M entries:
// both grow as log n. The reference, "rawbolt", is bbolt itself reading
// as many keys of the log's hashes as the largest proof read, at random,
// in one read transaction.
func BenchmarkProof(b *testing.B) {
	sizes := []int64{10_000}
	if os.Getenv(envLog1M) == "1" {
		sizes = append(sizes, 1_000_000)
	} else {
		b.Logf("%s=1 adds a log of 1M entries", envLog1M)
	}
	for _, size := range sizes {
		db := benchLog(b, size)
		// Each prover proves something random at the full size and
		// returns the proof's length in hashes.
		provers := map[string]func(r translog.Reader) (int, error){
			"inclusion": func(r translog.Reader) (int, error) {
				p, err := translog.ProveInclusion(r, rand.Int64N(size), size)
				return len(p), err
			},
			"consistency": func(r translog.Reader) (int, error) {
				p, err := translog.ProveConsistency(r, 1+rand.Int64N(size), size)
				return len(p), err
			},
		}
		maxReads := 0
		for _, kind := range []string{"inclusion", "consistency"} {
			b.Run(fmt.Sprintf("%s/n=%d", kind, size), func(b *testing.B) {
				hashes, reads := 0, 0
				for b.Loop() {
					if err := db.ViewLog(context.Background(), func(r translog.Reader) error {
						c := &countingReader{Reader: r}
						n, err := provers[kind](c)
						hashes, reads = max(hashes, n), max(reads, c.reads)
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
				maxReads = max(maxReads, reads)
				b.ReportMetric(float64(hashes), "max-hashes/proof")
				b.ReportMetric(float64(hashes*tlog.HashSize), "max-B/proof")
				b.ReportMetric(float64(reads), "max-reads/proof")
			})
		}
		b.Run(fmt.Sprintf("rawbolt/n=%d", size), func(b *testing.B) {
			count := tlog.StoredHashCount(size)
			for b.Loop() {
				keys := make([][]byte, maxReads)
				for i := range keys {
					keys[i] = be64(int(rand.Int64N(count)))
				}
				if err := db.ReadKeys("log_hashes", keys); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(maxReads), "reads/op")
		})
		b.Run(fmt.Sprintf("verify-inclusion/n=%d", size), func(b *testing.B) {
			head, p := mustLogProof(b, db, size/3, size)
			rec := logRecord(size / 3)
			for b.Loop() {
				if err := translog.VerifyInclusion(p, size/3, rec, head); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("verify-consistency/n=%d", size), func(b *testing.B) {
			var old, head tlog.Tree
			var p tlog.TreeProof
			if err := db.ViewLog(b.Context(), func(r translog.Reader) error {
				var err error
				if old, err = translog.Head(r, size/3); err != nil {
					return err
				}
				if head, err = translog.Head(r, size); err != nil {
					return err
				}
				p, err = translog.ProveConsistency(r, size/3, size)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := translog.VerifyConsistency(p, old, head); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustLogProof(b *testing.B, db *bolt.DB, index, size int64) (head tlog.Tree, p tlog.RecordProof) {
	b.Helper()
	if err := db.ViewLog(context.Background(), func(r translog.Reader) error {
		var err error
		if head, err = translog.Head(r, size); err != nil {
			return err
		}
		p, err = translog.ProveInclusion(r, index, size)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return head, p
}
