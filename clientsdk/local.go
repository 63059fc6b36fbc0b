package clientsdk

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Buckets and meta keys. Their names are the file format on every tablet
// in the field: never rename one; add a migration instead.
var (
	bucketMeta    = []byte("meta")    // keys below
	bucketRecords = []byte("records") // entity \x00 id -> stored: the last server state
	bucketOutbox  = []byte("outbox")  // seq (8 bytes big-endian) -> syncproto.Mutation not yet answered
	bucketRefused = []byte("refused") // seq (8 bytes big-endian) -> Refusal
	// bucketPending indexes the outbox by record, so a write or a read of
	// one record costs what is pending on it, not the whole outbox.
	bucketPending = []byte("outbox_by_record") // entity \x00 id \x00 seq (8 bytes) -> empty
	// The photo queue (photos.go): every photo attached on the device, from
	// queued to verified or failed, and its index by report.
	bucketPhotos         = []byte("photos")           // photo id (8 bytes big-endian) -> photoEntry
	bucketPhotosByReport = []byte("photos_by_report") // report \x00 slot \x00 sha256 -> photo id

	keySchema      = []byte("schema_version") // uint64
	keyDeviceID    = []byte("device_id")
	keyNextSeq     = []byte("next_seq")     // uint64, from 1
	keyLastHLC     = []byte("last_hlc")     // the last stamp issued, so restarts stay monotonic
	keyCursor      = []byte("cursor")       // opaque pull cursor; absent before the bootstrap
	keyAccess      = []byte("access")       // access token
	keyAccessUntil = []byte("access_exp")   // uint64 unix ms
	keyRefresh     = []byte("refresh")      // refresh token (rotated on use)
	keyUserID      = []byte("user_id")      // who signed in last
	keyRole        = []byte("role")         // their role
	keyStopped     = []byte("stopped")      // why syncing stopped: an error code; absent when fine
	keyLastSync    = []byte("last_sync")    // uint64 unix ms of the last successful round
	keyPulledTotal = []byte("pulled_total") // uint64: changes applied from pulls
	keyNextPhoto   = []byte("next_photo")   // uint64, from 1: the next photo id
	keyVaultCheck  = []byte("vault_check")  // sealed vaultCheck: the file's key is Options.Key
	keyCompact     = []byte("compact")      // present: rewrite the file on the next Open (vault.go)
	keyInstall     = []byte("install_id")   // the install the server issued this file at its first login
	// The device's signing keys, sealed Ed25519 seeds (devicekey.go).
	keyDeviceKey     = []byte("device_key")      // the key the device signs with
	keyDeviceKeyNext = []byte("device_key_next") // a rotation's key, until a login registers it
)

// migrations[i] brings a file from schema version i to i+1, all in one
// transaction on Open.
var migrations = []func(tx *bbolt.Tx) error{
	// 0 -> 1: server copy, outbox, refused work; seq counter at 1.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketOutbox, bucketRefused, bucketPending} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyNextSeq, u64(1))
	},
	// 1 -> 2: the photo queue; photo ids from 1.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketPhotos, bucketPhotosByReport} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyNextPhoto, u64(1))
	},
	// 2 -> 3: seqs count per install. A file that signed in before has
	// the install the server gave its device then, named like the device.
	func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyUserID) == nil {
			return nil
		}
		return meta.Put(keyInstall, meta.Get(keyDeviceID))
	},
	// 3 -> 4: values sealed under Options.Key (vault.go).
	sealFile,
}

// schemaSealed is the first schema version whose values are sealed.
const schemaSealed = 4

// SchemaVersion is the version of the file format this build writes.
func SchemaVersion() int { return len(migrations) }

// migrate brings the file to SchemaVersion, records the device id on first
// open and checks it later, and returns the last HLC stamp issued.
func migrate(db *bbolt.DB, deviceID string) (syncproto.HLC, error) {
	var last syncproto.HLC
	err := db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		v := 0
		if raw := meta.Get(keySchema); raw != nil {
			if len(raw) != 8 {
				return fmt.Errorf("corrupt schema version")
			}
			v = int(binary.BigEndian.Uint64(raw))
		}
		if v > len(migrations) {
			return fmt.Errorf("the file has schema version %d, newer than this SDK (%d): update the app", v, len(migrations))
		}
		if v >= schemaSealed {
			if err := checkKey(tx); err != nil {
				return err
			}
		}
		for ; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate to schema %d: %w", v+1, err)
			}
		}
		if err := meta.Put(keySchema, u64(uint64(v))); err != nil {
			return err
		}
		switch stored := string(meta.Get(keyDeviceID)); stored {
		case "":
			if err := meta.Put(keyDeviceID, []byte(deviceID)); err != nil {
				return err
			}
		case deviceID:
		default:
			return fmt.Errorf("the file belongs to device %q, not %q", stored, deviceID)
		}
		if raw := meta.Get(keyLastHLC); raw != nil {
			last, _ = syncproto.ParseHLC(string(raw))
		}
		return nil
	})
	return last, err
}

// stored is a record as the device keeps it: the server's data at rev.
// Evicted marks a record the server took out of the user's partition
// while the device still had unsynced work on it; it goes once that work
// is answered.
type stored struct {
	Rev     int64           `json:"rev"`
	Evicted bool            `json:"evicted,omitempty"`
	Data    json.RawMessage `json:"data"`
}

func recordKey(entity fieldsync.Entity, id string) []byte {
	return []byte(string(entity) + "\x00" + id)
}

func splitKey(k []byte) (entity fieldsync.Entity, id string) {
	e, i, _ := bytes.Cut(k, []byte{0})
	return fieldsync.Entity(e), string(i)
}

func getRecord(tx *bbolt.Tx, entity fieldsync.Entity, id string) (*stored, error) {
	var s stored
	if ok, err := getJSON(tx, bucketRecords, recordKey(entity, id), &s); !ok {
		return nil, err
	}
	return &s, nil
}

func putRecord(tx *bbolt.Tx, key []byte, s *stored) error {
	return putJSON(tx, bucketRecords, key, s)
}

// eachRecord calls fn for every record of entity, in id order.
func eachRecord(tx *bbolt.Tx, entity fieldsync.Entity, fn func(id string, s *stored) error) error {
	prefix := []byte(entity + "\x00")
	return eachJSON(tx, bucketRecords, prefix, func(k []byte, s *stored) error {
		return fn(string(k[len(prefix):]), s)
	})
}

// queued returns pending mutations, oldest first: up to limit of them
// (limit <= 0: all) and, past the first, no more than maxBytes of JSON
// (maxBytes <= 0: no bound).
func queued(tx *bbolt.Tx, limit, maxBytes int) ([]syncproto.Mutation, error) {
	var out []syncproto.Mutation
	size := 0
	err := eachValue(tx, bucketOutbox, nil, func(k, v []byte) error {
		if limit > 0 && len(out) >= limit {
			return errStopScan
		}
		if size += len(v); maxBytes > 0 && size > maxBytes && len(out) > 0 {
			return errStopScan
		}
		var m syncproto.Mutation
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("outbox %d: %w", binary.BigEndian.Uint64(k), err)
		}
		out = append(out, m)
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, err
	}
	return out, nil
}

// queue adds a mutation to the outbox and its index.
func queue(tx *bbolt.Tx, m syncproto.Mutation) error {
	if err := putJSON(tx, bucketOutbox, seqKey(m.Seq), m); err != nil {
		return err
	}
	return tx.Bucket(bucketPending).Put(pendingKey(m.Entity, m.ID, m.Seq), nil)
}

// dequeue removes a mutation from the outbox and its index.
func dequeue(tx *bbolt.Tx, m syncproto.Mutation) error {
	if err := tx.Bucket(bucketOutbox).Delete(seqKey(m.Seq)); err != nil {
		return err
	}
	return tx.Bucket(bucketPending).Delete(pendingKey(m.Entity, m.ID, m.Seq))
}

func pendingKey(entity fieldsync.Entity, id string, seq int64) []byte {
	return append(recordKey(entity, id+"\x00"), seqKey(seq)...)
}

// pendingFor returns the pending mutations of one record, in seq order.
func pendingFor(tx *bbolt.Tx, entity fieldsync.Entity, id string) ([]syncproto.Mutation, error) {
	var out []syncproto.Mutation
	prefix := recordKey(entity, id+"\x00")
	cur := tx.Bucket(bucketPending).Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		var m syncproto.Mutation
		ok, err := getJSON(tx, bucketOutbox, k[len(prefix):], &m)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("outbox index names seq %d, which is not in the outbox", binary.BigEndian.Uint64(k[len(prefix):]))
		}
		out = append(out, m)
	}
	return out, nil
}

// hasPending reports whether the device has unanswered work on a record.
func hasPending(tx *bbolt.Tx, entity fieldsync.Entity, id string) bool {
	prefix := recordKey(entity, id+"\x00")
	k, _ := tx.Bucket(bucketPending).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// pendingByRecord groups the outbox by record key, each list in seq order.
func pendingByRecord(tx *bbolt.Tx) (map[string][]syncproto.Mutation, error) {
	all, err := queued(tx, 0, 0)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]syncproto.Mutation)
	for _, m := range all {
		k := string(recordKey(m.Entity, m.ID))
		out[k] = append(out[k], m)
	}
	return out, nil
}

func seqKey(seq int64) []byte { return u64(uint64(seq)) }

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// getU64 reads a counter; absent or malformed reads as 0.
func getU64(b *bbolt.Bucket, key []byte) uint64 {
	raw := b.Get(key)
	if len(raw) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(raw)
}
