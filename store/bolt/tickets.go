package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateTicket stores a ticket whose customer, site and asset exist and
// belong together (EInvalid when the site or asset is another customer's).
func (s *DB) CreateTicket(ctx context.Context, t *fieldsync.Ticket, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error { return createTicket(tx, t, actor) })
}

func createTicket(tx *bbolt.Tx, t *fieldsync.Ticket, actor fieldsync.Actor) error {
	if _, err := must[fieldsync.Customer](tx, bucketCustomers, "customer_id", t.CustomerID); err != nil {
		return err
	}
	site, err := must[fieldsync.Site](tx, bucketSites, "site_id", t.SiteID)
	if err != nil {
		return err
	}
	asset, err := must[fieldsync.Asset](tx, bucketAssets, "asset_id", t.AssetID)
	if err != nil {
		return err
	}
	if site.CustomerID != t.CustomerID || asset.CustomerID != t.CustomerID {
		return fieldsync.Errorf(fieldsync.EInvalid, "the site and the asset must belong to customer %q", t.CustomerID)
	}
	if t.Status == "" {
		t.Status = fieldsync.TicketOpen
	}
	if err := tx.Bucket(indexTicketsByCust).Put(key(t.CustomerID, t.ID), nil); err != nil {
		return err
	}
	return create(tx, bucketTickets, fieldsync.EntityTicket, t.ID, t, actor, t.CreatedAt)
}

// Ticket returns a ticket or ENotFound.
func (s *DB) Ticket(ctx context.Context, id string) (*fieldsync.Ticket, error) {
	return view[fieldsync.Ticket](s, bucketTickets, fieldsync.EntityTicket, id)
}

// UpdateTicket applies fn to the ticket in one transaction and audits the
// change under action. fn's error aborts it.
func (s *DB) UpdateTicket(ctx context.Context, id string, actor fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Ticket) error) (*fieldsync.Ticket, error) {
	var out *fieldsync.Ticket
	err := s.update(func(tx *bbolt.Tx) error {
		before, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket", id)
		if err != nil {
			return err
		}
		after := *before
		if err := fn(&after); err != nil {
			return err
		}
		out = &after
		return audited(tx, bucketTickets, fieldsync.EntityTicket, id, before, &after, actor, action, now)
	})
	return out, err
}
