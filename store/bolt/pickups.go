package bolt

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Pick-up records (fieldsync.Pickup) are kept by the store in the
// transactions that start and meet their clocks: a push that completes a
// visit or signs a report, and a seal. Like follow-ups they are read
// through the API, audited, and not published to devices. Their due
// times use the shipped SLA policy on the shipped business calendar, as
// follow-ups do.

// Keys of the source index: what started a record, so that a rerun of
// the transaction or a retried push finds it and makes no second one.
func pickupOfTicket(ticketID string) []byte    { return key("ticket", ticketID) }
func appraisalOfReport(reportID string) []byte { return key("report", reportID) }

// signed reports whether r is signed by the customer (signed or sealed):
// only what the customer signed starts or meets a clock; a draft may
// still change or be deleted.
func signed(r *fieldsync.Report) bool {
	return r.Status == fieldsync.ReportSigned || r.Status == fieldsync.ReportSealed
}

// settlePickups brings the pick-up records of ticket t up to date with
// its reports (as the transaction leaves them), after a change of visit v
// (completed, or the visit of a report just changed). It is idempotent:
//
//   - a return or exchange record is made once per ticket, when v is
//     completed and a signed report of the ticket settles on a return or
//     an exchange: the kind of its pick-up slip (the remedy the customer
//     chose among the decision's options), else the outcome of the latest
//     signed warranty decision; due from v's finish;
//   - it is done by the first signed report of the ticket with a slip,
//     whether signed before the completion or at a later pick-up visit;
//   - every signed report whose warranty question finds the screen
//     cracked on unboxing gets its appraisal_slip record, due from the
//     report's creation, done when the report is sealed.
func settlePickups(tx *bbolt.Tx, c clocks, t *fieldsync.Ticket, v *fieldsync.Visit, reports []*fieldsync.Report, actor fieldsync.Actor, now time.Time) error {
	reports = slices.DeleteFunc(slices.Clone(reports), func(r *fieldsync.Report) bool { return !signed(r) })
	slices.SortFunc(reports, func(a, b *fieldsync.Report) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	p, err := pickupBySource(tx, pickupOfTicket(t.ID))
	if err != nil {
		return err
	}
	if p == nil && v != nil && v.Status == fieldsync.VisitCompleted && v.FinishedAt != nil {
		if kind := pickupKind(reports); kind != "" {
			due, err := c.policy.PickupDue(c.cal, fieldsync.PickupKind(kind), *v.FinishedAt)
			if err != nil {
				return err
			}
			p = &fieldsync.Pickup{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, TicketID: t.ID, CustomerID: t.CustomerID,
				VisitID: v.ID, StartedAt: v.FinishedAt.UTC(), Due: due.Due.UTC(), DueWarning: due.Warning,
				CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
			if err := createPickup(tx, p, pickupOfTicket(t.ID), actor, now); err != nil {
				return err
			}
		}
	}
	if p != nil && p.DoneAt == nil {
		if i := slices.IndexFunc(reports, func(r *fieldsync.Report) bool { return r.Pickup != nil }); i >= 0 {
			before := *p
			p.CollectedBy(reports[i], now)
			if err := savePickup(tx, &before, p, actor, "pickup.collect", now); err != nil {
				return err
			}
		}
	}
	for _, r := range reports {
		if !crackedOnUnboxing(r) {
			continue
		}
		src := appraisalOfReport(r.ID)
		a, err := pickupBySource(tx, src)
		if err != nil {
			return err
		}
		if a != nil {
			continue
		}
		due, err := c.policy.AppraisalSlipDue(c.cal, r.CreatedAt)
		if err != nil {
			return err
		}
		a = &fieldsync.Pickup{ID: uuid.Must(uuid.NewV7()).String(), Kind: fieldsync.PickupRecordAppraisalSlip, TicketID: t.ID,
			CustomerID: t.CustomerID, VisitID: r.VisitID, ReportID: r.ID, StartedAt: r.CreatedAt.UTC(),
			Due: due.Due.UTC(), DueWarning: due.Warning, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
		if err := createPickup(tx, a, src, actor, now); err != nil {
			return err
		}
		if r.Status == fieldsync.ReportSealed {
			if err := appraisalSealed(tx, r, actor, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// pickupKind is the kind of the ticket's pick-up by its signed reports
// (oldest first): the first slip's, else the latest decision's outcome
// when it is a return or an exchange; empty when there is none.
func pickupKind(reports []*fieldsync.Report) fieldsync.PickupRecordKind {
	if i := slices.IndexFunc(reports, func(r *fieldsync.Report) bool { return r.Pickup != nil }); i >= 0 {
		return fieldsync.PickupRecordKind(reports[i].Pickup.Kind)
	}
	for _, r := range slices.Backward(reports) {
		if r.Warranty == nil {
			continue
		}
		var d struct {
			Outcome string `json:"outcome"`
		}
		if json.Unmarshal(r.Warranty.Decision, &d) != nil {
			continue
		}
		if k := fieldsync.PickupKind(d.Outcome); k == fieldsync.PickupReturn || k == fieldsync.PickupExchange {
			return fieldsync.PickupRecordKind(k)
		}
		return ""
	}
	return ""
}

// crackedOnUnboxing reports whether r's warranty question finds the
// screen cracked on unboxing.
func crackedOnUnboxing(r *fieldsync.Report) bool {
	if r.Warranty == nil {
		return false
	}
	var q struct {
		Checks struct {
			CrackedOnUnboxing bool `json:"cracked_on_unboxing"`
		} `json:"checks"`
	}
	return json.Unmarshal(r.Warranty.Question, &q) == nil && q.Checks.CrackedOnUnboxing
}

// appraisalSealed meets the appraisal_slip clock of report r, sealed at
// now; a no-op for a report without one or one met already.
func appraisalSealed(tx *bbolt.Tx, r *fieldsync.Report, actor fieldsync.Actor, now time.Time) error {
	a, err := pickupBySource(tx, appraisalOfReport(r.ID))
	if err != nil || a == nil || a.DoneAt != nil {
		return err
	}
	before := *a
	at := now.UTC()
	a.DoneAt, a.DoneReportID, a.UpdatedAt = &at, r.ID, at
	return savePickup(tx, &before, a, actor, "pickup.appraisal_sealed", now)
}

func pickupBySource(tx *bbolt.Tx, src []byte) (*fieldsync.Pickup, error) {
	id := tx.Bucket(indexPickupsBySource).Get(src)
	if id == nil {
		return nil, nil
	}
	return must[fieldsync.Pickup](tx, bucketPickups, string(fieldsync.EntityPickup), string(id))
}

func createPickup(tx *bbolt.Tx, p *fieldsync.Pickup, src []byte, actor fieldsync.Actor, now time.Time) error {
	if err := tx.Bucket(indexPickupsBySource).Put(src, []byte(p.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(indexPickupsByTicket).Put(key(p.TicketID, p.ID), nil); err != nil {
		return err
	}
	return savePickup(tx, nil, p, actor, "pickup.create", now)
}

func savePickup(tx *bbolt.Tx, before, after *fieldsync.Pickup, actor fieldsync.Actor, action string, now time.Time) error {
	if err := put(tx.Bucket(bucketPickups), after.ID, after); err != nil {
		return err
	}
	return writeAudit(tx, fieldsync.EntityPickup, after.ID, before, after, actor, action, now)
}

// ticketReports reads the reports of the ticket's visits through read.
func ticketReports(tx *bbolt.Tx, ticketID string, read func(id string) (*fieldsync.Report, error)) ([]*fieldsync.Report, error) {
	var out []*fieldsync.Report
	err := scanPrefix(tx.Bucket(indexVisitsByTicket), key(ticketID, ""), "", func(visitID string) (bool, error) {
		return true, scanPrefix(tx.Bucket(indexReportsByVisit), key(visitID, ""), "", func(id string) (bool, error) {
			r, err := read(id)
			if err == nil && r != nil {
				out = append(out, r)
			}
			return true, err
		})
	})
	return out, err
}

// settleTicketPickups is settlePickups outside a push: the ticket's
// reports as stored.
func (s *DB) settleTicketPickups(tx *bbolt.Tx, v *fieldsync.Visit, actor fieldsync.Actor, now time.Time) error {
	t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", v.TicketID)
	if err != nil {
		return err
	}
	reports, err := ticketReports(tx, t.ID, func(id string) (*fieldsync.Report, error) {
		return get[fieldsync.Report](tx.Bucket(bucketReports), id)
	})
	if err != nil {
		return err
	}
	return settlePickups(tx, s.slaClocks(), t, v, reports, actor, now)
}

// settlePickups is the package function in a push: the ticket's reports as the batch
// leaves them so far.
func (p *pushTx) settlePickups(v *fieldsync.Visit, actor fieldsync.Actor, now time.Time) error {
	t, err := must[fieldsync.Ticket](p.tx, bucketTickets, "ticket_id", v.TicketID)
	if err != nil {
		return err
	}
	reports, err := p.TicketReports(t.ID)
	if err != nil {
		return err
	}
	return settlePickups(p.tx, p.db.slaClocks(), t, v, reports, actor, now)
}

// Pickup returns a pick-up record or ENotFound.
func (s *DB) Pickup(ctx context.Context, id string) (*fieldsync.Pickup, error) {
	return view[fieldsync.Pickup](s, bucketPickups, fieldsync.EntityPickup, id)
}

// Pickups lists pick-up records a page at a time in order of creation:
// of one ticket (its index only) or of all, kept by the filter. A
// malformed cursor is EInvalid.
func (s *DB) Pickups(ctx context.Context, f fieldsync.PickupFilter) ([]fieldsync.Pickup, string, error) {
	l := listing{records: bucketPickups}
	if f.TicketID != "" {
		l.index, l.prefix = indexPickupsByTicket, key(f.TicketID, "")
	}
	return page(s, l, f.Cursor, f.Limit, f.Keeps)
}

// planCollection gives a visit booked on a ticket with an open return or
// exchange the pick-up's deadline (fieldsync.Pickup.PlanCollection).
func planCollection(tx *bbolt.Tx, v *fieldsync.Visit) error {
	p, err := pickupBySource(tx, pickupOfTicket(v.TicketID))
	if err != nil || p == nil {
		return err
	}
	p.PlanCollection(v)
	return nil
}
