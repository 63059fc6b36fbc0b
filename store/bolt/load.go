package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Load runs fn in one write transaction with a Loader, to write many
// records at once: a store of a million records (a benchmark's world, an
// import) is then written in minutes instead of the hours of a transaction
// and an fsync per record. fn's error aborts the whole load.
func (s *DB) Load(fn func(Loader) error) error {
	return s.update(func(tx *bbolt.Tx) error { return fn(Loader{tx}) })
}

// Loader writes records inside a Load. Each method runs the body of the
// Create* method of the same name — its checks, index entries, audit entry
// and feed places — in the load's transaction. Visit stores the visit as
// given, without the booking rules CreateVisit's caller applies.
type Loader struct{ tx *bbolt.Tx }

func (l Loader) Customer(c *fieldsync.Customer, actor fieldsync.Actor) error {
	return createCustomer(l.tx, c, actor)
}

func (l Loader) Site(site *fieldsync.Site, actor fieldsync.Actor) error {
	return createSite(l.tx, site, actor)
}

func (l Loader) Asset(a *fieldsync.Asset, actor fieldsync.Actor) error {
	return createAsset(l.tx, a, actor)
}

func (l Loader) Ticket(t *fieldsync.Ticket, actor fieldsync.Actor) error {
	return createTicket(l.tx, t, actor)
}

func (l Loader) Visit(v *fieldsync.Visit, actor fieldsync.Actor) error {
	return createVisit(l.tx, v, actor)
}
