package bolt

import (
	"context"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/warranty"
)

// Work orders are read through the API by staff and customers; the
// certificates of their repaired parts are records of the sync feed too,
// seen by the technicians of every visit on the asset, so a tablet
// decides a later failure of the part with them offline.

// workOrderOnCompletion makes the work order of a visit that moved from
// before (nil when new) to after, in the transaction of that change, when
// the change completed it and its report records work, with the warranty
// certificates of the parts repaired. report reads a report as the
// transaction sees it. It is a no-op for any other change and for a visit
// that has its work order already, so a rerun of the transaction or a
// retried push makes exactly one. The certificates run for the repair
// warranty of the published warranty policy (the shipped one when none
// is), on the store's business calendar (SetPolicy).
func (s *DB) workOrderOnCompletion(tx *bbolt.Tx, before, after *fieldsync.Visit, report func(id string) (*fieldsync.Report, error), actor fieldsync.Actor, now time.Time) error {
	if after.Status != fieldsync.VisitCompleted || (before != nil && before.Status == fieldsync.VisitCompleted) {
		return nil
	}
	byVisit := tx.Bucket(indexWorkOrdersByVisit)
	if byVisit.Get([]byte(after.ID)) != nil {
		return nil
	}
	var worked *fieldsync.Report
	err := scanPrefix(tx.Bucket(indexReportsByVisit), key(after.ID, ""), "", func(id string) (bool, error) {
		r, err := report(id)
		if err == nil && r != nil && len(r.Work) > 0 && (worked == nil || !r.CreatedAt.Before(worked.CreatedAt)) {
			worked = r
		}
		return true, err
	})
	if err != nil || worked == nil {
		return err
	}
	t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", after.TicketID)
	if err != nil {
		return err
	}
	w := fieldsync.NewWorkOrder(uuid.Must(uuid.NewV7()).String(), after, t, worked)
	if w == nil {
		return fieldsync.Errorf(fieldsync.EInvalid, "visit %s is completed without its completion time", after.ID)
	}
	if err := byVisit.Put([]byte(after.ID), []byte(w.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(indexWorkOrdersByTicket).Put(key(w.TicketID, w.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(indexWorkOrdersByAsset).Put(key(w.AssetID, w.ID), nil); err != nil {
		return err
	}
	if err := put(tx.Bucket(bucketWorkOrders), w.ID, w); err != nil {
		return err
	}
	if err := writeAudit(tx, fieldsync.EntityWorkOrder, w.ID, nil, w, actor, "workorder.create", now); err != nil {
		return err
	}
	p, err := publishedWarranty(tx)
	if err != nil {
		return err
	}
	for _, c := range warranty.Certify(p, s.calendar(), w) {
		if err := tx.Bucket(indexCertificatesByAsset).Put(key(c.AssetID, c.ID), nil); err != nil {
			return err
		}
		if err := put(tx.Bucket(bucketCertificates), c.ID, &c); err != nil {
			return err
		}
		if err := writeAudit(tx, fieldsync.EntityCertificate, c.ID, nil, &c, actor, "certificate.create", now); err != nil {
			return err
		}
		if _, err := publish(tx, fieldsync.EntityCertificate, c.ID, syncproto.ChangeUpsert, now); err != nil {
			return err
		}
	}
	return nil
}

// publishedWarranty is the warranty policy the feed publishes, or the
// shipped one when none is.
func publishedWarranty(tx *bbolt.Tx) (warranty.Policy, error) {
	raw := tx.Bucket(bucketWarranty).Get([]byte(warranty.PolicyID))
	if raw == nil {
		return warranty.DefaultPolicy(), nil
	}
	return warranty.ParsePolicy(raw)
}

// certificatesOf lists the certificates of an asset, oldest work order
// first, a work order's by part name.
func certificatesOf(tx *bbolt.Tx, assetID string) ([]fieldsync.Certificate, error) {
	out := []fieldsync.Certificate{}
	certs := tx.Bucket(bucketCertificates)
	err := scanPrefix(tx.Bucket(indexCertificatesByAsset), key(assetID, ""), "", func(id string) (bool, error) {
		c, err := get[fieldsync.Certificate](certs, id)
		if err == nil && c != nil {
			out = append(out, *c)
		}
		return true, err
	})
	return out, err
}

// Certificates returns the certificates of an asset's repaired parts.
func (p *pushTx) Certificates(assetID string) ([]fieldsync.Certificate, error) {
	return certificatesOf(p.tx, assetID)
}

// Certificates returns the warranty certificates of an asset, oldest
// work order first; none for an asset never repaired (or unknown).
func (s *DB) Certificates(ctx context.Context, assetID string) ([]fieldsync.Certificate, error) {
	var out []fieldsync.Certificate
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		out, err = certificatesOf(tx, assetID)
		return err
	})
	return out, err
}

// WorkOrder returns a work order or ENotFound.
func (s *DB) WorkOrder(ctx context.Context, id string) (*fieldsync.WorkOrder, error) {
	return view[fieldsync.WorkOrder](s, bucketWorkOrders, fieldsync.EntityWorkOrder, id)
}

// WorkOrders lists work orders a page at a time in creation order: of a
// ticket or of an asset through its index, else all. A malformed cursor
// is EInvalid.
func (s *DB) WorkOrders(ctx context.Context, f fieldsync.WorkOrderFilter) ([]fieldsync.WorkOrder, string, error) {
	keep := func(w *fieldsync.WorkOrder) bool {
		return (f.TicketID == "" || w.TicketID == f.TicketID) && (f.AssetID == "" || w.AssetID == f.AssetID)
	}
	l := listing{records: bucketWorkOrders}
	switch {
	case f.TicketID != "":
		l.index, l.prefix = indexWorkOrdersByTicket, key(f.TicketID, "")
	case f.AssetID != "":
		l.index, l.prefix = indexWorkOrdersByAsset, key(f.AssetID, "")
	}
	return page(s, l, f.Cursor, f.Limit, keep)
}
