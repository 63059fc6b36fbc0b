package bolt

import (
	bbolt "go.etcd.io/bbolt"
)

// Dump calls fn with every key and value of the bucket named name, for
// tests that compare what two ways of writing put on disk.
func (s *DB) Dump(name string, fn func(k, v []byte) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		return b.ForEach(fn)
	})
}
