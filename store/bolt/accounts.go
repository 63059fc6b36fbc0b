package bolt

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Family returns the sign-in (refresh token family) with id, or ENotFound
// (also once PruneRefresh has removed it).
func (s *DB) Family(ctx context.Context, id string) (*fieldsync.TokenFamily, error) {
	var f *fieldsync.TokenFamily
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		f, err = get[fieldsync.TokenFamily](tx.Bucket(bucketFamilies), id)
		return err
	})
	if err == nil && f == nil {
		err = fieldsync.Errorf(fieldsync.ENotFound, "sign-in %q not found", id)
	}
	return f, err
}

// DisableUser marks the user disabled and ends every sign-in of theirs, in
// one audited transaction. Disabling twice keeps the first time (and ends
// nothing more). ENotFound for an unknown user.
func (s *DB) DisableUser(ctx context.Context, id string, now time.Time) (*fieldsync.User, error) {
	return s.changeUser(ctx, id, "user.disable", now, func(tx *bbolt.Tx, u *fieldsync.User) (map[string]string, error) {
		if u.Disabled() {
			return nil, nil
		}
		u.DisabledAt = &now
		n, err := endFamilies(tx, u.ID, "", now)
		return map[string]string{"disabled_at": now.Format(time.RFC3339), "sessions_ended": strconv.Itoa(n)}, err
	})
}

// EnableUser clears a user's disabling, audited. Enabling an enabled user
// changes nothing. ENotFound for an unknown user.
func (s *DB) EnableUser(ctx context.Context, id string, now time.Time) (*fieldsync.User, error) {
	return s.changeUser(ctx, id, "user.enable", now, func(tx *bbolt.Tx, u *fieldsync.User) (map[string]string, error) {
		if !u.Disabled() {
			return nil, nil
		}
		u.DisabledAt = nil
		return map[string]string{"disabled_at": ""}, nil
	})
}

// SetPassword stores a new password hash for the user and ends every
// sign-in of theirs except the family keep ("" for none), in one
// transaction audited as action (the hash never reaches the audit trail).
// ENotFound for an unknown user.
func (s *DB) SetPassword(ctx context.Context, id, hash, keep, action string, now time.Time) (*fieldsync.User, error) {
	return s.changeUser(ctx, id, action, now, func(tx *bbolt.Tx, u *fieldsync.User) (map[string]string, error) {
		u.PasswordHash = hash
		n, err := endFamilies(tx, u.ID, keep, now)
		return map[string]string{"password": "changed", "sessions_ended": strconv.Itoa(n)}, err
	})
}

// changeUser loads user id, lets fn change it and name the changes for the
// audit trail (nil: nothing changed, nothing written), then stores it. The
// user returned carries no password hash.
func (s *DB) changeUser(ctx context.Context, id, action string, now time.Time, fn func(*bbolt.Tx, *fieldsync.User) (map[string]string, error)) (*fieldsync.User, error) {
	var out *fieldsync.User
	err := s.db.Update(func(tx *bbolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		u, err := get[fieldsync.User](users, id)
		if err != nil {
			return err
		}
		if u == nil {
			return notFound(fieldsync.EntityUser, id)
		}
		changes, err := fn(tx, u)
		if err != nil {
			return err
		}
		out = u
		if changes == nil {
			return nil
		}
		if err := put(users, id, u); err != nil {
			return err
		}
		fields := make(map[string]json.RawMessage, len(changes))
		for k, v := range changes {
			fields[k], _ = json.Marshal(v)
		}
		return auditKnown(tx, fieldsync.EntityUser, id, fields, fieldsync.ActorFrom(ctx), action, now)
	})
	if out != nil {
		out.PasswordHash = ""
	}
	return out, err
}

// endFamilies revokes every live sign-in of user but keep and returns how
// many it ended. Families have no index by user: this scans them, which
// suits operations as rare as an admin's.
func endFamilies(tx *bbolt.Tx, user, keep string, now time.Time) (int, error) {
	families := tx.Bucket(bucketFamilies)
	var ended []fieldsync.TokenFamily
	err := families.ForEach(func(_, raw []byte) error {
		var f fieldsync.TokenFamily
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		if f.UserID == user && f.ID != keep && f.RevokedAt == nil {
			ended = append(ended, f)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Written after the walk: bbolt forbids changing a bucket while
	// ForEach runs over it.
	for _, f := range ended {
		f.RevokedAt = &now
		if err := put(families, f.ID, f); err != nil {
			return 0, err
		}
	}
	return len(ended), nil
}

// reusedError says what a reused refresh token ended: the one sign-in it
// belonged to, on device, not the user's other sign-ins.
func reusedError(device string) error {
	return fieldsync.Errorf(fieldsync.ERefreshReused, "this refresh token was already used, so it may have been copied: this sign-in on device %s was ended; sign in again", device)
}
