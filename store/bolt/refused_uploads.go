package bolt

import (
	"bytes"
	"context"
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// RefuseUpload keeps a refused upload on its report, pruning the report's
// oldest beyond fieldsync.MaxRefusedUploads, and audits it, in one
// transaction. A report the store does not have keeps nothing.
func (s *DB) RefuseUpload(ctx context.Context, r *fieldsync.RefusedUpload) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketReports).Get([]byte(r.ReportID)) == nil {
			return nil
		}
		b := tx.Bucket(bucketRefusedUploads)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := b.Put(append(key(r.ReportID, ""), seqKey(seq)...), raw); err != nil {
			return err
		}
		var keys [][]byte
		prefix := key(r.ReportID, "")
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys[:max(len(keys)-fieldsync.MaxRefusedUploads, 0)] {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		changes := map[string]fieldsync.Change{"refused_upload": {To: raw}}
		return appendAudit(tx, fieldsync.EntityReport, r.ReportID, changes,
			fieldsync.Actor{UserID: r.UploadedBy, DeviceID: r.DeviceID}, "report.photo_refused", r.At)
	})
}

// RefusedUploads lists the refused uploads a report keeps, oldest first.
func (s *DB) RefusedUploads(ctx context.Context, reportID string) ([]fieldsync.RefusedUpload, error) {
	out := []fieldsync.RefusedUpload{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		prefix := key(reportID, "")
		c := tx.Bucket(bucketRefusedUploads).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r fieldsync.RefusedUpload
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
