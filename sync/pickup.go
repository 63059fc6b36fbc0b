package syncproto

import (
	"slices"

	"github.com/fieldsync/fieldsync"
	pricing "github.com/fieldsync/fieldsync/quote"
)

// recheckPickup checks the pick-up slip an edit just set in r, against
// the server's records: its kind must be an option of the ticket's
// warranty decision (EPickupNotOffered), its category the asset's, and,
// when it names the server's price list version, its deductions must be
// that list's (EPickupDeductions). A slip priced on another version is
// kept as the customer signed it: the tablet had not pulled the new list.
// It returns the refusal, or nil when the slip stands.
func (e *Engine) recheckPickup(tx Txn, r *fieldsync.Report, v *fieldsync.Visit) (*Result, error) {
	p := r.Pickup
	decision, err := ticketWarranty(tx, r, v)
	if err != nil {
		return nil, err
	}
	if err := fieldsync.CheckPickupOffered(p.Kind, decision); err != nil {
		res := outcome(err)
		return &res, nil
	}
	t, err := tx.Ticket(v.TicketID)
	if err != nil {
		return nil, err
	}
	if t != nil {
		a, err := tx.Asset(t.AssetID)
		if err != nil {
			return nil, err
		}
		if a != nil && string(a.Category) != p.Category {
			return &Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "pickup.category: " + quote(p.Category) + ", but the asset is " + quote(string(a.Category))}, nil
		}
	}
	l := e.priceList()
	if p.PriceListVersion != l.Version {
		return nil, nil
	}
	ds, total, err := pricing.Deductions(l, p.Category, p.Missing())
	if err != nil {
		res := outcome(err)
		return &res, nil
	}
	for i, d := range ds {
		if p.Deductions[i].Fen != d.Fen {
			return &Result{Status: Rejected, Code: fieldsync.EPickupDeductions,
				Detail: "pickup.deductions[" + itoa(int64(i)) + "].fen: " + itoa(p.Deductions[i].Fen) + ", but price list " + l.Version + " deducts " + itoa(d.Fen) + " for " + quote(d.Accessory)}, nil
		}
	}
	if p.TotalFen != total {
		return &Result{Status: Rejected, Code: fieldsync.EPickupDeductions, Detail: "pickup.total_fen: " + itoa(p.TotalFen) + ", but price list " + l.Version + " deducts " + itoa(total)}, nil
	}
	return nil, nil
}

// ticketWarranty returns the warranty decision a pick-up on r is made
// under: r's own, or else the latest one on another report of the ticket;
// nil when the ticket has none.
func ticketWarranty(tx Txn, r *fieldsync.Report, v *fieldsync.Visit) ([]byte, error) {
	if r.Warranty != nil {
		return r.Warranty.Decision, nil
	}
	rs, err := tx.TicketReports(v.TicketID)
	if err != nil {
		return nil, err
	}
	rs = slices.DeleteFunc(rs, func(o *fieldsync.Report) bool { return o.ID == r.ID || o.Warranty == nil })
	if len(rs) == 0 {
		return nil, nil
	}
	latest := slices.MaxFunc(rs, func(a, b *fieldsync.Report) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	return latest.Warranty.Decision, nil
}

func deref(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}
