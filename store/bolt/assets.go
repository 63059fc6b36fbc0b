package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateAsset stores a new asset of an existing customer.
func (s *DB) CreateAsset(ctx context.Context, a *fieldsync.Asset, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error { return createAsset(tx, a, actor) })
}

func createAsset(tx *bbolt.Tx, a *fieldsync.Asset, actor fieldsync.Actor) error {
	if err := createOwned(tx, bucketAssets, fieldsync.EntityAsset, a.ID, a.CustomerID, a, actor, a.CreatedAt); err != nil {
		return err
	}
	return indexAsset(tx, nil, a)
}

// Asset returns an asset or ENotFound.
func (s *DB) Asset(ctx context.Context, id string) (*fieldsync.Asset, error) {
	return view[fieldsync.Asset](s, bucketAssets, fieldsync.EntityAsset, id)
}
