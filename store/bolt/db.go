package bolt

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/seal"
)

const initialMmapSize = 1 << 30

// maxBatchDelay is how long a push waits for concurrent pushes to share
// its transaction and fsync (DB.batch). Longer gathers more pushes per
// fsync but delays a lone push by as much; BENCHMARKS.md ("Concurrent
// pushes") has the measurements it was chosen by.
const maxBatchDelay = 2 * time.Millisecond

// DB is the store. It is safe for concurrent use.
type DB struct {
	db    *bbolt.DB
	epoch string // names this store in sync cursors

	mu      sync.Mutex
	changed chan struct{} // closed at the next committed change
	sealKey func() seal.Key
	sealLog *slog.Logger

	noSealKey sync.Once // warned that reports wait for a key

	clocks atomic.Pointer[clocks] // SetPolicy; nil counts the defaults
}

// Open opens (creating if needed) the bbolt file at path and migrates it
// to the current schema. It fails after a second when another process
// holds the file, instead of waiting forever.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// A read transaction blocks a write that must grow the file's mapping
	// until it ends; mapping ahead of the file keeps a long one (a
	// backup) from stalling pushes. The mapping is address space, not
	// memory.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, InitialMmapSize: initialMmapSize})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: the file is in use by another process (is `fieldsync serve` running on this data directory?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var epoch []byte
	db.View(func(tx *bbolt.Tx) error {
		epoch = append(epoch, tx.Bucket(bucketMeta).Get(keyEpoch)...)
		return nil
	})
	db.MaxBatchDelay = maxBatchDelay
	return &DB{db: db, epoch: hex.EncodeToString(epoch)}, nil
}

// Close closes the file; pending transactions finish first.
func (s *DB) Close() error { return s.db.Close() }

// Ping reports whether the file answers a read transaction.
func (s *DB) Ping(ctx context.Context) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}

func get[T any](b *bbolt.Bucket, key string) (*T, error) {
	raw := b.Get([]byte(key))
	if raw == nil {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", b, key, err)
	}
	return v, nil
}

func put(b *bbolt.Bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), raw)
}

func notFound(kind fieldsync.Entity, id string) error {
	return fieldsync.Errorf(fieldsync.ENotFound, "%s %q not found", kind, id)
}

// update runs a write transaction of synced records and wakes long polls
// once it has committed.
func (s *DB) update(fn func(tx *bbolt.Tx) error) error {
	if err := s.db.Update(fn); err != nil {
		return err
	}
	s.notify()
	return nil
}

// batch is update for many concurrent writers: calls that arrive within
// maxBatchDelay share one transaction and one fsync (bbolt's Batch). When
// one of them fails, the transaction is rolled back and the others run
// again in a new one, the failing one alone; so fn may run more than
// once, and must start from nothing each time (no state kept across runs
// but what it resets first, no effect outside tx).
func (s *DB) batch(fn func(tx *bbolt.Tx) error) error {
	if err := s.db.Batch(fn); err != nil {
		return err
	}
	s.notify()
	return nil
}
