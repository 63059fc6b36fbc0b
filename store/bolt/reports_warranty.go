package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// UpdateReport applies fn to the report in one transaction, audits the
// change under action with its diff and publishes it to the sync feed.
// ENotFound when there is no such report.
func (s *DB) UpdateReport(ctx context.Context, id string, actor fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Report) error) (*fieldsync.Report, error) {
	var out *fieldsync.Report
	err := s.update(func(tx *bbolt.Tx) error {
		before, err := must[fieldsync.Report](tx, bucketReports, "report", id)
		if err != nil {
			return err
		}
		after := before.Clone()
		if err := fn(&after); err != nil {
			return err
		}
		out = &after
		return audited(tx, bucketReports, fieldsync.EntityReport, id, before, &after, actor, action, now)
	})
	return out, err
}

// DisputedReports lists the reports whose warranty decision is disputed
// (warranty_disputed), by id, a page at a time; it reads every report. A
// malformed cursor is EInvalid.
func (s *DB) DisputedReports(ctx context.Context, cursor string, limit int) ([]fieldsync.Report, string, error) {
	return page(s, listing{records: bucketReports}, cursor, limit, func(r *fieldsync.Report) bool { return r.WarrantyDisputed })
}
