package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// What the benchmarks (bench_test.go) need of the store's insides: a way
// to build a world of a million records in minutes instead of hours, by
// writing many records per transaction through the store's own record,
// audit and feed code. Only benchmarks and TestBenchLoaderMatchesStore use
// it.

// BenchSetNoSync turns fsync off for a bulk load, or back on (syncing
// what was written meanwhile).
func (s *DB) BenchSetNoSync(off bool) error {
	s.db.NoSync = off
	if off {
		return nil
	}
	return s.db.Sync()
}

// BenchLoader writes domain records inside one transaction. Each method is
// the body of the store's exported Create* of the same name (the checks,
// index entries, create and, for visits, backfill), minus its own
// transaction; TestBenchLoaderMatchesStore checks that the records, indexes
// and feed it writes are those the exported methods write.
type BenchLoader struct{ tx *bbolt.Tx }

// BenchLoad runs fn in one write transaction.
func (s *DB) BenchLoad(fn func(l BenchLoader) error) error {
	return s.update(func(tx *bbolt.Tx) error { return fn(BenchLoader{tx}) })
}

// Customer, Site, Asset, Ticket and Visit run the bodies of the store's
// Create* of the same name, in the loader's transaction.
func (l BenchLoader) Customer(c *fieldsync.Customer, actor fieldsync.Actor) error {
	return createCustomer(l.tx, c, actor)
}

func (l BenchLoader) Site(site *fieldsync.Site, actor fieldsync.Actor) error {
	return createSite(l.tx, site, actor)
}

func (l BenchLoader) Asset(a *fieldsync.Asset, actor fieldsync.Actor) error {
	return createAsset(l.tx, a, actor)
}

func (l BenchLoader) Ticket(t *fieldsync.Ticket, actor fieldsync.Actor) error {
	return createTicket(l.tx, t, actor)
}

func (l BenchLoader) Visit(v *fieldsync.Visit, actor fieldsync.Actor) error {
	return createVisit(l.tx, v, actor)
}

func (s *DB) BenchDump(name string, fn func(k, v []byte) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		return b.ForEach(fn)
	})
}
