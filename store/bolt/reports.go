package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateReport stores a new report of an existing visit.
func (s *DB) CreateReport(ctx context.Context, r *fieldsync.Report, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error {
		if _, err := must[fieldsync.Visit](tx, bucketVisits, "visit_id", r.VisitID); err != nil {
			return err
		}
		if err := tx.Bucket(indexReportsByVisit).Put(key(r.VisitID, r.ID), nil); err != nil {
			return err
		}
		return create(tx, bucketReports, fieldsync.EntityReport, r.ID, r, actor, r.CreatedAt)
	})
}

// Report returns a report or ENotFound.
func (s *DB) Report(ctx context.Context, id string) (*fieldsync.Report, error) {
	return view[fieldsync.Report](s, bucketReports, fieldsync.EntityReport, id)
}
