package clientsdk

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Meta keys of appraisal slip numbers (fieldsync.SlipNo).
var (
	keySlipPrefix  = []byte("slip_prefix")  // the install's slip prefix, as its last login answered; absent: none
	keySlipCounter = []byte("slip_counter") // uint64: the last counter issued (absent: none yet)
)

// keepSlipPrefix keeps the slip prefix a login answered for this file's
// install; an answer without one (a server that gives none) leaves the
// file issuing no numbers. The counter goes on whatever the prefix: a
// number is unique by its prefix and counter together, and a counter
// that only grows never meets itself.
func keepSlipPrefix(tx *bbolt.Tx, prefix string) error {
	meta := tx.Bucket(bucketMeta)
	if prefix == "" || !fieldsync.ValidSlipPrefix(prefix) {
		return meta.Delete(keySlipPrefix)
	}
	return meta.Put(keySlipPrefix, []byte(prefix))
}

// issueSlipNo gives a report being made, whose creation's fields are
// fields, the install's next slip number, in tx: the transaction that
// writes the creation, so a number is issued with its report or not at
// all, and never twice. A file without a prefix (it has not signed in
// since the server gives them) issues none, and the report has no number.
func (c *Client) issueSlipNo(tx *bbolt.Tx, fields map[string]json.RawMessage) error {
	meta := tx.Bucket(bucketMeta)
	prefix := string(meta.Get(keySlipPrefix))
	if prefix == "" {
		return nil
	}
	var n uint64 = 1
	if raw := meta.Get(keySlipCounter); raw != nil {
		if len(raw) != 8 {
			return fmt.Errorf("corrupt slip counter")
		}
		n = binary.BigEndian.Uint64(raw) + 1
	}
	if err := meta.Put(keySlipCounter, u64(n)); err != nil {
		return err
	}
	fields["slip_no"] = jsonString(fieldsync.NewSlipNo(prefix, c.opts.Now(), n).String())
	return nil
}

// SlipPrefix returns the slip prefix this device issues numbers with, ""
// before a login has given it one.
func (c *Client) SlipPrefix() (string, error) {
	var p string
	err := c.view(func(rd *reader) error {
		p = string(rd.tx.Bucket(bucketMeta).Get(keySlipPrefix))
		return nil
	})
	return p, err
}
