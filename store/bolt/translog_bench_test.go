package bolt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// BenchmarkProof measures inclusion and consistency proofs (time, and
// hashes per proof) in logs of 10k and 1M entries: both grow as log n.
func BenchmarkProof(b *testing.B) {
	for _, size := range []int64{10_000, 1_000_000} {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "log.db"))
		if err != nil {
			b.Fatal(err)
		}
		for i := int64(0); i < size; i += 10_000 {
			batch := make([][]byte, 0, 10_000)
			for j := i; j < min(i+10_000, size); j++ {
				batch = append(batch, logRecord(j))
			}
			if err := db.AppendLogBatch(batch); err != nil {
				b.Fatal(err)
			}
		}
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
		for _, kind := range []string{"inclusion", "consistency"} {
			b.Run(fmt.Sprintf("%s/n=%d", kind, size), func(b *testing.B) {
				hashes := 0
				for b.Loop() {
					if err := db.ViewLog(context.Background(), func(r translog.Reader) error {
						n, err := provers[kind](r)
						hashes = max(hashes, n)
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(hashes), "max-hashes/proof")
				b.ReportMetric(float64(hashes*32), "max-B/proof")
			})
		}
		b.Run(fmt.Sprintf("verify-inclusion/n=%d", size), func(b *testing.B) {
			head, p := mustLogProof(b, db, size/3, size)
			rec := logRecord(size / 3)
			for b.Loop() {
				if err := translog.VerifyInclusion(p, size/3, rec, head); err != nil {
					b.Fatal(err)
				}
			}
		})
		db.Close()
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
