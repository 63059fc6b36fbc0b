package bolt

import (
	"bytes"

	bbolt "go.etcd.io/bbolt"
)

// key joins parts with a zero byte: index keys "<parent>\x00<child>", so a
// prefix scan lists a parent's children in key order.
func key(parts ...string) []byte {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.Bytes()
}

// scanPrefix calls fn with the child part of each index key under prefix,
// in order, starting after the child named after; fn returns false to stop.
// With an empty prefix it walks a bucket's own keys.
func scanPrefix(idx *bbolt.Bucket, prefix []byte, after string, fn func(child string) (bool, error)) error {
	c := idx.Cursor()
	start := prefix
	if after != "" {
		start = append(append([]byte(nil), prefix...), after...)
	}
	for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		child := string(k[len(prefix):])
		if child == after {
			continue
		}
		more, err := fn(child)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// scanPrefixDesc is scanPrefix backwards: the children under prefix
// that sort before before (every one when it is empty), last first.
func scanPrefixDesc(idx *bbolt.Bucket, prefix []byte, before string, fn func(child string) (bool, error)) error {
	c := idx.Cursor()
	// Ids and index keys are text, so 0xFF sorts after every child.
	start := append(append([]byte(nil), prefix...), 0xFF)
	if before != "" {
		start = append(append([]byte(nil), prefix...), before...)
	}
	k, _ := c.Seek(start)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		if more, err := fn(string(k[len(prefix):])); err != nil || !more {
			return err
		}
	}
	return nil
}

// children loads the records of bucket listed under parent in idx.
func children[T any](tx *bbolt.Tx, idx, bucket []byte, parent string) ([]T, error) {
	var out []T
	b := tx.Bucket(bucket)
	err := scanPrefix(tx.Bucket(idx), key(parent, ""), "", func(id string) (bool, error) {
		v, err := get[T](b, id)
		if err == nil && v != nil {
			out = append(out, *v)
		}
		return true, err
	})
	return out, err
}
