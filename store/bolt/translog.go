package bolt

import (
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync/sync/translog"
)

// AppendLog appends record to the transparency log in one transaction and
// returns its index.
func (s *DB) AppendLog(record []byte) (int64, error) {
	var index int64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		index, err = translog.Append(logTx(tx), record)
		return err
	})
	return index, err
}

// ViewLog runs fn on the transparency log as one read transaction sees
// it: a head and the proofs made in fn are of the same tree.
func (s *DB) ViewLog(ctx context.Context, fn func(translog.Reader) error) error {
	return s.db.View(func(tx *bbolt.Tx) error { return fn(logTx(tx)) })
}

// logTx is the transparency log inside tx. A write that logs a record
// appends through it in its own transaction, so the record it describes
// and its log entry are committed together.
func logTx(tx *bbolt.Tx) boltLog {
	l := boltLog{tx: tx, hashes: tx.Bucket(bucketLogHashes), records: tx.Bucket(bucketLogRecords)}
	if tx.Writable() {
		// Keys only ever grow: full pages, as a log is never rewritten.
		l.hashes.FillPercent, l.records.FillPercent = 1, 1
	}
	return l
}

// boltLog implements translog.Writer on one transaction.
type boltLog struct {
	tx              *bbolt.Tx
	hashes, records *bbolt.Bucket
}

func logKey(i int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }

func (l boltLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		raw := l.hashes.Get(logKey(x))
		if len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("log: stored hash %d missing or corrupt", x)
		}
		copy(out[i][:], raw)
	}
	return out, nil
}

func (l boltLog) Size() (int64, error) {
	raw := l.tx.Bucket(bucketMeta).Get(keyLogSize)
	if raw == nil {
		return 0, nil
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("log: corrupt size record")
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

func (l boltLog) Record(i int64) ([]byte, error) {
	raw := l.records.Get(logKey(i))
	if raw == nil {
		return nil, fmt.Errorf("log: record %d missing", i)
	}
	return append([]byte(nil), raw...), nil
}

func (l boltLog) WriteHashes(start int64, hashes []tlog.Hash) error {
	for i := range hashes {
		if err := l.hashes.Put(logKey(start+int64(i)), hashes[i][:]); err != nil {
			return err
		}
	}
	return nil
}

func (l boltLog) PutRecord(i int64, data []byte) error { return l.records.Put(logKey(i), data) }

func (l boltLog) SetSize(n int64) error { return l.tx.Bucket(bucketMeta).Put(keyLogSize, logKey(n)) }
