package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// A ticket's status follows its visits (fieldsync.TicketStatusOfVisits) in
// the transaction that changes one: a booking, a push of a visit action or
// a staff change of a visit. The status change is audited as
// "ticket.status" and published, so technicians see it.

// ticketStatusInputs reads what a ticket's status is derived from: its
// visits in creation order and whether a pick-up record of it is open.
func ticketStatusInputs(tx *bbolt.Tx, ticketID string) ([]fieldsync.Visit, bool, error) {
	visits, err := children[fieldsync.Visit](tx, indexVisitsByTicket, bucketVisits, ticketID)
	if err != nil {
		return nil, false, err
	}
	open := false
	pickups := tx.Bucket(bucketPickups)
	err = scanPrefix(tx.Bucket(indexPickupsByTicket), key(ticketID, ""), "", func(id string) (bool, error) {
		p, err := get[fieldsync.Pickup](pickups, id)
		if p != nil && p.DoneAt == nil {
			open = true
		}
		return !open, err
	})
	return visits, open, err
}

// followVisits moves ticket ticketID to the status its visits give it, as
// they stand in tx.
func followVisits(tx *bbolt.Tx, ticketID string, actor fieldsync.Actor, now time.Time) error {
	before, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", ticketID)
	if err != nil {
		return err
	}
	visits, openPickup, err := ticketStatusInputs(tx, ticketID)
	if err != nil {
		return err
	}
	after := *before
	if !after.FollowVisits(visits, openPickup) {
		return nil
	}
	return audited(tx, bucketTickets, fieldsync.EntityTicket, ticketID, before, &after, actor, "ticket.status", now)
}

// followVisitChange is followVisits after a visit went from before (nil:
// booked) to after; a change that leaves the visit's status alone moves
// no ticket, so staff's reopen holds until a visit moves again.
func followVisitChange(tx *bbolt.Tx, before, after *fieldsync.Visit, actor fieldsync.Actor, now time.Time) error {
	if before != nil && before.Status == after.Status {
		return nil
	}
	return followVisits(tx, after.TicketID, actor, now)
}

// TransitionTicket applies staff's action to a ticket (Ticket.Transition)
// against its visits as they stand, in one transaction, and audits the
// change under "ticket."+action.
func (s *DB) TransitionTicket(ctx context.Context, id string, actor fieldsync.Actor, action fieldsync.TicketAction, reason string, now time.Time) (*fieldsync.Ticket, error) {
	var out *fieldsync.Ticket
	err := s.update(func(tx *bbolt.Tx) error {
		before, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket", id)
		if err != nil {
			return err
		}
		visits, err := children[fieldsync.Visit](tx, indexVisitsByTicket, bucketVisits, id)
		if err != nil {
			return err
		}
		after := *before
		if err := after.Transition(action, visits, reason); err != nil {
			return err
		}
		out = &after
		return audited(tx, bucketTickets, fieldsync.EntityTicket, id, before, &after, actor, "ticket."+string(action), now)
	})
	return out, err
}

// statusExistingTickets gives every stored ticket the status its visits
// give it, published so devices holding it learn it.
func statusExistingTickets(tx *bbolt.Tx) error {
	tickets := tx.Bucket(bucketTickets)
	if tickets == nil {
		return nil
	}
	var ids []string
	if err := tickets.ForEach(func(k, _ []byte) error {
		ids = append(ids, string(k))
		return nil
	}); err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, id := range ids {
		t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket", id)
		if err != nil {
			return err
		}
		visits, openPickup, err := ticketStatusInputs(tx, id)
		if err != nil {
			return err
		}
		t.Status = fieldsync.TicketStatusOfVisits(visits, openPickup)
		if err := put(tx.Bucket(bucketTickets), id, t); err != nil {
			return err
		}
		if _, err := publish(tx, fieldsync.EntityTicket, id, syncproto.ChangeUpsert, now); err != nil {
			return err
		}
	}
	return nil
}
