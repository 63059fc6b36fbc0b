package bolt_test

import (
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// fuzzStore is a real store with one customer, so its feed and its lists
// are not empty.
func fuzzStore(f *testing.F) *bolt.DB {
	db, err := bolt.Open(filepath.Join(f.TempDir(), "fieldsync.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	now := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	if err := db.CreateCustomer(f.Context(), &fieldsync.Customer{ID: "c1", Name: "n", Phone: "1", CreatedAt: now}, fieldsync.Actor{UserID: "admin"}); err != nil {
		f.Fatal(err)
	}
	return db
}

// A pull cursor comes from any client: it is taken, or refused as
// cursor_reset, never a panic or another error; and a cursor the store
// hands out it takes back.
func FuzzPullCursor(f *testing.F) {
	db := fuzzStore(f)
	parts := syncproto.PartitionsFor("admin", fieldsync.RoleAdmin)
	_, next, _, err := db.Pull(f.Context(), parts, "", 10)
	if err != nil {
		f.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	for _, seed := range []string{next, "", "!!", "=", b64([]byte(".")), b64([]byte("x.1")), b64([]byte("x.18446744073709551616")), next + "A"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		_, next, _, err := db.Pull(t.Context(), parts, cursor, 10)
		if err != nil {
			if code := fieldsync.ErrorCode(err); code != fieldsync.ECursorReset {
				t.Fatalf("cursor %q: %v (code %q), want cursor_reset", cursor, err, code)
			}
			return
		}
		if _, _, _, err := db.Pull(t.Context(), parts, next, 10); err != nil {
			t.Fatalf("the store refuses its own cursor %q: %v", next, err)
		}
	})
}

// A list cursor (visits, audit) is taken or refused as invalid.
func FuzzListCursor(f *testing.F) {
	db := fuzzStore(f)
	_, next, err := db.Audit(f.Context(), fieldsync.AuditFilter{Limit: 1})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{next, "", "AA", "!!", base64.RawURLEncoding.EncodeToString(make([]byte, 65))} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		for name, list := range map[string]func() error{
			"visits": func() error { _, _, err := db.Visits(t.Context(), fieldsync.VisitFilter{Cursor: cursor}); return err },
			"audit":  func() error { _, _, err := db.Audit(t.Context(), fieldsync.AuditFilter{Cursor: cursor}); return err },
		} {
			if err := list(); err != nil && fieldsync.ErrorCode(err) != fieldsync.EInvalid {
				t.Fatalf("%s with cursor %q: %v, want nil or invalid", name, cursor, err)
			}
		}
	})
}
