package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateReport stores a new report of an existing visit (an addendum,
// when it corrects one, listed among that report's addenda).
func (s *DB) CreateReport(ctx context.Context, r *fieldsync.Report, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error {
		if _, err := must[fieldsync.Visit](tx, bucketVisits, "visit_id", r.VisitID); err != nil {
			return err
		}
		if err := tx.Bucket(indexReportsByVisit).Put(key(r.VisitID, r.ID), nil); err != nil {
			return err
		}
		if r.Corrects != "" {
			if err := addAddendum(tx, r); err != nil {
				return err
			}
		}
		return create(tx, bucketReports, fieldsync.EntityReport, r.ID, r, actor, r.CreatedAt)
	})
}

// Report returns a report or ENotFound.
func (s *DB) Report(ctx context.Context, id string) (*fieldsync.Report, error) {
	return view[fieldsync.Report](s, bucketReports, fieldsync.EntityReport, id)
}

// TicketReports returns a ticket and the reports of its visits, visit by
// visit in the order they were booked, in one snapshot; ENotFound when
// there is no such ticket.
func (s *DB) TicketReports(ctx context.Context, ticketID string) (*fieldsync.Ticket, []fieldsync.Report, error) {
	var t *fieldsync.Ticket
	reports := []fieldsync.Report{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if t, err = must[fieldsync.Ticket](tx, bucketTickets, "ticket", ticketID); err != nil {
			return err
		}
		return scanPrefix(tx.Bucket(indexVisitsByTicket), key(ticketID, ""), "", func(visitID string) (bool, error) {
			rs, err := children[fieldsync.Report](tx, indexReportsByVisit, bucketReports, visitID)
			reports = append(reports, rs...)
			return true, err
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return t, reports, nil
}
