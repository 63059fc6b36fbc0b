package bolt_test

import (
	"context"
	"crypto/sha256"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// A file of the schema before share links gains their buckets, empty, on
// Open.
func TestOpenMigratesToShareLinks(t *testing.T) {
	path := dbPath(t)
	dbOpen(t, path).Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		for _, b := range []string{"links", "idx_links_hash", "idx_links_report", "signoffs"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(11)) // 11 -> 12 adds them
	})
	db := dbOpen(t, path)
	ctx := context.Background()
	if _, err := db.LinkByToken(ctx, sha256.Sum256([]byte("t"))); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("LinkByToken: %v", err)
	}
	if ls, err := db.ReportLinks(ctx, "r"); err != nil || len(ls) != 0 {
		t.Fatalf("ReportLinks: %v, %v", ls, err)
	}
	if so, err := db.SignOffs(ctx, []string{"r"}); err != nil || len(so) != 0 {
		t.Fatalf("SignOffs: %v, %v", so, err)
	}
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Fatalf("schema version %d", v)
	}
}
