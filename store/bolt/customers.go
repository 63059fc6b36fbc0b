package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateCustomer stores a new customer. A UserID must name a user with
// the customer role (EInvalid).
func (s *DB) CreateCustomer(ctx context.Context, c *fieldsync.Customer, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error { return createCustomer(tx, c, actor) })
}

func createCustomer(tx *bbolt.Tx, c *fieldsync.Customer, actor fieldsync.Actor) error {
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
	return create(tx, bucketCustomers, fieldsync.EntityCustomer, c.ID, c, actor, c.CreatedAt)
}

// Customer returns a customer or ENotFound.
func (s *DB) Customer(ctx context.Context, id string) (*fieldsync.Customer, error) {
	return view[fieldsync.Customer](s, bucketCustomers, fieldsync.EntityCustomer, id)
}

// CustomerIDsOfUser returns the customer records linked to a customer's
// account.
func (s *DB) CustomerIDsOfUser(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return scanPrefix(tx.Bucket(indexCustomersByUser), key(userID, ""), "", func(child string) (bool, error) {
			ids = append(ids, child)
			return true, nil
		})
	})
	return ids, err
}
