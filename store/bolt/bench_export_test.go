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

// Customer is CreateCustomer's body.
func (l BenchLoader) Customer(c *fieldsync.Customer, actor fieldsync.Actor) error {
	tx := l.tx
	if c.UserID != "" {
		u, err := must[fieldsync.User](tx, bucketUsers, "user_id", c.UserID)
		if err != nil {
			return err
		}
		if u.Role != fieldsync.RoleCustomer {
			return fieldsync.Errorf(fieldsync.EInvalid, "user_id: user %q is a %s, not a customer", c.UserID, u.Role)
		}
		if err := tx.Bucket(indexCustomersByUser).Put(key(c.UserID, c.ID), nil); err != nil {
			return err
		}
	}
	return create(tx, bucketCustomers, "customer", c.ID, c, actor, c.CreatedAt)
}

// Site is CreateSite's body.
func (l BenchLoader) Site(site *fieldsync.Site, actor fieldsync.Actor) error {
	if _, err := must[fieldsync.Customer](l.tx, bucketCustomers, "customer_id", site.CustomerID); err != nil {
		return err
	}
	return create(l.tx, bucketSites, "site", site.ID, site, actor, site.CreatedAt)
}

// Asset is CreateAsset's body.
func (l BenchLoader) Asset(a *fieldsync.Asset, actor fieldsync.Actor) error {
	if _, err := must[fieldsync.Customer](l.tx, bucketCustomers, "customer_id", a.CustomerID); err != nil {
		return err
	}
	return create(l.tx, bucketAssets, "asset", a.ID, a, actor, a.CreatedAt)
}

// Ticket is CreateTicket's body.
func (l BenchLoader) Ticket(t *fieldsync.Ticket, actor fieldsync.Actor) error {
	tx := l.tx
	if _, err := must[fieldsync.Customer](tx, bucketCustomers, "customer_id", t.CustomerID); err != nil {
		return err
	}
	site, err := must[fieldsync.Site](tx, bucketSites, "site_id", t.SiteID)
	if err != nil {
		return err
	}
	asset, err := must[fieldsync.Asset](tx, bucketAssets, "asset_id", t.AssetID)
	if err != nil {
		return err
	}
	if site.CustomerID != t.CustomerID || asset.CustomerID != t.CustomerID {
		return fieldsync.Errorf(fieldsync.EInvalid, "the site and the asset must belong to customer %q", t.CustomerID)
	}
	if err := tx.Bucket(indexTicketsByCust).Put(key(t.CustomerID, t.ID), nil); err != nil {
		return err
	}
	return create(tx, bucketTickets, "ticket", t.ID, t, actor, t.CreatedAt)
}

// Visit is CreateVisit's body.
func (l BenchLoader) Visit(v *fieldsync.Visit, actor fieldsync.Actor) error {
	tx := l.tx
	if _, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", v.TicketID); err != nil {
		return err
	}
	if err := checkTechnician(tx, v.TechnicianID); err != nil {
		return err
	}
	if err := tx.Bucket(indexVisitsByTicket).Put(key(v.TicketID, v.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(indexVisitsByTech).Put(key(v.TechnicianID, v.ID), nil); err != nil {
		return err
	}
	if err := create(tx, bucketVisits, "visit", v.ID, v, actor, v.CreatedAt); err != nil {
		return err
	}
	return backfill(tx, v.TechnicianID, v.ID, v.CreatedAt)
}

// BenchDump calls fn with every key and value of bucket name, in order,
// for TestBenchLoaderMatchesStore.
func (s *DB) BenchDump(name string, fn func(k, v []byte) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		return b.ForEach(fn)
	})
}
