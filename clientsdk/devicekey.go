package clientsdk

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// The device's signing key. The device makes an Ed25519 key pair at its
// first login and keeps the private key's seed in meta, sealed (vault.go);
// only the public key leaves the device, registered with the device record
// at every login (device_key). A rotation (RotateDeviceKey) makes a next
// key, kept beside the current one until a login registers it; the server
// then retires the old key, whose signatures stay valid. The next key is
// presented only at a login with an empty outbox, so that no work signed
// with the old key is still waiting to be pushed when the server retires
// it. A revoked device forgets both (revoke.go).

// ErrNoDeviceKey: nothing can be signed before the device's first login.
var ErrNoDeviceKey = errors.New("this device has no signing key yet: sign in first")

// DeviceKeyID returns the id of the key the device signs with (its RFC
// 7638 thumbprint, as the server lists it under the device's keys), ""
// before the first login.
func (c *Client) DeviceKeyID() (string, error) {
	if c.isClosed() {
		return "", ErrClosed
	}
	var id string
	err := c.db.View(func(tx *bbolt.Tx) error {
		priv, err := deviceKey(tx, keyDeviceKey)
		if priv != nil {
			id = fieldsync.DeviceKeyID(priv.Public().(ed25519.PublicKey))
		}
		return err
	})
	return id, err
}

// RotateDeviceKey makes a new signing key, registered at the next login
// whose outbox is empty; until then the current key goes on signing.
// Rotating again before that replaces the key not yet registered.
func (c *Client) RotateDeviceKey() error {
	if c.isClosed() {
		return ErrClosed
	}
	return c.db.Update(func(tx *bbolt.Tx) error {
		if priv, err := deviceKey(tx, keyDeviceKey); err != nil || priv == nil {
			return err // the first login makes the first key anyway
		}
		_, err := newDeviceKey(tx, keyDeviceKeyNext)
		return err
	})
}

// signDigest signs digest with the device's current key and returns the
// signature and the key's id; ErrNoDeviceKey before the first login.
func signDigest(tx *bbolt.Tx, digest []byte) (sig []byte, keyID string, err error) {
	priv, err := deviceKey(tx, keyDeviceKey)
	if err != nil {
		return nil, "", err
	}
	if priv == nil {
		return nil, "", ErrNoDeviceKey
	}
	return ed25519.Sign(priv, digest), fieldsync.DeviceKeyID(priv.Public().(ed25519.PublicKey)), nil
}

// loginKey returns the public key a login presents (device_key): the
// current key, made now at the first login, or the next key of a
// rotation when the outbox is empty or force is set (the server retired
// the current key: it can sign nothing more anyway).
func loginKey(tx *bbolt.Tx, force bool) (string, error) {
	cur, err := deviceKey(tx, keyDeviceKey)
	if err != nil {
		return "", err
	}
	if cur == nil {
		if cur, err = newDeviceKey(tx, keyDeviceKey); err != nil {
			return "", err
		}
		return publicKey(cur), nil
	}
	next, err := deviceKey(tx, keyDeviceKeyNext)
	if err != nil {
		return "", err
	}
	if next != nil {
		if k, _ := tx.Bucket(bucketOutbox).Cursor().First(); k == nil || force {
			return publicKey(next), nil
		}
	}
	return publicKey(cur), nil
}

// retiredKey answers the server's device_key_retired (the file was
// restored from before a rotation, or a login's answer was lost after it
// registered the next key): the next key, made now if there is none, is
// presented at once.
func retiredKey(tx *bbolt.Tx) (string, error) {
	next, err := deviceKey(tx, keyDeviceKeyNext)
	if err != nil {
		return "", err
	}
	if next == nil {
		if _, err := newDeviceKey(tx, keyDeviceKeyNext); err != nil {
			return "", err
		}
	}
	return loginKey(tx, true)
}

// registered records that a login registered presented: a next key
// becomes the current one, and the old one is dropped (the server keeps
// its public half, which is all that verifies its signatures).
func registered(tx *bbolt.Tx, presented string) error {
	next, err := deviceKey(tx, keyDeviceKeyNext)
	if err != nil || next == nil || publicKey(next) != presented {
		return err
	}
	if err := putValue(tx, bucketMeta, keyDeviceKey, next.Seed()); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Delete(keyDeviceKeyNext)
}

// deviceKey opens the key kept under name, nil when absent.
func deviceKey(tx *bbolt.Tx, name []byte) (ed25519.PrivateKey, error) {
	seed, err := getValue(tx, bucketMeta, name)
	if err != nil || seed == nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("meta %q: not an Ed25519 key", name)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// newDeviceKey makes a key pair and keeps its seed, sealed, under name.
func newDeviceKey(tx *bbolt.Tx, name []byte) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return priv, putValue(tx, bucketMeta, name, priv.Seed())
}

// publicKey is the key's public half as a login sends it.
func publicKey(priv ed25519.PrivateKey) string {
	return base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
}
