package clientsdk

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/warranty"
)

// SetPickup makes, offline, the pick-up slip (取货单) of a return or an
// exchange and keeps it in the draft report, in one write with its outbox
// entry: the accessory check (every accessory the pulled warranty policy
// lists for the asset's category, each present unless named in missing),
// the deductions for the missing ones priced on the pulled price list,
// their total, and now as the collection time. The customer signs it with
// the report; the server prices it again on push.
//
// EPickupNotOffered, naming the options, when the ticket's warranty
// decision (the report's own, else the latest on another report of the
// ticket on this device) does not offer kind, or there is none;
// EInvalid for an unknown kind or an accessory the category does not
// collect (naming those it does); EReportSealed for a signed report;
// ENotFound while the device lacks the policy, the price list or the
// report's visit, ticket or asset (sync first).
func (c *Client) SetPickup(reportID string, kind fieldsync.PickupKind, missing []string) (fieldsync.ReportPickup, error) {
	var slip fieldsync.ReportPickup
	fields := map[string]json.RawMessage{}
	err := c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", fields, func(rd *reader) error {
		if _, _, err := c.draft(rd, reportID); err != nil {
			return err
		}
		var err error
		if slip, err = c.pickupSlip(rd, reportID, kind, missing); err != nil {
			return err
		}
		raw, err := json.Marshal(slip)
		if err != nil {
			return err
		}
		if err := fieldsync.CheckReportField("pickup", raw, nil); err != nil {
			return err
		}
		fields["pickup"] = raw
		return nil
	})
	return slip, err
}

// pickupSlip makes the slip of report reportID.
func (c *Client) pickupSlip(rd *reader, reportID string, kind fieldsync.PickupKind, missing []string) (fieldsync.ReportPickup, error) {
	if kind != fieldsync.PickupReturn && kind != fieldsync.PickupExchange {
		return fieldsync.ReportPickup{}, fieldsync.Errorf(fieldsync.EInvalid, "pickup.kind: %q is not return or exchange", kind)
	}
	r, err := rd.report(reportID)
	if err != nil {
		return fieldsync.ReportPickup{}, err
	}
	v, err := rd.visit(r.VisitID)
	if err != nil {
		return fieldsync.ReportPickup{}, err
	}
	decision, err := rd.ticketWarranty(r, v.TicketID)
	if err != nil {
		return fieldsync.ReportPickup{}, err
	}
	if err := fieldsync.CheckPickupOffered(kind, decision); err != nil {
		return fieldsync.ReportPickup{}, err
	}
	t, ok, err := get[fieldsync.Ticket](rd.tx, fieldsync.EntityTicket, v.TicketID)
	if err != nil || !ok {
		return fieldsync.ReportPickup{}, orMissing(err, "ticket", v.TicketID)
	}
	a, ok, err := get[fieldsync.Asset](rd.tx, fieldsync.EntityAsset, t.AssetID)
	if err != nil || !ok {
		return fieldsync.ReportPickup{}, orMissing(err, "asset", t.AssetID)
	}
	p, err := rd.warrantyPolicy()
	if err != nil {
		return fieldsync.ReportPickup{}, err
	}
	terms, ok := p.Categories[warranty.Category(a.Category)]
	if !ok {
		return fieldsync.ReportPickup{}, fieldsync.Errorf(fieldsync.EInvalid, "the warranty policy has no category %q", a.Category)
	}
	for _, m := range missing {
		if !slices.Contains(terms.Accessories, m) {
			return fieldsync.ReportPickup{}, fieldsync.Errorf(fieldsync.EInvalid, "missing: %s does not collect %q with the item (accessories: %s)", a.Category, m, strings.Join(terms.Accessories, ", "))
		}
	}
	l, err := rd.priceList()
	if err != nil {
		return fieldsync.ReportPickup{}, err
	}
	slip := fieldsync.ReportPickup{Kind: kind, Category: string(a.Category), Accessories: []fieldsync.PickupCheck{}, Deductions: []fieldsync.PickupDeduction{},
		PriceListVersion: l.Version, CollectedAt: c.opts.Now().UTC().Truncate(time.Second)}
	for _, acc := range terms.Accessories {
		slip.Accessories = append(slip.Accessories, fieldsync.PickupCheck{Accessory: acc, Present: !slices.Contains(missing, acc)})
	}
	ds, total, err := quote.Deductions(l, slip.Category, slip.Missing())
	if err != nil {
		return fieldsync.ReportPickup{}, err
	}
	for _, d := range ds {
		slip.Deductions = append(slip.Deductions, fieldsync.PickupDeduction{Accessory: d.Accessory, Fen: d.Fen})
	}
	slip.TotalFen = total
	return slip, nil
}

// ticketWarranty returns the warranty decision a pick-up on r is made
// under: r's own, else the latest on another report of the ticket on this
// device; nil when there is none.
func (rd *reader) ticketWarranty(r *fieldsync.Report, ticketID string) (json.RawMessage, error) {
	if r.Warranty != nil {
		return r.Warranty.Decision, nil
	}
	rs, err := rd.reports()
	if err != nil {
		return nil, err
	}
	var latest *fieldsync.Report
	for i := range rs {
		o := &rs[i]
		if o.ID == r.ID || o.Warranty == nil || (latest != nil && !o.UpdatedAt.After(latest.UpdatedAt)) {
			continue
		}
		v, err := rd.visit(o.VisitID)
		if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
			continue // a report of a visit no longer on the device
		}
		if err != nil {
			return nil, err
		}
		if v.TicketID == ticketID {
			latest = o
		}
	}
	if latest == nil {
		return nil, nil
	}
	return latest.Warranty.Decision, nil
}
