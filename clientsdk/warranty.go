package clientsdk

import (
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/warranty"
)

// WarrantyQuestion is what the technician finds on site, beyond what the
// device holds: the part that failed, the condition checks and the
// earlier repairs of that part.
type WarrantyQuestion struct {
	FailedPart warranty.Part
	Checks     warranty.Checks
	Repairs    []warranty.Repair
}

// DecideWarranty decides, offline, which 三包 remedies the customer of a
// report is entitled to: with the warranty policy and business calendar
// the device pulled (the server's, so the server decides the same), the
// report's responsibility, its visit's day (of arrival, else today, in
// China time) and its asset's category and dates. EInvalid when the
// report has no responsibility yet or the question names an unknown part;
// ENotFound while the device has not pulled the policy (sync first) or
// lacks the report's visit, ticket or asset.
func (c *Client) DecideWarranty(reportID string, q WarrantyQuestion) (warranty.Decision, error) {
	var d warranty.Decision
	err := c.view(func(rd *reader) error {
		r, err := rd.report(reportID)
		if err != nil {
			return err
		}
		if r.Responsibility == "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "report %s has no responsibility yet: record who is responsible for the fault first", reportID)
		}
		v, err := rd.visit(r.VisitID)
		if err != nil {
			return err
		}
		t, ok, err := get[fieldsync.Ticket](rd.tx, fieldsync.EntityTicket, v.TicketID)
		if err != nil || !ok {
			return orMissing(err, "ticket", v.TicketID)
		}
		a, ok, err := get[fieldsync.Asset](rd.tx, fieldsync.EntityAsset, t.AssetID)
		if err != nil || !ok {
			return orMissing(err, "asset", t.AssetID)
		}
		p, err := rd.warrantyPolicy()
		if err != nil {
			return err
		}
		cal, err := rd.calendar()
		if err != nil {
			return err
		}
		day := c.opts.Now()
		if v.ArrivedAt != nil {
			day = *v.ArrivedAt
		}
		in, err := warranty.Request{
			Category: string(a.Category), InvoiceDate: a.InvoiceDate, ReceiptDate: a.ReceiptDate, ManufactureDate: a.ManufactureDate,
			VisitDate: day.In(calendar.Location()).Format(time.DateOnly), Responsibility: string(r.Responsibility),
			FailedPart: string(q.FailedPart), Checks: q.Checks,
		}.Input()
		if err != nil {
			return err
		}
		in.Repairs = q.Repairs
		d, err = warranty.Decide(p, cal, in)
		return err
	})
	return d, err
}

// orMissing is err, or ENotFound naming a record the device lacks.
func orMissing(err error, kind, id string) error {
	if err != nil {
		return err
	}
	return fieldsync.Errorf(fieldsync.ENotFound, "%s %s is not on this device: sync first", kind, id)
}

// warrantyPolicy returns the warranty policy the device pulled.
func (rd *reader) warrantyPolicy() (warranty.Policy, error) {
	p, ok, err := cached(rd, fieldsync.EntityWarrantyPolicy, warranty.PolicyID, warranty.ParsePolicy)
	if err == nil && !ok {
		err = fieldsync.Errorf(fieldsync.ENotFound, "the warranty policy is not on this device: sync first")
	}
	return p, err
}

// calendar returns the business calendar the device pulled, else the one
// this build ships.
func (rd *reader) calendar() (*calendar.Calendar, error) {
	cal, ok, err := cached(rd, fieldsync.EntityCalendar, "cn-2026", calendar.Parse)
	if err != nil || !ok {
		return calendar.Default(), err
	}
	return cal, nil
}
