package clientsdk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// device returns the server's record of user's device, as the admin lists it.
func (w *e2eWorld) device(user, id string) fieldsync.Device {
	w.t.Helper()
	var page struct{ Items []fieldsync.Device }
	w.call(w.admin, "GET", "/v1/devices", nil, 200, &page)
	i := slices.IndexFunc(page.Items, func(d fieldsync.Device) bool { return d.UserID == user && d.ID == id })
	if i < 0 {
		w.t.Fatalf("device %s of %s is not listed", id, user)
	}
	return page.Items[i]
}

// keyIDs returns the ids of the device's keys, oldest first, and the
// current one.
func keyIDs(d fieldsync.Device) (ids []string, current string) {
	for _, k := range d.Keys {
		ids = append(ids, k.ID)
		if k.RetiredAt == nil {
			current = k.ID
		}
	}
	return ids, current
}

func keyID(t *testing.T, c *Client) string {
	t.Helper()
	id, err := c.DeviceKeyID()
	must(t, err)
	return id
}

// signed signs digest on the tablet, as sealing a report will.
func signed(t *testing.T, c *Client, digest []byte) (sig []byte, keyID string) {
	t.Helper()
	must(t, c.db.View(func(tx *bbolt.Tx) (err error) {
		sig, keyID, err = signDigest(tx, digest)
		return err
	}))
	return sig, keyID
}

// A tablet's first login registers its key, which signs what the server
// then verifies; a login again keeps it; a reinstalled app (a fresh file,
// the same device id) registers a second key and retires the first, which
// still verifies what it signed; revoking the device ends what its keys
// can sign, and the tablet forgets them.
func TestE2EDeviceKeysAreRegisteredKeptAndRetired(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a")
	if id := keyID(t, tab.c); id != "" {
		t.Fatalf("a device that never signed in has key %q", id)
	}
	digest := sha256.Sum256([]byte("a canonical report"))
	if _, _, err := signDigest0(tab.c, digest[:]); !errors.Is(err, ErrNoDeviceKey) {
		t.Fatalf("signing before the first login: %v, want ErrNoDeviceKey", err)
	}

	tab.login(t, e2eTechA)
	first := keyID(t, tab.c)
	dev := w.device(w.techA, "tab-a")
	if ids, cur := keyIDs(dev); !slices.Equal(ids, []string{first}) || cur != first {
		t.Fatalf("after the first login the server lists keys %q (current %q), want [%s]", ids, cur, first)
	}
	sig1, kid := signed(t, tab.c, digest[:])
	if kid != first || !dev.Key(first).Verify(digest[:], sig1) {
		t.Fatalf("the tablet's signature (key %s) does not verify with the key the server registered", kid)
	}
	if !dev.KeyValidAt(first, dev.Key(first).AddedAt) {
		t.Fatalf("the registered key cannot sign: %+v", dev)
	}

	must(t, tab.c.Close())
	tab.open(t)
	tab.login(t, e2eTechA)
	if id := keyID(t, tab.c); id != first {
		t.Fatalf("a second login of the same file signs with %s, want %s", id, first)
	}
	if ids, _ := keyIDs(w.device(w.techA, "tab-a")); !slices.Equal(ids, []string{first}) {
		t.Fatalf("a second login of the same file: keys %q, want [%s]", ids, first)
	}

	// The app is reinstalled: a fresh file, the same device id.
	must(t, tab.c.Close())
	must(t, os.Remove(tab.path))
	tab.open(t)
	tab.login(t, e2eTechA)
	second := keyID(t, tab.c)
	dev = w.device(w.techA, "tab-a")
	ids, cur := keyIDs(dev)
	if second == first || !slices.Equal(ids, []string{first, second}) || cur != second {
		t.Fatalf("after a reinstall: keys %q (current %q), want [%s %s] with the second current", ids, cur, first, second)
	}
	old := dev.Key(first)
	// (When it could sign is the rule's: TestDeviceKeyValidAt.)
	if old.RetiredAt == nil || !old.Verify(digest[:], sig1) || dev.KeyValidAt(first, *old.RetiredAt) {
		t.Fatalf("the retired key: %+v; it must verify what it signed, and sign nothing from its retirement on", old)
	}
	sig2, kid := signed(t, tab.c, digest[:])
	if kid != second || !dev.Key(second).Verify(digest[:], sig2) || dev.Key(first).Verify(digest[:], sig2) {
		t.Fatalf("the reinstalled tablet's signature (key %s) is not the second key's", kid)
	}
	if !dev.KeyValidAt(second, dev.Key(second).AddedAt) {
		t.Fatalf("the second key cannot sign: %+v", dev.Key(second))
	}

	w.call(w.admin, "POST", "/v1/devices/tab-a/revoke?user_id="+w.techA, nil, 200, nil)
	dev = w.device(w.techA, "tab-a")
	if dev.RevokedAt == nil || len(dev.Keys) != 2 {
		t.Fatalf("the revoked device: %+v", dev)
	}
	if dev.KeyValidAt(second, *dev.RevokedAt) || dev.KeyValidAt(second, dev.RevokedAt.Add(time.Hour)) {
		t.Fatalf("the revoked device's key still signs after the revocation at %s", dev.RevokedAt)
	}
	if _, err := tab.c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("sync of the revoked device: %v", err)
	}
	if id := keyID(t, tab.c); id != "" {
		t.Fatalf("the revoked tablet still holds key %s", id)
	}
}

// signDigest0 signs on the tablet and returns signDigest's error.
func signDigest0(c *Client, digest []byte) (sig []byte, keyID string, err error) {
	err = c.db.View(func(tx *bbolt.Tx) (err error) {
		sig, keyID, err = signDigest(tx, digest)
		return err
	})
	return sig, keyID, err
}

// A rotation is registered at the next login with nothing left to push,
// so no queued work is signed with a retired key; the server retires the
// old key. A file restored from before the rotation presents a retired
// key: the tablet makes a new one and signs in with it.
func TestE2EDeviceKeyRotation(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	first := keyID(t, tab.c)
	must(t, tab.c.Close())
	backup, err := os.ReadFile(tab.path)
	must(t, err)
	tab.open(t)

	must(t, tab.c.RotateDeviceKey())
	must(t, tab.c.Depart(w.visit))
	tab.login(t, e2eTechA)
	if id := keyID(t, tab.c); id != first {
		t.Fatalf("rotated with work waiting in the outbox: signs with %s, want %s", id, first)
	}
	if ids, _ := keyIDs(w.device(w.techA, "tab-a")); !slices.Equal(ids, []string{first}) {
		t.Fatalf("rotated with work waiting: the server lists %q", ids)
	}
	tab.sync(t)
	tab.login(t, e2eTechA)
	second := keyID(t, tab.c)
	ids, cur := keyIDs(w.device(w.techA, "tab-a"))
	if second == first || !slices.Equal(ids, []string{first, second}) || cur != second {
		t.Fatalf("after the rotation: the tablet signs with %s, the server lists %q (current %q)", second, ids, cur)
	}

	// The old file comes back, with the retired key.
	must(t, tab.c.Close())
	must(t, os.WriteFile(tab.path, backup, 0o600))
	tab.open(t)
	tab.login(t, e2eTechA)
	third := keyID(t, tab.c)
	ids, cur = keyIDs(w.device(w.techA, "tab-a"))
	if third == first || third == second || !slices.Equal(ids, []string{first, second, third}) || cur != third {
		t.Fatalf("a restored file: the tablet signs with %s, the server lists %q (current %q)", third, ids, cur)
	}
}

// The private key is in the tablet's file only sealed: neither its seed
// nor the whole key appears in the file's bytes, raw or encoded.
func TestE2EDeviceKeyIsSealedInTheFile(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	must(t, tab.c.RotateDeviceKey()) // a next key is kept too
	var keys []ed25519.PrivateKey
	must(t, tab.c.db.View(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{keyDeviceKey, keyDeviceKeyNext} {
			k, err := deviceKey(tx, name)
			if err != nil || k == nil {
				t.Fatalf("key %s: %v", name, err)
			}
			keys = append(keys, k)
		}
		return nil
	}))
	must(t, tab.c.Close())
	raw, err := os.ReadFile(tab.path)
	must(t, err)
	for _, k := range keys {
		for _, secret := range [][]byte{k.Seed(), k} {
			for _, form := range []string{string(secret), hex.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret)} {
				if bytes.Contains(raw, []byte(form)) {
					t.Fatalf("the private key is in the file in clear (%d bytes)", len(form))
				}
			}
		}
	}
	// The search looked at the right file: the key's (clear) name is in it.
	if !bytes.Contains(raw, keyDeviceKey) {
		t.Fatal("the file holds no device key at all")
	}
}
