package bolt_test

import (
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// A file of the schema before price lists gains their bucket on Open, and
// the price list is then published as reference data.
func TestOpenMigratesToPriceLists(t *testing.T) {
	path := dbPath(t)
	dbOpen(t, path).Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket([]byte("price_lists")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(18)) // 18 -> 19 adds it
	})
	db := dbOpen(t, path)
	if err := db.PublishReference(t.Context(), []bolt.Reference{{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: quote.DefaultSource()}}); err != nil {
		t.Fatalf("PublishReference: %v", err)
	}
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Fatalf("schema version %d", v)
	}
}
