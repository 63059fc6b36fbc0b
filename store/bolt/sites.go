package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateSite stores a new site of an existing customer.
func (s *DB) CreateSite(ctx context.Context, site *fieldsync.Site, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error { return createSite(tx, site, actor) })
}

func createSite(tx *bbolt.Tx, site *fieldsync.Site, actor fieldsync.Actor) error {
	if err := createOwned(tx, bucketSites, fieldsync.EntitySite, site.ID, site.CustomerID, site, actor, site.CreatedAt); err != nil {
		return err
	}
	return indexSite(tx, site)
}

// Site returns a site or ENotFound.
func (s *DB) Site(ctx context.Context, id string) (*fieldsync.Site, error) {
	return view[fieldsync.Site](s, bucketSites, fieldsync.EntitySite, id)
}
