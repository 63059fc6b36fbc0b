package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync/sync/translog"
)

// AppendLogBatch appends records to the transparency log in one
// transaction, as a push batch that seals several reports does.
func (s *DB) AppendLogBatch(records [][]byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		l := logTx(tx)
		for _, r := range records {
			if _, err := translog.Append(l, r); err != nil {
				return err
			}
		}
		return nil
	})
}
