package bolt

import (
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// giveSlipPrefix gives ins, an install being stored, the next slip prefix
// (fieldsync.SlipPrefixFor of the index's sequence) and indexes it, in
// the transaction that stores ins: no two installs share one.
func giveSlipPrefix(tx *bbolt.Tx, ins *fieldsync.Install) error {
	idx := tx.Bucket(indexSlipPrefixes)
	n, err := idx.NextSequence()
	if err != nil {
		return err
	}
	p := fieldsync.SlipPrefixFor(n - 1)
	if idx.Get([]byte(p)) != nil {
		return fmt.Errorf("slip prefix %s is taken: the prefix index is corrupt", p)
	}
	ins.SlipPrefix = p
	return idx.Put([]byte(p), []byte(ins.ID))
}

// Install returns the install id, or nil.
func (p *pushTx) Install(id string) (*fieldsync.Install, error) {
	return get[fieldsync.Install](p.tx.Bucket(bucketInstalls), id)
}

// SlipReport returns the id of the report that holds slip number no, or
// "". A number stays with its report when a draft is deleted: it was
// issued, and is never issued again.
func (p *pushTx) SlipReport(no string) (string, error) {
	return string(p.tx.Bucket(indexSlipNumbers).Get([]byte(no))), nil
}

// indexSlipNo records that r, a report being created, holds its slip
// number (if it has one).
func indexSlipNo(tx *bbolt.Tx, r *fieldsync.Report) error {
	if r.SlipNo == "" {
		return nil
	}
	return tx.Bucket(indexSlipNumbers).Put([]byte(r.SlipNo), []byte(r.ID))
}

// giveExistingSlipPrefixes gives every stored install a slip prefix, in
// the order of their ids.
func giveExistingSlipPrefixes(tx *bbolt.Tx) error {
	installs := tx.Bucket(bucketInstalls)
	if installs == nil {
		return nil // a bare file of an older schema
	}
	var todo []fieldsync.Install
	if err := installs.ForEach(func(_, raw []byte) error {
		var ins fieldsync.Install
		if err := json.Unmarshal(raw, &ins); err != nil {
			return err
		}
		if ins.SlipPrefix == "" {
			todo = append(todo, ins)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, ins := range todo {
		if err := giveSlipPrefix(tx, &ins); err != nil {
			return err
		}
		if err := put(installs, ins.ID, ins); err != nil {
			return err
		}
	}
	return nil
}
