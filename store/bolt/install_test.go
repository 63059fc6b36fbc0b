package bolt_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// A file from before installs: devices keyed by their id alone, families
// without an install. Opening it moves each device under its user and
// gives it the install named like it, which its seqs were counted in, so
// a tablet signed in then goes on with its session and its seqs.
func TestOpenMigratesDevicesToUsersAndInstalls(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	dbOpen(t, path).Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket([]byte("installs")); err != nil {
			return err
		}
		for bucket, kv := range map[string][2]any{
			"devices":  {"tab-1", fieldsync.Device{ID: "tab-1", UserID: "u-1", CreatedAt: dbEpoch, LastSeen: dbEpoch}},
			"families": {"fam-1", map[string]any{"id": "fam-1", "user_id": "u-1", "device_id": "tab-1", "created_at": dbEpoch}},
			"refresh":  {"h1", fieldsync.RefreshToken{Hash: "h1", Family: "fam-1", UserID: "u-1", DeviceID: "tab-1", CreatedAt: dbEpoch, ExpiresAt: dbEpoch.Add(time.Hour)}},
		} {
			raw, _ := json.Marshal(kv[1])
			if err := tx.Bucket([]byte(bucket)).Put([]byte(kv[0].(string)), raw); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(9))
	})

	db := dbOpen(t, path)
	if d, err := db.Device(ctx, "u-1", "tab-1"); err != nil || d.ID != "tab-1" {
		t.Fatalf("the device under its user = %+v, %v", d, err)
	}
	if tok := dbRotate(t, db, "h1", "h2", dbEpoch.Add(time.Minute), dbEpoch.Add(2*time.Hour)); tok.InstallID != "tab-1" {
		t.Errorf("the session's install = %q, want tab-1", tok.InstallID)
	}
	ins, err := db.StartSession(ctx, fieldsync.Device{ID: "tab-1", UserID: "u-1", LastSeen: dbEpoch}, nil, "tab-1",
		fieldsync.Install{ID: "new", UserID: "u-1", DeviceID: "tab-1"},
		fieldsync.TokenFamily{ID: "fam-2", UserID: "u-1", DeviceID: "tab-1"}, fieldsync.RefreshToken{Hash: "h3", Family: "fam-2", UserID: "u-1", DeviceID: "tab-1", ExpiresAt: dbEpoch.Add(time.Hour)})
	if err != nil || ins.ID != "tab-1" {
		t.Fatalf("signing in again from the tablet: install %+v, %v; want tab-1", ins, err)
	}
	db.Close()
	if keys := dbKeys(t, path, "devices"); !slices.Equal(keys, []string{"u-1\x00tab-1"}) {
		t.Errorf("device keys %q", keys)
	}
}
