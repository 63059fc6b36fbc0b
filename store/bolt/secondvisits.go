package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// SecondVisits pages through the visits that ended needs_second_visit, by
// visit id, each with the visit booked for it (fieldsync.BookedFor over
// its ticket's visits); state makes the dispatcher's entry of each, nil to
// leave it out. It reads every visit. A malformed cursor is EInvalid.
func (s *DB) SecondVisits(ctx context.Context, cursor string, limit int, state func(v *fieldsync.Visit, bookedID string) (*fieldsync.SecondVisitRequest, error)) ([]fieldsync.SecondVisitRequest, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	out := []fieldsync.SecondVisitRequest{}
	last, next := "", ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		visits := tx.Bucket(bucketVisits)
		return scanPrefix(visits, nil, after, func(id string) (bool, error) {
			if len(out) == limit {
				next = encodeCursor(last)
				return false, nil
			}
			v, err := get[fieldsync.Visit](visits, id)
			if err != nil || v == nil || v.Status != fieldsync.VisitNeedsSecondVisit {
				return err == nil, err
			}
			ticket, err := children[fieldsync.Visit](tx, indexVisitsByTicket, bucketVisits, v.TicketID)
			if err != nil {
				return false, err
			}
			r, err := state(v, fieldsync.BookedFor(v, ticket))
			if err != nil || r == nil {
				return err == nil, err
			}
			out, last = append(out, *r), id
			return true, nil
		})
	})
	return out, next, err
}
