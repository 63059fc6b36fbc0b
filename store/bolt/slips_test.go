package bolt_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// dbSlipLogin starts a session of user on device, presenting install
// (fresh: "ins-<fam>"), and returns the install it runs on.
func dbSlipLogin(t *testing.T, db *bolt.DB, user, device, install, fam string) *fieldsync.Install {
	t.Helper()
	ins, err := db.StartSession(context.Background(), fieldsync.Device{ID: device, UserID: user, CreatedAt: dbEpoch, LastSeen: dbEpoch}, nil, install,
		fieldsync.Install{ID: "ins-" + fam, UserID: user, DeviceID: device, CreatedAt: dbEpoch},
		fieldsync.TokenFamily{ID: fam, UserID: user, DeviceID: device, CreatedAt: dbEpoch},
		fieldsync.RefreshToken{Hash: fam, Family: fam, UserID: user, DeviceID: device, CreatedAt: dbEpoch, ExpiresAt: dbEpoch.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

// Every install gets its own slip prefix when it is made, and keeps it at
// every later login of the same install, across a reopen.
func TestStartSessionGivesEachInstallItsSlipPrefix(t *testing.T) {
	path := dbPath(t)
	db := dbOpen(t, path)
	a := dbSlipLogin(t, db, "u-1", "tab-1", "", "f1")
	b := dbSlipLogin(t, db, "u-1", "tab-2", "", "f2")
	c := dbSlipLogin(t, db, "u-2", "tab-1", "", "f3")          // another user's device of the same id
	d := dbSlipLogin(t, db, "u-1", "tab-1", "ins-other", "f4") // a fresh database on tab-1
	seen := map[string]string{}
	for _, ins := range []*fieldsync.Install{a, b, c, d} {
		if !fieldsync.ValidSlipPrefix(ins.SlipPrefix) {
			t.Fatalf("install %s has slip prefix %q", ins.ID, ins.SlipPrefix)
		}
		if other, ok := seen[ins.SlipPrefix]; ok {
			t.Fatalf("installs %s and %s share slip prefix %s", other, ins.ID, ins.SlipPrefix)
		}
		seen[ins.SlipPrefix] = ins.ID
	}
	if again := dbSlipLogin(t, db, "u-1", "tab-1", a.ID, "f5"); again.ID != a.ID || again.SlipPrefix != a.SlipPrefix {
		t.Errorf("a later login of install %s (%s): %+v", a.ID, a.SlipPrefix, again)
	}
	db.Close()
	db = dbOpen(t, path)
	if again := dbSlipLogin(t, db, "u-1", "tab-2", b.ID, "f6"); again.SlipPrefix != b.SlipPrefix {
		t.Errorf("after a reopen install %s has prefix %s, want %s", b.ID, again.SlipPrefix, b.SlipPrefix)
	}
	if e := dbSlipLogin(t, db, "u-3", "tab-9", "", "f7"); seen[e.SlipPrefix] != "" {
		t.Errorf("after a reopen a new install got %s, install %s's prefix", e.SlipPrefix, seen[e.SlipPrefix])
	}
}

// A file of schema 14 has installs without slip prefixes: opening it gives
// each its own, which its next login answers.
func TestOpenGivesExistingInstallsSlipPrefixes(t *testing.T) {
	path := dbPath(t)
	dbOpen(t, path).Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		for _, b := range []string{"idx_slip_prefixes", "idx_slip_numbers"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		for _, id := range []string{"ins-a", "ins-b", "ins-c"} {
			raw, _ := json.Marshal(fieldsync.Install{ID: id, UserID: "u-1", DeviceID: "tab-" + id, CreatedAt: dbEpoch})
			if err := tx.Bucket([]byte("installs")).Put([]byte(id), raw); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(15)) // 15 -> 16 adds them
	})
	db := dbOpen(t, path)
	seen := map[string]bool{}
	for _, id := range []string{"ins-a", "ins-b", "ins-c"} {
		ins := dbSlipLogin(t, db, "u-1", "tab-"+id, id, "f-"+id)
		if ins.ID != id || !fieldsync.ValidSlipPrefix(ins.SlipPrefix) || seen[ins.SlipPrefix] {
			t.Fatalf("install %s after the migration: %+v (prefixes so far %v)", id, ins, seen)
		}
		seen[ins.SlipPrefix] = true
	}
	if fresh := dbSlipLogin(t, db, "u-1", "tab-new", "", "f-new"); seen[fresh.SlipPrefix] {
		t.Errorf("a new install got %s, a migrated install's prefix", fresh.SlipPrefix)
	}
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Errorf("schema_version = %d, want %d", v, bolt.SchemaVersion())
	}
}
