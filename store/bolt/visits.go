package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// CreateVisit books a visit on a ticket in one transaction: plan gets the
// ticket, its site and its visits in creation order as they stand in that
// transaction, and returns the visit to store or an error that aborts the
// booking, so two bookings at once never both pass plan's checks.
// ENotFound for an unknown ticket; the visit's technician must be a user
// with the technician role (EInvalid).
func (s *DB) CreateVisit(ctx context.Context, ticketID string, actor fieldsync.Actor, plan func(*fieldsync.Ticket, *fieldsync.Site, []fieldsync.Visit) (*fieldsync.Visit, error)) (*fieldsync.Visit, error) {
	var v *fieldsync.Visit
	err := s.update(func(tx *bbolt.Tx) error {
		t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", ticketID)
		if err != nil {
			return err
		}
		site, err := must[fieldsync.Site](tx, bucketSites, "site_id", t.SiteID)
		if err != nil {
			return err
		}
		visits, err := children[fieldsync.Visit](tx, indexVisitsByTicket, bucketVisits, ticketID)
		if err != nil {
			return err
		}
		if v, err = plan(t, site, visits); err != nil {
			return err
		}
		if err := planCollection(tx, v); err != nil {
			return err
		}
		if err := createVisit(tx, v, actor); err != nil {
			return err
		}
		return followVisitChange(tx, nil, v, actor, v.CreatedAt)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// createVisit stores a visit of an existing ticket, assigned to a user
// with the technician role (EInvalid otherwise).
func createVisit(tx *bbolt.Tx, v *fieldsync.Visit, actor fieldsync.Actor) error {
	if _, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", v.TicketID); err != nil {
		return err
	}
	if err := checkTechnician(tx, v.TechnicianID); err != nil {
		return err
	}
	if err := tx.Bucket(indexVisitsByTicket).Put(key(v.TicketID, v.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(indexVisitsByTech).Put(key(v.TechnicianID, v.ID), nil); err != nil {
		return err
	}
	if err := indexPrevious(tx, v); err != nil {
		return err
	}
	if err := create(tx, bucketVisits, fieldsync.EntityVisit, v.ID, v, actor, v.CreatedAt); err != nil {
		return err
	}
	return backfill(tx, v.TechnicianID, v.ID, v.CreatedAt)
}

func checkTechnician(tx *bbolt.Tx, id string) error {
	u, err := must[fieldsync.User](tx, bucketUsers, "technician_id", id)
	if err != nil {
		return err
	}
	if u.Role != fieldsync.RoleTechnician {
		return fieldsync.Errorf(fieldsync.EInvalid, "technician_id: user %q is a %s, not a technician", id, u.Role)
	}
	return nil
}

// UpdateVisit applies fn to the visit in one transaction and audits the
// change under action. A new technician must be one (EInvalid), and the
// technician index follows the change.
func (s *DB) UpdateVisit(ctx context.Context, id string, actor fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Visit) error) (*fieldsync.Visit, error) {
	var out *fieldsync.Visit
	err := s.update(func(tx *bbolt.Tx) error {
		before, err := must[fieldsync.Visit](tx, bucketVisits, "visit", id)
		if err != nil {
			return err
		}
		after := *before
		if err := fn(&after); err != nil {
			return err
		}
		if after.TechnicianID != before.TechnicianID {
			if err := checkTechnician(tx, after.TechnicianID); err != nil {
				return err
			}
			idx := tx.Bucket(indexVisitsByTech)
			if err := idx.Delete(key(before.TechnicianID, id)); err != nil {
				return err
			}
			if err := idx.Put(key(after.TechnicianID, id), nil); err != nil {
				return err
			}
		}
		out = &after
		if err := audited(tx, bucketVisits, fieldsync.EntityVisit, id, before, &after, actor, action, now); err != nil {
			return err
		}
		if err := s.followUpOnCompletion(tx, before, &after, actor, now); err != nil {
			return err
		}
		reports := tx.Bucket(bucketReports)
		if err := s.workOrderOnCompletion(tx, before, &after, func(id string) (*fieldsync.Report, error) { return get[fieldsync.Report](reports, id) }, actor, now); err != nil {
			return err
		}
		if after.Status == fieldsync.VisitCompleted && before.Status != fieldsync.VisitCompleted {
			if err := s.settleTicketPickups(tx, &after, actor, now); err != nil {
				return err
			}
		}
		if err := followVisitChange(tx, before, &after, actor, now); err != nil {
			return err
		}
		if after.TechnicianID != before.TechnicianID {
			// The new technician gets the whole bundle; the old one an evict
			// of what their other visits do not need.
			if err := backfill(tx, after.TechnicianID, id, now); err != nil {
				return err
			}
			return evict(tx, before.TechnicianID, id, now)
		}
		return nil
	})
	return out, err
}

// Visit returns a visit or ENotFound.
func (s *DB) Visit(ctx context.Context, id string) (*fieldsync.Visit, error) {
	return view[fieldsync.Visit](s, bucketVisits, fieldsync.EntityVisit, id)
}

// VisitBundle reads a visit with its ticket, customer, site, asset and
// reports in one consistent snapshot.
func (s *DB) VisitBundle(ctx context.Context, id string) (*fieldsync.VisitBundle, error) {
	var b fieldsync.VisitBundle
	err := s.db.View(func(tx *bbolt.Tx) error {
		v, err := must[fieldsync.Visit](tx, bucketVisits, "visit", id)
		if err != nil {
			return err
		}
		t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", v.TicketID)
		if err != nil {
			return err
		}
		c, err := must[fieldsync.Customer](tx, bucketCustomers, "customer_id", t.CustomerID)
		if err != nil {
			return err
		}
		site, err := must[fieldsync.Site](tx, bucketSites, "site_id", t.SiteID)
		if err != nil {
			return err
		}
		a, err := must[fieldsync.Asset](tx, bucketAssets, "asset_id", t.AssetID)
		if err != nil {
			return err
		}
		reports, err := children[fieldsync.Report](tx, indexReportsByVisit, bucketReports, id)
		if err != nil {
			return err
		}
		if reports == nil {
			reports = []fieldsync.Report{}
		}
		b = fieldsync.VisitBundle{Visit: *v, Ticket: *t, Customer: *c, Site: *site, Asset: *a, Reports: reports}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// Visits lists visits in creation order, a page at a time. With a
// technician the scan reads only that technician's index, so it costs
// what they have, not the whole table; with a ticket, only that ticket's
// index. A malformed cursor is EInvalid.
func (s *DB) Visits(ctx context.Context, f fieldsync.VisitFilter) ([]fieldsync.Visit, string, error) {
	l := listing{records: bucketVisits}
	switch {
	case f.TicketID != "":
		l.index, l.prefix = indexVisitsByTicket, key(f.TicketID, "")
	case f.TechnicianID != "":
		l.index, l.prefix = indexVisitsByTech, key(f.TechnicianID, "")
	}
	return page(s, l, f.Cursor, f.Limit, func(v *fieldsync.Visit) bool {
		return (f.TechnicianID == "" || v.TechnicianID == f.TechnicianID) &&
			(f.Status == "" || v.Status == f.Status) &&
			(f.From.IsZero() || !v.WindowStart.Before(f.From)) &&
			(f.To.IsZero() || v.WindowStart.Before(f.To)) &&
			(f.Match == nil || f.Match(v))
	})
}
