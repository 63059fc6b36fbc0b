package bolt_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

var dbEpoch = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// dbPath returns the path of a fresh data file.
func dbPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "fieldsync.db")
}

// dbOpen opens path with Open and closes it when the test ends.
func dbOpen(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dbRaw runs fn in a bbolt transaction on the (closed) file at path,
// bypassing the store, to see what is really on disk.
func dbRaw(t *testing.T, path string, write bool, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	raw, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bbolt.Open: %v", err)
	}
	defer raw.Close()
	if write {
		err = raw.Update(fn)
	} else {
		err = raw.View(fn)
	}
	if err != nil {
		t.Fatalf("raw transaction: %v", err)
	}
}

// dbSchemaVersion reads meta/schema_version of the closed file at path.
func dbSchemaVersion(t *testing.T, path string) uint64 {
	t.Helper()
	var v uint64
	dbRaw(t, path, false, func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if meta == nil {
			t.Fatal("no meta bucket")
		}
		raw := meta.Get([]byte("schema_version"))
		if len(raw) != 8 {
			t.Fatalf("schema_version is %d bytes (%x), want 8", len(raw), raw)
		}
		v = binary.BigEndian.Uint64(raw)
		return nil
	})
	return v
}

// dbKeys lists the keys of bucket in the closed file at path.
func dbKeys(t *testing.T, path, bucket string) []string {
	t.Helper()
	var keys []string
	dbRaw(t, path, false, func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			t.Fatalf("no bucket %q", bucket)
		}
		return b.ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	return keys
}

// dbWriteSchemaVersion makes a bare file whose meta records version raw.
func dbWriteSchemaVersion(t *testing.T, path string, raw []byte) {
	t.Helper()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte("meta"))
		if err != nil {
			return err
		}
		return meta.Put([]byte("schema_version"), raw)
	})
}

func be64(v int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// dbSession starts a session of user on device: family fam, first token
// hash, created at created and expiring at expires.
func dbSession(t *testing.T, db *bolt.DB, user, device, fam, hash string, created, expires time.Time) {
	t.Helper()
	_, err := db.StartSession(context.Background(),
		fieldsync.Device{ID: device, UserID: user, CreatedAt: created, LastSeen: created},
		nil, "", fieldsync.Install{ID: "install-" + fam, UserID: user, DeviceID: device, CreatedAt: created},
		fieldsync.TokenFamily{ID: fam, UserID: user, DeviceID: device, CreatedAt: created},
		fieldsync.RefreshToken{Hash: hash, Family: fam, UserID: user, DeviceID: device, CreatedAt: created, ExpiresAt: expires})
	if err != nil {
		t.Fatalf("StartSession(%s): %v", fam, err)
	}
}

// dbRotate exchanges token old for next at created.
func dbRotate(t *testing.T, db *bolt.DB, old, next string, created, expires time.Time) *fieldsync.RefreshToken {
	t.Helper()
	tok, err := db.RotateRefresh(context.Background(), old, fieldsync.RefreshToken{Hash: next, CreatedAt: created, ExpiresAt: expires})
	if err != nil {
		t.Fatalf("RotateRefresh(%s -> %s): %v", old, next, err)
	}
	return tok
}

func TestOpenRecordsSchemaVersion(t *testing.T) {
	if bolt.SchemaVersion() < 1 {
		t.Fatalf("SchemaVersion() = %d, want at least 1", bolt.SchemaVersion())
	}
	path := dbPath(t)
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := dbSchemaVersion(t, path); got != uint64(bolt.SchemaVersion()) {
		t.Errorf("schema_version = %d, want SchemaVersion() = %d", got, bolt.SchemaVersion())
	}

	// Opening a current file again migrates nothing and keeps the version.
	db, err = bolt.Open(path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	db.Close()
	if got := dbSchemaVersion(t, path); got != uint64(bolt.SchemaVersion()) {
		t.Errorf("schema_version after reopening = %d, want %d", got, bolt.SchemaVersion())
	}
}

func TestOpenSchemaVersions(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte // meta/schema_version written before Open
		wantErr []string
	}{
		{"a file of a newer schema is refused, naming both versions", be64(bolt.SchemaVersion() + 1), []string{
			"fieldsync.db", fmt.Sprintf("schema version %d, newer than this binary's %d", bolt.SchemaVersion()+1, bolt.SchemaVersion()), "upgrade"}},
		{"a file of a far newer schema is refused", be64(1 << 40), []string{"newer"}},
		{"a schema version record that is not 8 bytes is refused", []byte{1}, []string{"corrupt schema version"}},
		{"a file at version 0 is migrated to the current version", be64(0), nil},
		{"a file at the current version opens", be64(bolt.SchemaVersion()), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dbPath(t)
			dbWriteSchemaVersion(t, path, tt.raw)
			db, err := bolt.Open(path)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				db.Close()
				if got := dbSchemaVersion(t, path); got != uint64(bolt.SchemaVersion()) {
					t.Errorf("schema_version = %d, want %d", got, bolt.SchemaVersion())
				}
				return
			}
			if err == nil {
				db.Close()
				t.Fatal("Open accepted the file")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			// The refused file is left as it was, and unlocked.
			var after []byte
			dbRaw(t, path, false, func(tx *bbolt.Tx) error {
				after = append(after, tx.Bucket([]byte("meta")).Get([]byte("schema_version"))...)
				return nil
			})
			if string(after) != string(tt.raw) {
				t.Errorf("schema_version changed from %x to %x", tt.raw, after)
			}
		})
	}
}

func TestOpenMigratesVersion1KeepingAccounts(t *testing.T) {
	path := dbPath(t)
	// A file as schema 1 left it: the account buckets only.
	u := fieldsync.User{ID: "u-1", Login: "alice", Role: fieldsync.RoleTechnician, CreatedAt: dbEpoch}
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		if err := meta.Put([]byte("schema_version"), be64(1)); err != nil {
			return err
		}
		for _, name := range []string{"users", "user_logins", "devices", "refresh", "families"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		raw, _ := json.Marshal(u)
		if err := tx.Bucket([]byte("users")).Put([]byte(u.ID), raw); err != nil {
			return err
		}
		return tx.Bucket([]byte("user_logins")).Put([]byte(u.Login), []byte(u.ID))
	})
	db := dbOpen(t, path)
	got, err := db.UserByLogin(context.Background(), "alice")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByLogin after migration = %+v, %v", got, err)
	}
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Errorf("schema_version = %d, want %d", v, bolt.SchemaVersion())
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u := fieldsync.User{ID: "u-1", Login: "Alice", Role: fieldsync.RoleDispatcher, PasswordHash: "$argon2id$x", CreatedAt: dbEpoch}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	dbSession(t, db, u.ID, "tab-1", "fam-1", "h1", dbEpoch, dbEpoch.Add(time.Hour))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = dbOpen(t, path)
	got, err := db.UserByLogin(ctx, "ALICE")
	if err != nil {
		t.Fatalf("UserByLogin after reopening: %v", err)
	}
	if got.ID != u.ID || got.Login != "alice" || got.PasswordHash != u.PasswordHash || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("user after reopening = %+v", got)
	}
	if dev, err := db.Device(ctx, u.ID, "tab-1"); err != nil || dev.UserID != u.ID {
		t.Errorf("device after reopening = %+v, %v", dev, err)
	}
	if tok := dbRotate(t, db, "h1", "h2", dbEpoch.Add(time.Minute), dbEpoch.Add(2*time.Hour)); tok.Family != "fam-1" {
		t.Errorf("rotated token family = %q, want fam-1", tok.Family)
	}
}

func TestOpenFailsFastWhenFileInUse(t *testing.T) {
	path := dbPath(t)
	dbOpen(t, path) // holds the file lock until the test ends

	type result struct {
		db  *bolt.DB
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		db, err := bolt.Open(path)
		done <- result{db, err}
	}()
	select {
	case r := <-done:
		elapsed := time.Since(start)
		if r.err == nil {
			r.db.Close()
			t.Fatal("a second Open of a file in use succeeded")
		}
		if !strings.Contains(r.err.Error(), "in use") {
			t.Errorf("error %q does not say the file is in use", r.err)
		}
		if elapsed > 5*time.Second {
			t.Errorf("Open took %v to give up, want about 1 s", elapsed)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Open hangs on a file in use")
	}
}

func TestPruneRefresh(t *testing.T) {
	ctx := context.Background()
	t0 := dbEpoch
	day := 24 * time.Hour
	tests := []struct {
		name         string
		setup        func(t *testing.T, db *bolt.DB)
		at           time.Time
		wantDeleted  int
		wantTokens   []string
		wantFamilies []string
	}{
		{"a live token and its family are kept", func(t *testing.T, db *bolt.DB) {
			dbSession(t, db, "u-1", "tab-1", "fam-live", "live", t0, t0.Add(30*day))
		}, t0.Add(day), 0, []string{"live"}, []string{"fam-live"}},
		{"an expired token and its emptied family are deleted", func(t *testing.T, db *bolt.DB) {
			dbSession(t, db, "u-1", "tab-1", "fam-old", "old", t0, t0.Add(day))
		}, t0.Add(2 * day), 1, nil, nil},
		{"a token expiring exactly now is deleted", func(t *testing.T, db *bolt.DB) {
			dbSession(t, db, "u-1", "tab-1", "fam-old", "old", t0, t0.Add(day))
		}, t0.Add(day), 1, nil, nil},
		{"a family keeps while one of its tokens is live", func(t *testing.T, db *bolt.DB) {
			dbSession(t, db, "u-1", "tab-1", "fam-1", "first", t0, t0.Add(day))
			dbRotate(t, db, "first", "second", t0.Add(time.Hour), t0.Add(30*day))
		}, t0.Add(2 * day), 1, []string{"second"}, []string{"fam-1"}},
		{"only the expired of several families go", func(t *testing.T, db *bolt.DB) {
			dbSession(t, db, "u-1", "tab-1", "fam-a", "a", t0, t0.Add(day))
			dbSession(t, db, "u-1", "tab-1", "fam-b", "b", t0, t0.Add(30*day))
			dbSession(t, db, "u-2", "tab-2", "fam-c", "c1", t0, t0.Add(day))
			dbRotate(t, db, "c1", "c2", t0.Add(time.Hour), t0.Add(day+time.Hour))
		}, t0.Add(3 * day), 3, []string{"b"}, []string{"fam-b"}},
		{"nothing to prune deletes nothing", func(*testing.T, *bolt.DB) {}, t0, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dbPath(t)
			db, err := bolt.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, db)
			n, err := db.PruneRefresh(ctx, tt.at)
			if err != nil {
				t.Fatalf("PruneRefresh: %v", err)
			}
			if n != tt.wantDeleted {
				t.Errorf("PruneRefresh deleted %d tokens, want %d", n, tt.wantDeleted)
			}
			// Live tokens still rotate after the prune.
			for _, h := range tt.wantTokens {
				dbRotate(t, db, h, h+"-next", tt.at, tt.at.Add(day))
			}
			db.Close()
			tokens := dbKeys(t, path, "refresh")
			var want []string
			for _, h := range tt.wantTokens {
				want = append(want, h, h+"-next")
			}
			slices.Sort(want)
			if !slices.Equal(tokens, want) {
				t.Errorf("tokens left = %q, want %q", tokens, want)
			}
			if fams := dbKeys(t, path, "families"); !slices.Equal(fams, tt.wantFamilies) {
				t.Errorf("families left = %q, want %q", fams, tt.wantFamilies)
			}
		})
	}
}

func TestRotateRefreshReuseRevocationIsCommitted(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	dbSession(t, db, "u-1", "tab-1", "fam-1", "h1", dbEpoch, dbEpoch.Add(24*time.Hour))
	tok := dbRotate(t, db, "h1", "h2", dbEpoch.Add(time.Minute), dbEpoch.Add(25*time.Hour))
	if tok.Family != "fam-1" || tok.UserID != "u-1" || tok.DeviceID != "tab-1" {
		t.Errorf("rotated token = %+v, want family, user and device of the old one", tok)
	}

	reusedAt := dbEpoch.Add(2 * time.Minute)
	got, err := db.RotateRefresh(ctx, "h1", fieldsync.RefreshToken{Hash: "h3", CreatedAt: reusedAt, ExpiresAt: reusedAt.Add(time.Hour)})
	if code := fieldsync.ErrorCode(err); code != fieldsync.ERefreshReused {
		t.Fatalf("RotateRefresh(rotated token) = %+v, %v; want %s", got, err, fieldsync.ERefreshReused)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// On disk: the family is revoked at the time of the reuse, and the
	// token of the refused rotation was not stored.
	dbRaw(t, path, false, func(tx *bbolt.Tx) error {
		var fam fieldsync.TokenFamily
		if err := json.Unmarshal(tx.Bucket([]byte("families")).Get([]byte("fam-1")), &fam); err != nil {
			t.Fatalf("family record: %v", err)
		}
		if fam.RevokedAt == nil || !fam.RevokedAt.Equal(reusedAt) {
			t.Errorf("family RevokedAt = %v, want %v", fam.RevokedAt, reusedAt)
		}
		if tx.Bucket([]byte("refresh")).Get([]byte("h3")) != nil {
			t.Error("the refused rotation stored its token")
		}
		return nil
	})

	db = dbOpen(t, path)
	for _, h := range []string{"h2", "h1"} {
		_, err := db.RotateRefresh(ctx, h, fieldsync.RefreshToken{Hash: h + "-x", CreatedAt: reusedAt, ExpiresAt: reusedAt.Add(time.Hour)})
		if code := fieldsync.ErrorCode(err); code != fieldsync.ERefreshInvalid {
			t.Errorf("RotateRefresh(%s) after reopening = %v, want %s", h, err, fieldsync.ERefreshInvalid)
		}
	}
}
