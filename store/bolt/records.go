package bolt

import (
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// create stores a new record; EConflict if the id is taken.
func create(tx *bbolt.Tx, bucket []byte, entity fieldsync.Entity, id string, v any, actor fieldsync.Actor, now time.Time) error {
	if id == "" {
		return fieldsync.Errorf(fieldsync.EInvalid, "%s id is required", entity)
	}
	if tx.Bucket(bucket).Get([]byte(id)) != nil {
		return fieldsync.Errorf(fieldsync.EConflict, "%s %q exists", entity, id)
	}
	return audited(tx, bucket, entity, id, nil, v, actor, string(entity)+".create", now)
}

// createOwned stores a new record of an existing customer.
func createOwned(tx *bbolt.Tx, bucket []byte, entity fieldsync.Entity, id, customerID string, v any, actor fieldsync.Actor, at time.Time) error {
	if _, err := must[fieldsync.Customer](tx, bucketCustomers, "customer_id", customerID); err != nil {
		return err
	}
	return create(tx, bucket, entity, id, v, actor, at)
}

// audited stores after under id in bucket, appends the audit entry of the
// change and publishes it to the sync feed, in the caller's transaction.
func audited(tx *bbolt.Tx, bucket []byte, entity fieldsync.Entity, id string, before, after any, actor fieldsync.Actor, action string, now time.Time) error {
	if err := put(tx.Bucket(bucket), id, after); err != nil {
		return err
	}
	if err := writeAudit(tx, entity, id, before, after, actor, action, now); err != nil {
		return err
	}
	_, err := publish(tx, entity, id, syncproto.ChangeUpsert, now)
	return err
}

// must loads the record id of bucket, or ENotFound naming the field that
// referred to it.
func must[T any](tx *bbolt.Tx, bucket []byte, field, id string) (*T, error) {
	v, err := get[T](tx.Bucket(bucket), id)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "%s: no record %q", field, id)
	}
	return v, nil
}

// view loads one record in a read transaction, or ENotFound.
func view[T any](s *DB, bucket []byte, kind fieldsync.Entity, id string) (*T, error) {
	var v *T
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		v, err = must[T](tx, bucket, string(kind), id)
		return err
	})
	return v, err
}
