package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Staff's corrections of records (fieldsync.Patch), each in one
// transaction, audited as "<entity>.edit" with its diff and published, so
// technicians holding the record pull the change. An edit that moves an
// input of an on-site deadline (a site's zone, a ticket's intake)
// recounts the deadlines of the tickets' visits through a
// fieldsync.Replan in the same transaction; each visit moved is audited as
// "visit.sla_recompute".

// editRecord applies edit to record id of bucket and audits the change.
func editRecord[T any](tx *bbolt.Tx, bucket []byte, entity fieldsync.Entity, id string, actor fieldsync.Actor, now time.Time, edit func(*T) error) (*T, *T, error) {
	before, err := must[T](tx, bucket, string(entity), id)
	if err != nil {
		return nil, nil, err
	}
	after := *before
	if err := edit(&after); err != nil {
		return nil, nil, err
	}
	return before, &after, audited(tx, bucket, entity, id, before, &after, actor, string(entity)+".edit", now)
}

// EditCustomer applies staff's edit to a customer.
func (s *DB) EditCustomer(ctx context.Context, id string, actor fieldsync.Actor, now time.Time, edit func(*fieldsync.Customer) error) (*fieldsync.Customer, error) {
	var out *fieldsync.Customer
	err := s.update(func(tx *bbolt.Tx) (err error) {
		_, out, err = editRecord(tx, bucketCustomers, fieldsync.EntityCustomer, id, actor, now, edit)
		return err
	})
	return out, err
}

// EditAsset applies staff's edit to an asset.
func (s *DB) EditAsset(ctx context.Context, id string, actor fieldsync.Actor, now time.Time, edit func(*fieldsync.Asset) error) (*fieldsync.Asset, error) {
	var out *fieldsync.Asset
	err := s.update(func(tx *bbolt.Tx) (err error) {
		_, out, err = editRecord(tx, bucketAssets, fieldsync.EntityAsset, id, actor, now, edit)
		return err
	})
	return out, err
}

// EditSite applies staff's edit to a site; a new zone replans the visits
// of every ticket at the site.
func (s *DB) EditSite(ctx context.Context, id string, actor fieldsync.Actor, now time.Time, edit func(*fieldsync.Site) error, replan fieldsync.Replan) (*fieldsync.Site, []fieldsync.DueChange, error) {
	var out *fieldsync.Site
	var moves []fieldsync.DueChange
	err := s.update(func(tx *bbolt.Tx) error {
		before, after, err := editRecord(tx, bucketSites, fieldsync.EntitySite, id, actor, now, edit)
		if err != nil {
			return err
		}
		out, moves = after, nil
		if before.Zone == after.Zone {
			return nil
		}
		return ticketsTouching(tx, fieldsync.EntitySite, id, func(ticketID string) error {
			t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", ticketID)
			if err != nil {
				return err
			}
			m, err := replanTicket(tx, t, after.Zone, replan, actor, now)
			moves = append(moves, m...)
			return err
		})
	})
	return out, moves, err
}

// EditTicket applies staff's edit to a ticket; a moved intake replans its
// visits.
func (s *DB) EditTicket(ctx context.Context, id string, actor fieldsync.Actor, now time.Time, edit func(*fieldsync.Ticket) error, replan fieldsync.Replan) (*fieldsync.Ticket, []fieldsync.DueChange, error) {
	var out *fieldsync.Ticket
	var moves []fieldsync.DueChange
	err := s.update(func(tx *bbolt.Tx) error {
		before, after, err := editRecord(tx, bucketTickets, fieldsync.EntityTicket, id, actor, now, edit)
		if err != nil {
			return err
		}
		out, moves = after, nil
		if before.CreatedAt.Equal(after.CreatedAt) {
			return nil
		}
		site, err := must[fieldsync.Site](tx, bucketSites, "site_id", after.SiteID)
		if err != nil {
			return err
		}
		moves, err = replanTicket(tx, after, site.Zone, replan, actor, now)
		return err
	})
	return out, moves, err
}

// replanTicket stores the visits of ticket t that replan moved.
func replanTicket(tx *bbolt.Tx, t *fieldsync.Ticket, zone fieldsync.Zone, replan fieldsync.Replan, actor fieldsync.Actor, now time.Time) ([]fieldsync.DueChange, error) {
	visits, err := children[fieldsync.Visit](tx, indexVisitsByTicket, bucketVisits, t.ID)
	if err != nil {
		return nil, err
	}
	p, err := pickupBySource(tx, pickupOfTicket(t.ID))
	if err != nil {
		return nil, err
	}
	changed, moves, err := replan(t, zone, visits, p != nil && p.DoneAt == nil)
	if err != nil {
		return nil, err
	}
	for i := range changed {
		before, err := must[fieldsync.Visit](tx, bucketVisits, "visit", changed[i].ID)
		if err != nil {
			return nil, err
		}
		if err := audited(tx, bucketVisits, fieldsync.EntityVisit, changed[i].ID, before, &changed[i], actor, "visit.sla_recompute", now); err != nil {
			return nil, err
		}
	}
	return moves, nil
}
