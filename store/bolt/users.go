package bolt

import (
	"context"
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateUser stores a new user. The login must be unused (EConflict).
func (s *DB) CreateUser(ctx context.Context, u fieldsync.User) error {
	u.Login = fieldsync.NormalizeLogin(u.Login)
	return s.db.Update(func(tx *bbolt.Tx) error {
		logins := tx.Bucket(bucketUserLogins)
		if logins.Get([]byte(u.Login)) != nil {
			return fieldsync.Errorf(fieldsync.EConflict, "login %q is taken", u.Login)
		}
		users := tx.Bucket(bucketUsers)
		if users.Get([]byte(u.ID)) != nil {
			return fieldsync.Errorf(fieldsync.EConflict, "user %q exists", u.ID)
		}
		if err := logins.Put([]byte(u.Login), []byte(u.ID)); err != nil {
			return err
		}
		if err := put(users, u.ID, u); err != nil {
			return err
		}
		shown := u
		shown.PasswordHash = "" // the audit trail never holds a password hash
		return writeAudit(tx, fieldsync.EntityUser, u.ID, nil, shown, fieldsync.ActorFrom(ctx), "user.create", u.CreatedAt)
	})
}

// User returns the user with id, or ENotFound.
func (s *DB) User(ctx context.Context, id string) (*fieldsync.User, error) {
	var u *fieldsync.User
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		u, err = get[fieldsync.User](tx.Bucket(bucketUsers), id)
		return err
	})
	if err == nil && u == nil {
		err = notFound(fieldsync.EntityUser, id)
	}
	return u, err
}

// UserByLogin returns the user with the (normalized) login, or ENotFound.
func (s *DB) UserByLogin(ctx context.Context, login string) (*fieldsync.User, error) {
	login = fieldsync.NormalizeLogin(login)
	var u *fieldsync.User
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(bucketUserLogins).Get([]byte(login))
		if id == nil {
			return nil
		}
		u, err = get[fieldsync.User](tx.Bucket(bucketUsers), string(id))
		return err
	})
	if err == nil && u == nil {
		err = notFound(fieldsync.EntityUser, login)
	}
	return u, err
}

// Users lists the users with the given role (all users for ""), in id
// order, which is creation order for UUIDv7 ids.
func (s *DB) Users(ctx context.Context, role fieldsync.Role) ([]fieldsync.User, error) {
	var out []fieldsync.User
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(_, raw []byte) error {
			var u fieldsync.User
			if err := json.Unmarshal(raw, &u); err != nil {
				return err
			}
			if role == "" || u.Role == role {
				out = append(out, u)
			}
			return nil
		})
	})
	return out, err
}
