package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Follow-ups are read and answered through the API by staff and
// customers; they are not records of the sync feed, so their writes are
// audited but not published to devices.

// followUpOnCompletion makes the follow-up of a visit that moved from
// before (nil when new) to after, in the transaction of that change, when
// the change completed it. It is a no-op for any other change and for a
// visit that has its follow-up already, so a rerun of the transaction or
// a retried push makes exactly one. The due time is the follow-up rule of
// the store's SLA policy on its business calendar (SetPolicy), counted
// from the visit's completion.
func (s *DB) followUpOnCompletion(tx *bbolt.Tx, before, after *fieldsync.Visit, actor fieldsync.Actor, now time.Time) error {
	if after.Status != fieldsync.VisitCompleted || (before != nil && before.Status == fieldsync.VisitCompleted) {
		return nil
	}
	byVisit := tx.Bucket(indexFollowUpsByVisit)
	if byVisit.Get([]byte(after.ID)) != nil {
		return nil
	}
	t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", after.TicketID)
	if err != nil {
		return err
	}
	if after.FinishedAt == nil {
		return fieldsync.Errorf(fieldsync.EInvalid, "visit %s is completed without its completion time", after.ID)
	}
	due, err := s.followUpDue(*after.FinishedAt)
	if err != nil {
		return err
	}
	f, err := fieldsync.NewFollowUp(uuid.Must(uuid.NewV7()).String(), after, t, due.Due, due.Warning, now)
	if err != nil {
		return err
	}
	if err := byVisit.Put([]byte(after.ID), []byte(f.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(indexFollowUpsByCust).Put(key(f.CustomerID, f.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(indexFollowUpsByDue).Put(dueKey(f), nil); err != nil {
		return err
	}
	if err := put(tx.Bucket(bucketFollowUps), f.ID, f); err != nil {
		return err
	}
	return writeAudit(tx, fieldsync.EntityFollowUp, f.ID, nil, f, actor, "followup.create", now)
}

// dueKey is a pending follow-up's key in the due index.
func dueKey(f *fieldsync.FollowUp) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(f.Due.UnixNano())), append([]byte{0}, f.ID...)...)
}

// FollowUp returns a follow-up or ENotFound.
func (s *DB) FollowUp(ctx context.Context, id string) (*fieldsync.FollowUp, error) {
	return view[fieldsync.FollowUp](s, bucketFollowUps, fieldsync.EntityFollowUp, id)
}

// FollowUpOfVisit returns the follow-up of a visit, or ENotFound when it
// has none (it is not completed, or was completed before follow-ups).
func (s *DB) FollowUpOfVisit(ctx context.Context, visitID string) (*fieldsync.FollowUp, error) {
	var f *fieldsync.FollowUp
	err := s.db.View(func(tx *bbolt.Tx) error {
		id := tx.Bucket(indexFollowUpsByVisit).Get([]byte(visitID))
		if id == nil {
			return fieldsync.Errorf(fieldsync.ENotFound, "visit %s has no follow-up", visitID)
		}
		var err error
		f, err = must[fieldsync.FollowUp](tx, bucketFollowUps, string(fieldsync.EntityFollowUp), string(id))
		return err
	})
	return f, err
}

// FollowUps lists follow-ups a page at a time: with OverdueAt, the pending
// ones due before it in order of due time, read from the due index's
// start (what is not overdue is never read); otherwise in creation order,
// of the customers named (their index only, merged) or of all. A malformed cursor is
// EInvalid.
func (s *DB) FollowUps(ctx context.Context, f fieldsync.FollowUpFilter) ([]fieldsync.FollowUp, string, error) {
	keep := func(fu *fieldsync.FollowUp) bool {
		return (f.CustomerIDs == nil || slices.Contains(f.CustomerIDs, fu.CustomerID)) && (f.Status == "" || fu.Status == f.Status)
	}
	if !f.OverdueAt.IsZero() {
		return s.overdueFollowUps(f, keep)
	}
	if f.CustomerIDs == nil {
		return page(s, listing{records: bucketFollowUps}, f.Cursor, f.Limit, keep)
	}
	var ls []listing
	for _, c := range f.CustomerIDs {
		ls = append(ls, listing{records: bucketFollowUps, index: indexFollowUpsByCust, prefix: key(c, "")})
	}
	return pageMerged(s, ls, f.Cursor, f.Limit, keep, func(fu *fieldsync.FollowUp) string { return fu.ID })
}

func (s *DB) overdueFollowUps(f fieldsync.FollowUpFilter, keep func(*fieldsync.FollowUp) bool) ([]fieldsync.FollowUp, string, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := clampLimit(f.Limit)
	// Keys at or past the end (due ≥ OverdueAt+1ns) are not overdue.
	end := binary.BigEndian.AppendUint64(nil, uint64(f.OverdueAt.UnixNano()))
	out := []fieldsync.FollowUp{}
	next := ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		records := tx.Bucket(bucketFollowUps)
		c := tx.Bucket(indexFollowUpsByDue).Cursor()
		k, _ := c.First()
		if after != "" {
			// The cursor is the last follow-up listed; its place in the
			// index is found again from its due time even if it has been
			// answered since (follow-ups are never deleted).
			prev, err := get[fieldsync.FollowUp](records, after)
			if err != nil {
				return err
			}
			if prev == nil {
				return fieldsync.Errorf(fieldsync.EInvalid, "malformed cursor")
			}
			from := dueKey(prev)
			if k, _ = c.Seek(from); k != nil && bytes.Equal(k, from) {
				k, _ = c.Next()
			}
		}
		last := ""
		for ; k != nil && bytes.Compare(k[:8], end) < 0; k, _ = c.Next() {
			if len(out) == limit {
				next = encodeCursor(last)
				return nil
			}
			fu, err := get[fieldsync.FollowUp](records, string(k[9:]))
			if err != nil {
				return err
			}
			if fu != nil && keep(fu) {
				out = append(out, *fu)
				last = fu.ID
			}
		}
		return nil
	})
	return out, next, err
}

// UpdateFollowUp applies fn (the domain's Answer or Close) to the
// follow-up in one transaction and audits the change under action; a
// follow-up that leaves pending leaves the due index. ENotFound for an
// unknown id; fn's error aborts the write.
func (s *DB) UpdateFollowUp(ctx context.Context, id string, actor fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.FollowUp) error) (*fieldsync.FollowUp, error) {
	var out *fieldsync.FollowUp
	err := s.update(func(tx *bbolt.Tx) error {
		before, err := must[fieldsync.FollowUp](tx, bucketFollowUps, string(fieldsync.EntityFollowUp), id)
		if err != nil {
			return err
		}
		after := *before
		if err := fn(&after); err != nil {
			return err
		}
		if before.Status == fieldsync.FollowUpPending && after.Status != fieldsync.FollowUpPending {
			if err := tx.Bucket(indexFollowUpsByDue).Delete(dueKey(before)); err != nil {
				return err
			}
		}
		if err := put(tx.Bucket(bucketFollowUps), id, &after); err != nil {
			return err
		}
		out = &after
		return writeAudit(tx, fieldsync.EntityFollowUp, id, before, &after, actor, action, now)
	})
	return out, err
}
