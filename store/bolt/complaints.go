package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Complaints are not synced to devices: staff and customers handle them
// through the API. Each is indexed by ticket, by the deadline of its
// running clock (the due and overdue lists) and by the time its next
// missed clock escalates it (the sweep), so neither list nor sweep reads
// complaints that are not due.

// escalationActor is who escalates a complaint whose clock ran out.
var escalationActor = fieldsync.Actor{UserID: "system"}

// timeKey is an index key ordered by t: t (8 bytes, unix ns) \x00 id.
func timeKey(t time.Time, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())), append([]byte{0}, id...)...)
}

// complaintKeys are c's keys in the due and escalation indexes (nil where
// it has none).
func complaintKeys(c *fieldsync.Complaint) (due, escalate []byte) {
	if _, at, ok := c.Pending(); ok {
		due = timeKey(at, c.ID)
	}
	if at, ok := c.NextEscalation(); ok {
		escalate = timeKey(at, c.ID)
	}
	return due, escalate
}

// putComplaint stores c, moving its index keys from those of before (nil
// for a new complaint), and audits the change, in the caller's
// transaction.
func putComplaint(tx *bbolt.Tx, before, c *fieldsync.Complaint, a fieldsync.Actor, action string, now time.Time) error {
	due, esc := complaintKeys(c)
	var oldDue, oldEsc []byte
	if before != nil {
		oldDue, oldEsc = complaintKeys(before)
	}
	for _, ix := range []struct {
		bucket   []byte
		old, new []byte
	}{{indexComplaintsDue, oldDue, due}, {indexComplaintsEscalate, oldEsc, esc}} {
		if bytes.Equal(ix.old, ix.new) {
			continue
		}
		b := tx.Bucket(ix.bucket)
		if ix.old != nil {
			if err := b.Delete(ix.old); err != nil {
				return err
			}
		}
		if ix.new != nil {
			if err := b.Put(ix.new, nil); err != nil {
				return err
			}
		}
	}
	if before == nil {
		if err := tx.Bucket(indexComplaintsByTicket).Put(key(c.TicketID, c.ID), nil); err != nil {
			return err
		}
	}
	if err := put(tx.Bucket(bucketComplaints), c.ID, c); err != nil {
		return err
	}
	var b any
	if before != nil {
		b = before
	}
	return writeAudit(tx, fieldsync.EntityComplaint, c.ID, b, c, a, action, now)
}

// openComplaint stores a new complaint of an existing ticket, audited.
func openComplaint(tx *bbolt.Tx, c *fieldsync.Complaint, a fieldsync.Actor) error {
	if tx.Bucket(bucketComplaints).Get([]byte(c.ID)) != nil {
		return fieldsync.Errorf(fieldsync.EConflict, "complaint %q exists", c.ID)
	}
	return putComplaint(tx, nil, c, a, "complaint.create", c.OpenedAt)
}

// CreateComplaint stores the complaint open returns for the ticket, in
// one transaction with its audit entry; ENotFound for no such ticket.
func (s *DB) CreateComplaint(ctx context.Context, ticketID string, a fieldsync.Actor, open func(*fieldsync.Ticket) (*fieldsync.Complaint, error)) (*fieldsync.Complaint, error) {
	var c *fieldsync.Complaint
	err := s.db.Update(func(tx *bbolt.Tx) error {
		t, err := get[fieldsync.Ticket](tx.Bucket(bucketTickets), ticketID)
		if err != nil {
			return err
		}
		if t == nil {
			return notFound(fieldsync.EntityTicket, ticketID)
		}
		if c, err = open(t); err != nil {
			return err
		}
		return openComplaint(tx, c, a)
	})
	return c, err
}

// Complaint returns one complaint, or ENotFound.
func (s *DB) Complaint(ctx context.Context, id string) (*fieldsync.Complaint, error) {
	var c *fieldsync.Complaint
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		c, err = get[fieldsync.Complaint](tx.Bucket(bucketComplaints), id)
		if err == nil && c == nil {
			err = notFound(fieldsync.EntityComplaint, id)
		}
		return err
	})
	return c, err
}

// UpdateComplaint escalates the complaint for the clocks it missed by now,
// then runs fn on it (a step of the process) and stores the result with
// an audit entry per change, all in one transaction.
func (s *DB) UpdateComplaint(ctx context.Context, id string, a fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Complaint) error) (*fieldsync.Complaint, error) {
	var out *fieldsync.Complaint
	err := s.db.Update(func(tx *bbolt.Tx) error {
		before, err := get[fieldsync.Complaint](tx.Bucket(bucketComplaints), id)
		if err != nil {
			return err
		}
		if before == nil {
			return notFound(fieldsync.EntityComplaint, id)
		}
		if before, err = escalateTx(tx, before, now); err != nil {
			return err
		}
		after := *before
		if err := fn(&after); err != nil {
			return err
		}
		out = &after
		return putComplaint(tx, before, &after, a, action, now)
	})
	return out, err
}

// escalateTx stores c escalated for the clocks it missed by now, audited
// as the system's, and returns it as it now stands.
func escalateTx(tx *bbolt.Tx, c *fieldsync.Complaint, now time.Time) (*fieldsync.Complaint, error) {
	after, changed := fieldsync.EscalateComplaint(*c, now)
	if !changed {
		return c, nil
	}
	return &after, putComplaint(tx, c, &after, escalationActor, "complaint.escalate", now)
}

// escalateBatch bounds the complaints one transaction of EscalateDue
// escalates, so a long backlog does not hold the writer for long.
const escalateBatch = 256

// EscalateDue escalates every complaint whose next clock ran out by now,
// each audited; it reads only those (the escalation index) and returns
// how many it escalated.
func (s *DB) EscalateDue(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := s.db.Update(func(tx *bbolt.Tx) error {
			n = 0
			var ids []string
			c := tx.Bucket(indexComplaintsEscalate).Cursor()
			for k, _ := c.First(); k != nil && len(ids) < escalateBatch; k, _ = c.Next() {
				if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
					break
				}
				ids = append(ids, string(k[9:]))
			}
			for _, id := range ids {
				cp, err := must[fieldsync.Complaint](tx, bucketComplaints, "complaint", id)
				if err != nil {
					return err
				}
				if _, err := escalateTx(tx, cp, now); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil || n < escalateBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// Complaints lists a page of the complaints f selects, oldest first by
// id: any selection but by clock or customer pages through every
// complaint; those due by f.DueBefore or overdue at f.Now are read from
// the due index, a customer's from their tickets. A malformed cursor is
// EInvalid.
func (s *DB) Complaints(ctx context.Context, f fieldsync.ComplaintFilter) ([]fieldsync.Complaint, string, error) {
	if f.Due == "" && f.CustomerIDs == nil {
		return page(s, listing{records: bucketComplaints}, f.Cursor, f.Limit, f.Match)
	}
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	out := []fieldsync.Complaint{}
	err = s.db.View(func(tx *bbolt.Tx) error {
		records := tx.Bucket(bucketComplaints)
		keep := func(id string) error {
			if id <= after {
				return nil
			}
			c, err := get[fieldsync.Complaint](records, id)
			if err == nil && c != nil && f.Match(c) {
				out = append(out, *c)
			}
			return err
		}
		if f.Due != "" {
			until := f.Now
			if f.Due == fieldsync.DueToday {
				until = f.DueBefore
			}
			c := tx.Bucket(indexComplaintsDue).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if int64(binary.BigEndian.Uint64(k[:8])) > until.UnixNano() {
					break
				}
				if err := keep(string(k[9:])); err != nil {
					return err
				}
			}
			return nil
		}
		for _, cust := range f.CustomerIDs {
			err := scanPrefix(tx.Bucket(indexTicketsByCust), key(cust, ""), "", func(ticket string) (bool, error) {
				return true, scanPrefix(tx.Bucket(indexComplaintsByTicket), key(ticket, ""), "", func(id string) (bool, error) {
					return true, keep(id)
				})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	sortComplaints(out)
	out, next := cutPage(out, clampLimit(f.Limit), func(c *fieldsync.Complaint) string { return c.ID })
	return out, next, nil
}

// ComplaintsOfTicket lists a ticket's complaints in the order they were
// opened.
func (s *DB) ComplaintsOfTicket(ctx context.Context, ticketID string) ([]fieldsync.Complaint, error) {
	out := []fieldsync.Complaint{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		cs, err := children[fieldsync.Complaint](tx, indexComplaintsByTicket, bucketComplaints, ticketID)
		out = append(out, cs...)
		return err
	})
	return out, err
}

// sortComplaints orders complaints by id: UUIDv7 ids, so by opening.
func sortComplaints(cs []fieldsync.Complaint) {
	slices.SortFunc(cs, func(a, b fieldsync.Complaint) int { return strings.Compare(a.ID, b.ID) })
}

// complainTx opens the complaint complain returns for the ticket of
// report r, in the caller's transaction.
func complainTx(tx *bbolt.Tx, r *fieldsync.Report, complain func(*fieldsync.Ticket) (*fieldsync.Complaint, error), a fieldsync.Actor) error {
	v, err := must[fieldsync.Visit](tx, bucketVisits, "visit", r.VisitID)
	if err != nil {
		return err
	}
	t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket", v.TicketID)
	if err != nil {
		return err
	}
	c, err := complain(t)
	if err != nil {
		return err
	}
	return openComplaint(tx, c, a)
}
