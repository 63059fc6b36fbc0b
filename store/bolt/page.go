package bolt

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// listing is where a page is read from: every record of a bucket in key
// order or, with an index, those it lists under prefix.
type listing struct {
	records       []byte
	index, prefix []byte
	desc          bool // newest id first
}

// page reads the records of l that follow cursor, up to limit of those
// keep accepts (every one when keep is nil). The cursor it returns is
// empty when no record is left to read; a non-empty one may still lead to
// an empty page. A malformed cursor is EInvalid.
func page[T any](s *DB, l listing, cursor string, limit int, keep func(*T) bool) ([]T, string, error) {
	return pageTx(s, l, cursor, limit, keepAll(keep))
}

// keepAll is keep as pageTx takes it.
func keepAll[T any](keep func(*T) bool) func(*bbolt.Tx, *T) (bool, error) {
	return func(_ *bbolt.Tx, v *T) (bool, error) { return keep == nil || keep(v), nil }
}

// pageTx is page whose keep reads other records in the page's
// transaction.
func pageTx[T any](s *DB, l listing, cursor string, limit int, keep func(*bbolt.Tx, *T) (bool, error)) ([]T, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	out := []T{}
	last, next := "", ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		records := tx.Bucket(l.records)
		scanned := records
		if l.index != nil {
			scanned = tx.Bucket(l.index)
		}
		scan := scanPrefix
		if l.desc {
			scan = scanPrefixDesc
		}
		return scan(scanned, l.prefix, after, func(id string) (bool, error) {
			if len(out) == limit {
				next = encodeCursor(last)
				return false, nil
			}
			v, err := get[T](records, id)
			if err != nil || v == nil {
				return err == nil, err
			}
			if ok, err := keep(tx, v); err != nil || !ok {
				return err == nil, err
			}
			out, last = append(out, *v), id
			return true, nil
		})
	})
	return out, next, err
}

func clampLimit(n int) int {
	if n <= 0 {
		return fieldsync.DefaultLimit
	}
	return min(n, fieldsync.MaxLimit)
}

// Cursors are opaque to clients: the last id seen, base64url-encoded.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 64 || bytes.IndexByte(b, 0) >= 0 {
		return "", fieldsync.Errorf(fieldsync.EInvalid, "malformed cursor")
	}
	return string(b), nil
}

// pageMerged reads a page of several listings at once, merged in id
// order; each listing must list its records in id order (UUIDv7 ids
// under one parent). The cursor is the last id answered, as page's is.
func pageMerged[T any](s *DB, ls []listing, cursor string, limit int, keep func(*T) bool, id func(*T) string) ([]T, string, error) {
	return pageMergedTx(s, ls, cursor, limit, keepAll(keep), id)
}

// pageMergedTx is pageMerged whose keep reads in the page's transaction.
// Listings that are desc merge newest id first.
func pageMergedTx[T any](s *DB, ls []listing, cursor string, limit int, keep func(*bbolt.Tx, *T) (bool, error), id func(*T) string) ([]T, string, error) {
	limit = clampLimit(limit)
	all := []T{}
	more := false
	for _, l := range ls {
		items, next, err := pageTx(s, l, cursor, limit, keep)
		if err != nil {
			return nil, "", err
		}
		all, more = append(all, items...), more || next != ""
	}
	slices.SortFunc(all, func(a, b T) int {
		if len(ls) > 0 && ls[0].desc {
			a, b = b, a
		}
		return strings.Compare(id(&a), id(&b))
	})
	all, next := cutPage(all, limit, id)
	if next == "" && more {
		next = encodeCursor(id(&all[len(all)-1]))
	}
	return all, next, nil
}

// cutPage keeps the first limit of items (in id order, those after the
// cursor already) and returns the cursor of the rest, empty when none.
func cutPage[T any](items []T, limit int, id func(*T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	return items[:limit], encodeCursor(id(&items[limit-1]))
}
