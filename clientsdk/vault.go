package clientsdk

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"
)

// The file at rest. A lost tablet must not give away the customers'
// names, phones and addresses or a session, so every value that can hold
// them is sealed with XChaCha20-Poly1305 under Options.Key: the records,
// the outbox, refused work, the photo queue, and meta's tokens, user,
// role, pull cursor and the device's signing keys. Each value is bound to its bucket and key (the
// associated data), so a sealed value moved under another key does not
// open. In clear stay the bbolt keys (entity names, record ids — UUIDs —,
// seqs, photo ids, a photo index's report id, slot and hash), the
// counters, stamps and flags of meta, and the photo index's values (photo
// ids). The photo files themselves (<db file>.photos) are not sealed: the
// app relies on the platform's file encryption for them.
//
// Every read and write of a sealed value goes through getValue, putValue
// and eachValue (and the JSON helpers on them); nothing else calls Seal
// or Open.

// KeySize is the length of Options.Key.
const KeySize = chacha20poly1305.KeySize

// ErrWrongKey: the file was sealed with another key than Options.Key.
// Nothing was read or changed.
var ErrWrongKey = errors.New("the database was sealed with another key than Options.Key")

// sealedFormat prefixes every sealed value: the layout is
// sealedFormat, a 24-byte random nonce, the ciphertext and its tag.
const sealedFormat = 1

// sealedBuckets are the buckets whose every value is sealed.
var sealedBuckets = [][]byte{bucketRecords, bucketOutbox, bucketRefused, bucketPhotos}

// sealedMeta are meta's sealed keys; its other values are in clear.
var sealedMeta = [][]byte{keyAccess, keyRefresh, keyUserID, keyRole, keyCursor, keyDeviceKey, keyDeviceKeyNext}

// vaultCheck is sealed under keyVaultCheck when a file is first sealed, so
// opening it with another key fails at once and clearly.
const vaultCheck = "fieldsync sealed file"

// vault seals and opens the values of one file.
type vault struct{ aead cipher.AEAD }

func newVault(key []byte) (*vault, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("the key is %d bytes, want %d", len(key), KeySize)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return &vault{aead: aead}, nil
}

func associated(bucket, key []byte) []byte {
	return bytes.Join([][]byte{bucket, key}, []byte{0})
}

func (v *vault) seal(bucket, key, plain []byte) ([]byte, error) {
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, 1+chacha20poly1305.NonceSizeX+len(plain)+v.aead.Overhead())
	out[0] = sealedFormat
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return v.aead.Seal(out, out[1:], plain, associated(bucket, key)), nil
}

func (v *vault) open(bucket, key, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+chacha20poly1305.NonceSizeX+v.aead.Overhead() || sealed[0] != sealedFormat {
		return nil, fmt.Errorf("%s %q: not a sealed value", bucket, key)
	}
	nonce, box := sealed[1:1+chacha20poly1305.NonceSizeX], sealed[1+chacha20poly1305.NonceSizeX:]
	plain, err := v.aead.Open(nil, nonce, box, associated(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("%s %q: the value does not open with this key, or was altered", bucket, key)
	}
	return plain, nil
}

// vaults holds the vault of each open file. bbolt gives a transaction no
// room for its owner's state, and the bucket helpers take a transaction,
// so they find the vault from it (tx.DB()). Open registers a file's vault
// before anything reads it; Close removes it.
var vaults sync.Map // *bbolt.DB -> *vault

func vaultOf(tx *bbolt.Tx) *vault {
	v, ok := vaults.Load(tx.DB())
	if !ok {
		panic("clientsdk: a transaction on a file without a vault")
	}
	return v.(*vault)
}

// getValue returns the opened value of key in bucket, nil when absent.
func getValue(tx *bbolt.Tx, bucket, key []byte) ([]byte, error) {
	raw := tx.Bucket(bucket).Get(key)
	if raw == nil {
		return nil, nil
	}
	return vaultOf(tx).open(bucket, key, raw)
}

// putValue seals plain under a fresh nonce and stores it.
func putValue(tx *bbolt.Tx, bucket, key, plain []byte) error {
	sealed, err := vaultOf(tx).seal(bucket, key, plain)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, sealed)
}

// eachValue calls fn with the opened values of bucket whose keys start
// with prefix, in key order, until fn returns an error.
func eachValue(tx *bbolt.Tx, bucket, prefix []byte, fn func(k, v []byte) error) error {
	v := vaultOf(tx)
	cur := tx.Bucket(bucket).Cursor()
	for k, raw := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, raw = cur.Next() {
		plain, err := v.open(bucket, k, raw)
		if err != nil {
			return err
		}
		if err := fn(k, plain); err != nil {
			return err
		}
	}
	return nil
}

// getJSON decodes the value of key into out; it reports false when absent.
func getJSON(tx *bbolt.Tx, bucket, key []byte, out any) (bool, error) {
	raw, err := getValue(tx, bucket, key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return false, fmt.Errorf("%s %q: %w", bucket, key, err)
	}
	return true, nil
}

func putJSON(tx *bbolt.Tx, bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return putValue(tx, bucket, key, raw)
}

// eachJSON decodes the values of bucket under prefix, in key order.
func eachJSON[T any](tx *bbolt.Tx, bucket, prefix []byte, fn func(k []byte, v *T) error) error {
	return eachValue(tx, bucket, prefix, func(k, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s %q: %w", bucket, k, err)
		}
		return fn(k, &v)
	})
}

// getSecret and putSecret read and write a sealed value of meta.
func getSecret(tx *bbolt.Tx, key []byte) (string, error) {
	raw, err := getValue(tx, bucketMeta, key)
	return string(raw), err
}

func putSecret(tx *bbolt.Tx, key []byte, value string) error {
	return putValue(tx, bucketMeta, key, []byte(value))
}

// sealFile seals every value of a file written by an SDK that kept them
// in clear, and the key check; the file is then compacted on Open, so no
// page keeps the clear values.
func sealFile(tx *bbolt.Tx) error {
	sealed := 0
	for _, name := range sealedBuckets {
		var keys, values [][]byte // copied: a cursor does not survive writes to its bucket
		if err := tx.Bucket(name).ForEach(func(k, v []byte) error {
			keys, values = append(keys, bytes.Clone(k)), append(values, bytes.Clone(v))
			return nil
		}); err != nil {
			return err
		}
		for i := range keys {
			if err := putValue(tx, name, keys[i], values[i]); err != nil {
				return err
			}
		}
		sealed += len(keys)
	}
	meta := tx.Bucket(bucketMeta)
	for _, k := range sealedMeta {
		if v := meta.Get(k); v != nil {
			if err := putValue(tx, bucketMeta, k, bytes.Clone(v)); err != nil {
				return err
			}
			sealed++
		}
	}
	if err := putSecret(tx, keyVaultCheck, vaultCheck); err != nil {
		return err
	}
	if sealed == 0 {
		return nil // a new file: nothing was ever in clear
	}
	return meta.Put(keyCompact, []byte{1})
}

// checkKey fails with ErrWrongKey unless the file's key check opens.
func checkKey(tx *bbolt.Tx) error {
	got, err := getSecret(tx, keyVaultCheck)
	if err != nil || got != vaultCheck {
		return ErrWrongKey
	}
	return nil
}

// compactIfAsked rewrites the file when meta asks for it (after it was
// first sealed, or after a revocation wiped it): bbolt leaves freed pages
// as they were, and a rewrite is the only way to drop what they hold. The
// copy replaces the file by a rename, so a crash leaves either file
// whole, and the request with it until a rewrite succeeds. It returns the
// database to use from then on.
func compactIfAsked(db *bbolt.DB, path string, v *vault) (*bbolt.DB, error) {
	var asked bool
	if err := db.View(func(tx *bbolt.Tx) error {
		asked = tx.Bucket(bucketMeta).Get(keyCompact) != nil
		return nil
	}); err != nil || !asked {
		return db, err
	}
	tmp := path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return db, err
	}
	dst, err := bbolt.Open(tmp, 0o600, nil)
	if err != nil {
		return db, err
	}
	err = bbolt.Compact(dst, db, 0)
	if err == nil {
		err = dst.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyCompact) })
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return db, fmt.Errorf("compact: %w", err)
	}
	if err := closeFile(db); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	return openFile(path, v)
}

// openFile opens the bbolt file and registers its vault.
func openFile(path string, v *vault) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	vaults.Store(db, v)
	return db, nil
}

// closeFile closes the bbolt file and forgets its vault.
func closeFile(db *bbolt.DB) error {
	defer vaults.Delete(db)
	return db.Close()
}
