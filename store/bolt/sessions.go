package bolt

import (
	"context"
	"encoding/json"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// StartSession registers (or refreshes) the device of a login with the
// key it presents (nil: its keys stay as they are; see
// fieldsync.Device.PresentKey, whose EDeviceKeyRetired it returns), settles
// the install it runs on and stores the first refresh token of a new
// family, in one transaction. The device's keys are never deleted. The install is the one named presented when that is
// an install of this user's device; otherwise fresh, a new one, is stored:
// a fresh database, or one whose install this store does not know (another
// user signed in on it, or the store was restored from before it). A
// revoked device gets EDeviceRevoked. Devices are the user's own: the same
// device id under another user is another device.
func (s *DB) StartSession(ctx context.Context, dev fieldsync.Device, key *fieldsync.DeviceKey, presented string, fresh fieldsync.Install, fam fieldsync.TokenFamily, tok fieldsync.RefreshToken) (*fieldsync.Install, error) {
	var out *fieldsync.Install
	err := s.db.Update(func(tx *bbolt.Tx) error {
		devices := tx.Bucket(bucketDevices)
		dk := deviceKey(dev.UserID, dev.ID)
		old, err := get[fieldsync.Device](devices, dk)
		if err != nil {
			return err
		}
		if old != nil {
			if old.Revoked() {
				return fieldsync.Errorf(fieldsync.EDeviceRevoked, "device %q was revoked", dev.ID)
			}
			old.LastSeen = dev.LastSeen
			if dev.Name != "" {
				old.Name = dev.Name
			}
			dev = *old
		}
		if key != nil {
			if err := dev.PresentKey(*key); err != nil {
				return err
			}
		}
		if err := put(devices, dk, dev); err != nil {
			return err
		}
		ins, err := settleInstall(tx, presented, fresh)
		if err != nil {
			return err
		}
		fam.InstallID, tok.InstallID = ins.ID, ins.ID
		if err := put(tx.Bucket(bucketFamilies), fam.ID, fam); err != nil {
			return err
		}
		out = ins
		return put(tx.Bucket(bucketRefresh), tok.Hash, tok)
	})
	return out, err
}

// RotateRefresh exchanges the refresh token whose hash is oldHash for next,
// which inherits its family, user and device. The answers:
//   - ERefreshInvalid: unknown, expired, or its family was ended (logout);
//   - ERefreshReused: the token had been rotated already, so it was copied:
//     the whole family is revoked (committed) before the error returns;
//   - EDeviceRevoked: the device was revoked.
func (s *DB) RotateRefresh(ctx context.Context, oldHash string, next fieldsync.RefreshToken) (*fieldsync.RefreshToken, error) {
	var (
		out      *fieldsync.RefreshToken
		reused   bool
		reusedOn string
	)
	now := next.CreatedAt
	err := s.db.Update(func(tx *bbolt.Tx) error {
		tokens, families := tx.Bucket(bucketRefresh), tx.Bucket(bucketFamilies)
		old, err := get[fieldsync.RefreshToken](tokens, oldHash)
		if err != nil {
			return err
		}
		if old == nil || !now.Before(old.ExpiresAt) {
			return fieldsync.Errorf(fieldsync.ERefreshInvalid, "refresh token is unknown or expired")
		}
		fam, err := get[fieldsync.TokenFamily](families, old.Family)
		if err != nil {
			return err
		}
		if fam == nil || fam.RevokedAt != nil {
			return fieldsync.Errorf(fieldsync.ERefreshInvalid, "refresh token was revoked")
		}
		if old.RotatedAt != nil {
			// Return nil so the revocation commits; the error follows below.
			reused, reusedOn = true, fam.DeviceID
			fam.RevokedAt = &now
			return put(families, fam.ID, fam)
		}
		dk := deviceKey(old.UserID, old.DeviceID)
		dev, err := get[fieldsync.Device](tx.Bucket(bucketDevices), dk)
		if err != nil {
			return err
		}
		if dev == nil || dev.Revoked() {
			return fieldsync.Errorf(fieldsync.EDeviceRevoked, "device %q was revoked", old.DeviceID)
		}
		old.RotatedAt = &now
		if err := put(tokens, oldHash, old); err != nil {
			return err
		}
		next.Family, next.UserID, next.DeviceID, next.InstallID = old.Family, old.UserID, old.DeviceID, fam.InstallID
		dev.LastSeen = now
		if err := put(tx.Bucket(bucketDevices), dk, dev); err != nil {
			return err
		}
		out = &next
		return put(tokens, next.Hash, next)
	})
	if err == nil && reused {
		err = reusedError(reusedOn)
	}
	return out, err
}

// EndFamily revokes the family of the refresh token with hash (logout).
// Unknown tokens are not an error, so a repeated logout is harmless.
func (s *DB) EndFamily(ctx context.Context, hash string, now time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		tok, err := get[fieldsync.RefreshToken](tx.Bucket(bucketRefresh), hash)
		if err != nil || tok == nil {
			return err
		}
		families := tx.Bucket(bucketFamilies)
		fam, err := get[fieldsync.TokenFamily](families, tok.Family)
		if err != nil || fam == nil || fam.RevokedAt != nil {
			return err
		}
		fam.RevokedAt = &now
		return put(families, fam.ID, fam)
	})
}

// Device returns the device id of user, or ENotFound.
func (s *DB) Device(ctx context.Context, userID, id string) (*fieldsync.Device, error) {
	var d *fieldsync.Device
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		d, err = get[fieldsync.Device](tx.Bucket(bucketDevices), deviceKey(userID, id))
		return err
	})
	if err == nil && d == nil {
		err = notFound(fieldsync.EntityDevice, id)
	}
	return d, err
}

// DeviceKey returns the key keyID of the device deviceID of user, current
// or retired, or ENotFound. Whether it could sign at a given time is the
// device's rule (Device.KeyValidAt): a verifier reads the device too.
func (s *DB) DeviceKey(ctx context.Context, userID, deviceID, keyID string) (*fieldsync.DeviceKey, error) {
	d, err := s.Device(ctx, userID, deviceID)
	if err != nil {
		return nil, err
	}
	if k := d.Key(keyID); k != nil {
		return k, nil
	}
	return nil, fieldsync.Errorf(fieldsync.ENotFound, "device %q has no key %q", deviceID, keyID)
}

// Devices lists every registered device, by user, then by id.
func (s *DB) Devices(ctx context.Context) ([]fieldsync.Device, error) {
	var out []fieldsync.Device
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDevices).ForEach(func(_, raw []byte) error {
			var d fieldsync.Device
			if err := json.Unmarshal(raw, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// RevokeDevice marks the device id of user revoked: its refresh tokens are
// refused at once and its access tokens from the next request on. With no
// user, the id must name the device of exactly one user: EConflict when
// several users hold a device of that id, so that a revocation never
// guesses. Revoking twice keeps the first time. ENotFound for an unknown
// device.
func (s *DB) RevokeDevice(ctx context.Context, userID, id string, now time.Time) (*fieldsync.Device, error) {
	var d *fieldsync.Device
	err := s.db.Update(func(tx *bbolt.Tx) (err error) {
		devices := tx.Bucket(bucketDevices)
		if userID == "" {
			if userID, err = soleHolder(devices, id); err != nil {
				return err
			}
		}
		dk := deviceKey(userID, id)
		d, err = get[fieldsync.Device](devices, dk)
		if err != nil {
			return err
		}
		if d == nil {
			return notFound(fieldsync.EntityDevice, id)
		}
		if d.RevokedAt != nil {
			return nil
		}
		before := *d
		d.RevokedAt = &now
		if err := put(devices, dk, d); err != nil {
			return err
		}
		return writeAudit(tx, fieldsync.EntityDevice, id, before, d, fieldsync.ActorFrom(ctx), "device.revoke", now)
	})
	return d, err
}

// PruneRefresh deletes refresh tokens that expired before now, and the
// families left without tokens, so the file does not grow with every
// rotation. It returns how many tokens it deleted.
func (s *DB) PruneRefresh(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		live := map[string]bool{}
		var expired [][]byte
		tokens := tx.Bucket(bucketRefresh)
		if err := tokens.ForEach(func(k, raw []byte) error {
			var t fieldsync.RefreshToken
			if err := json.Unmarshal(raw, &t); err != nil {
				return err
			}
			if now.Before(t.ExpiresAt) {
				live[t.Family] = true
			} else {
				// Keys are only valid during the iteration: copy them.
				expired = append(expired, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		families := tx.Bucket(bucketFamilies)
		var dead [][]byte
		if err := families.ForEach(func(k, _ []byte) error {
			if !live[string(k)] {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		n = len(expired)
		for _, k := range expired {
			if err := tokens.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range dead {
			if err := families.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
