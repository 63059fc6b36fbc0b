package bolt_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// dbKeyLogin starts a session of u-1 on tab-1 presenting key (nil: none)
// at at; fam names the family and its first token.
func dbKeyLogin(db *bolt.DB, key *fieldsync.DeviceKey, fam string, at time.Time) error {
	if key != nil {
		k := *key
		k.AddedAt = at
		key = &k
	}
	_, err := db.StartSession(context.Background(), fieldsync.Device{ID: "tab-1", UserID: "u-1", CreatedAt: at, LastSeen: at}, key, "",
		fieldsync.Install{ID: "ins-" + fam, UserID: "u-1", DeviceID: "tab-1", CreatedAt: at},
		fieldsync.TokenFamily{ID: fam, UserID: "u-1", DeviceID: "tab-1", CreatedAt: at},
		fieldsync.RefreshToken{Hash: fam, Family: fam, UserID: "u-1", DeviceID: "tab-1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
	return err
}

// A device's keys live with its record: the first login registers one,
// logins with it or with none keep it, another key retires it, and every
// key stays, across a reopen and a revocation too. A retired key is
// refused and the login changes nothing.
func TestStartSessionKeepsTheDevicesKeyHistory(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	db := dbOpen(t, path)
	at := func(m int) time.Time { return dbEpoch.Add(time.Duration(m) * time.Minute) }
	k1 := &fieldsync.DeviceKey{ID: "k1", PublicKey: "pub-1"}
	k2 := &fieldsync.DeviceKey{ID: "k2", PublicKey: "pub-2"}
	keys := func() []fieldsync.DeviceKey {
		t.Helper()
		d, err := db.Device(ctx, "u-1", "tab-1")
		if err != nil {
			t.Fatal(err)
		}
		return d.Keys
	}

	must(t, dbKeyLogin(db, k1, "f1", at(0)))
	must(t, dbKeyLogin(db, k1, "f2", at(1)))
	must(t, dbKeyLogin(db, nil, "f3", at(2)))
	if ks := keys(); len(ks) != 1 || ks[0].ID != "k1" || !ks[0].AddedAt.Equal(at(0)) || ks[0].RetiredAt != nil {
		t.Fatalf("after logins with the same key and with none: %+v", ks)
	}
	must(t, dbKeyLogin(db, k2, "f4", at(3)))
	if ks := keys(); len(ks) != 2 || ks[0].RetiredAt == nil || !ks[0].RetiredAt.Equal(at(3)) || ks[1].ID != "k2" || ks[1].RetiredAt != nil {
		t.Fatalf("after a login with another key: %+v", ks)
	}

	err := dbKeyLogin(db, k1, "f5", at(4))
	if fieldsync.ErrorCode(err) != fieldsync.EDeviceKeyRetired {
		t.Fatalf("a login with the retired key: %v, want device_key_retired", err)
	}
	db.Close()
	if fams := dbKeys(t, path, "families"); len(fams) != 4 {
		t.Fatalf("a refused login stored its family: %q", fams)
	}
	db = dbOpen(t, path)
	if _, err := db.RevokeDevice(ctx, "u-1", "tab-1", at(5)); err != nil {
		t.Fatal(err)
	}
	if ks := keys(); len(ks) != 2 {
		t.Fatalf("after a revocation: %+v", ks)
	}
	for _, id := range []string{"k1", "k2"} {
		k, err := db.DeviceKey(ctx, "u-1", "tab-1", id)
		if err != nil || k.ID != id {
			t.Fatalf("DeviceKey(%s) = %+v, %v", id, k, err)
		}
	}
	for name, ids := range map[string][3]string{
		"an unknown key":           {"u-1", "tab-1", "k3"},
		"an unknown device":        {"u-1", "tab-2", "k1"},
		"another user's device id": {"u-2", "tab-1", "k1"},
	} {
		if _, err := db.DeviceKey(ctx, ids[0], ids[1], ids[2]); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
			t.Errorf("%s: %v, want not_found", name, err)
		}
	}
}
