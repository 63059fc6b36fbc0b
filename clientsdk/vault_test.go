package clientsdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// testKey is the Options.Key of the tests' files.
var testKey = bytes.Repeat([]byte{0x5a}, KeySize)

func TestOpenNeedsAKey(t *testing.T) {
	for _, key := range [][]byte{nil, make([]byte, 16)} {
		_, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{DeviceID: "tab-1", Key: key})
		wantCode(t, err, fieldsync.EInvalid)
	}
}

func TestOpenWithAnotherKeyFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	c, err := Open(path, Options{Key: testKey, DeviceID: "tab-1"})
	must(t, err)
	must(t, c.Close())

	other := bytes.Repeat([]byte{1}, KeySize)
	if _, err := Open(path, Options{Key: other, DeviceID: "tab-1"}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open with another key: %v, want ErrWrongKey", err)
	}
	c, err = Open(path, Options{Key: testKey, DeviceID: "tab-1"}) // nothing was changed
	must(t, err)
	must(t, c.Close())
}

// A value moved under another key does not open: the bucket and key are
// part of what is authenticated.
func TestSealedValueIsBoundToItsPlace(t *testing.T) {
	v, err := newVault(testKey)
	must(t, err)
	sealed, err := v.seal(bucketRecords, recordKey(fieldsync.EntityCustomer, "c1"), []byte(`{"rev":1}`))
	must(t, err)
	if _, err := v.open(bucketRecords, recordKey(fieldsync.EntityCustomer, "c2"), sealed); err == nil {
		t.Error("a value opened under another key")
	}
	if _, err := v.open(bucketOutbox, recordKey(fieldsync.EntityCustomer, "c1"), sealed); err == nil {
		t.Error("a value opened in another bucket")
	}
	if got, err := v.open(bucketRecords, recordKey(fieldsync.EntityCustomer, "c1"), sealed); err != nil || string(got) != `{"rev":1}` {
		t.Errorf("open in place: %q, %v", got, err)
	}
	again, err := v.seal(bucketRecords, recordKey(fieldsync.EntityCustomer, "c1"), []byte(`{"rev":1}`))
	must(t, err)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
}

// oldFile writes a file as the SDK of schema version 2 left it, values in
// clear: a customer, a visit, a pending arrive, a refusal, a queued
// photo and a session.
func oldFile(t *testing.T, path string) map[string]string {
	t.Helper()
	secrets := map[string]string{"name": "Wang Fang", "phone": "139 1111 2222", "refresh token": "fsr_old-refresh", "findings": "cracked panel"}
	db, err := bbolt.Open(path, 0o600, nil)
	must(t, err)
	put := func(tx *bbolt.Tx, bucket, key []byte, v any) {
		raw, ok := v.([]byte)
		if !ok {
			raw, err = json.Marshal(v)
			must(t, err)
		}
		must(t, tx.Bucket(bucket).Put(key, raw))
	}
	must(t, db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		must(t, err)
		for _, m := range migrations[:2] {
			must(t, m(tx))
		}
		put(tx, bucketMeta, keySchema, u64(2))
		put(tx, bucketMeta, keyDeviceID, []byte("tab-1"))
		put(tx, bucketMeta, keyRefresh, []byte(secrets["refresh token"]))
		put(tx, bucketMeta, keyAccess, []byte("old-access"))
		put(tx, bucketMeta, keyUserID, []byte("u-tech"))
		put(tx, bucketMeta, keyCursor, []byte("cursor-1"))
		put(tx, bucketRecords, recordKey(fieldsync.EntityCustomer, "c1"), stored{Rev: 1, Data: json.RawMessage(`{"id":"c1","name":"Wang Fang","phone":"139 1111 2222"}`)})
		put(tx, bucketRecords, recordKey(fieldsync.EntityTicket, "t1"), stored{Rev: 1, Data: json.RawMessage(`{"id":"t1","customer_id":"c1"}`)})
		put(tx, bucketRecords, recordKey(fieldsync.EntityVisit, "v1"), stored{Rev: 1, Data: json.RawMessage(`{"id":"v1","ticket_id":"t1","status":"en_route"}`)})
		m := syncproto.Mutation{Seq: 1, Entity: fieldsync.EntityVisit, ID: "v1", Op: syncproto.OpAction, Action: string(fieldsync.ActionArrive), HLC: "1767225600000:0:tab-1"}
		put(tx, bucketOutbox, seqKey(1), m)
		put(tx, bucketPending, pendingKey(m.Entity, m.ID, m.Seq), []byte{})
		put(tx, bucketRefused, seqKey(7), Refusal{Mutation: syncproto.Mutation{Seq: 7, Entity: fieldsync.EntityReport, ID: "r1", Op: syncproto.OpUpsert,
			Fields: map[string]json.RawMessage{"findings": json.RawMessage(`"cracked panel"`)}}, Status: syncproto.Conflict, Code: "report_sealed"})
		put(tx, bucketPhotos, photoKey(1), photoEntry{SHA256: "ab", ReportID: "r1", Slot: "damage", Size: 3, State: PhotoQueued})
		put(tx, bucketPhotosByReport, photoIndexKey("r1", "damage", "ab"), photoKey(1))
		return meta.Put(keyNextSeq, u64(2))
	}))
	must(t, db.Close())
	raw, err := os.ReadFile(path)
	must(t, err)
	for what, s := range secrets {
		if !bytes.Contains(raw, []byte(s)) {
			t.Fatalf("the old file does not hold the %s in clear: the test proves nothing", what)
		}
	}
	return secrets
}

// A file of an SDK that kept values in clear is sealed on its first open
// with a key, in one transaction, and rewritten so that no page keeps
// the clear values; everything reads as before.
func TestOldFileIsSealedOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	secrets := oldFile(t, path)

	c, err := Open(path, Options{Key: testKey, DeviceID: "tab-1", Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	must(t, err)
	inClear(t, path, secrets)
	b, err := c.Bundle("v1")
	must(t, err)
	if b.Visit.Status != fieldsync.VisitOnSite || b.Customer.Name != "Wang Fang" {
		t.Errorf("after sealing: visit %s (want on_site: the pending arrive laid over), customer %q", b.Visit.Status, b.Customer.Name)
	}
	s := status(t, c)
	if s.Pending != 1 || s.Refused != 1 || s.PhotosQueued != 1 || s.UserID != "u-tech" || !s.SignedIn {
		t.Errorf("status after sealing: %+v", s)
	}
	refused, err := c.Conflicts()
	must(t, err)
	if len(refused) != 1 || refused[0].Code != "report_sealed" {
		t.Errorf("refused after sealing: %+v", refused)
	}
	st, err := c.session.state()
	must(t, err)
	if st.refresh != secrets["refresh token"] {
		t.Errorf("the refresh token after sealing: %q", st.refresh)
	}
	must(t, c.db.View(func(tx *bbolt.Tx) error {
		if v := getU64(tx.Bucket(bucketMeta), keySchema); v != uint64(SchemaVersion()) {
			t.Errorf("schema version %d, want %d", v, SchemaVersion())
		}
		if tx.Bucket(bucketMeta).Get(keyCompact) != nil {
			t.Error("the rewrite is still asked for")
		}
		return nil
	}))
	must(t, c.Close())
	if _, err := os.Stat(path + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the rewrite's copy is left: %v", err)
	}
	if _, err := Open(path, Options{Key: bytes.Repeat([]byte{1}, KeySize), DeviceID: "tab-1"}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the sealed file opened with another key: %v", err)
	}
	c, err = Open(path, Options{Key: testKey, DeviceID: "tab-1"})
	must(t, err)
	defer c.Close()
	if s := status(t, c); s.Pending != 1 {
		t.Errorf("status after reopening: %+v", s)
	}
}
