package bolt

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// Dump calls fn with every key and value of the bucket named name, for
// tests that compare what two ways of writing put on disk.
func (s *DB) Dump(name string, fn func(k, v []byte) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		return b.ForEach(fn)
	})
}

// SetBatch sets how many pushes may share a transaction at most and how
// long the first waits for the others, so a test can gather a known set
// of concurrent pushes into one transaction.
func (s *DB) SetBatch(size int, delay time.Duration) {
	s.db.MaxBatchSize, s.db.MaxBatchDelay = size, delay
}

// PushSolo is Push in a transaction of its own (bbolt's Update): the
// reference the benchmarks compare shared push transactions with.
func (s *DB) PushSolo(ctx context.Context, fn func(syncproto.Txn) error) error {
	return s.update(s.pushing(fn))
}

// AppendingLog returns fn followed, in the push's transaction, by the
// append of record to the transparency log, as a push that seals a
// signed report appends its seal. The record is fixed before the push,
// so a rerun of the push appends the same one.
func AppendingLog(fn func(syncproto.Txn) error, record []byte) func(syncproto.Txn) error {
	return func(tx syncproto.Txn) error {
		if err := fn(tx); err != nil {
			return err
		}
		_, err := translog.Append(logTx(tx.(*pushTx).tx), record)
		return err
	}
}

// ReadKeys reads keys of the bucket named name in one read transaction,
// failing on a missing one: raw bbolt point reads, the reference of the
// log's proofs.
func (s *DB) ReadKeys(name string, keys [][]byte) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(name))
		for _, k := range keys {
			if b.Get(k) == nil {
				return fmt.Errorf("%s: key %x missing", name, k)
			}
		}
		return nil
	})
}
