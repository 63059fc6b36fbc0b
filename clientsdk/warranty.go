package clientsdk

import (
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	syncproto "github.com/fieldsync/fieldsync/sync"
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
// China time), its asset's category and dates, and the earlier repairs
// of the failed part that the asset's warranty certificates attest
// (besides those q states). EInvalid when the
// report has no responsibility yet or the question names an unknown part;
// ENotFound while the device has not pulled the policy (sync first) or
// lacks the report's visit, ticket or asset. SetWarranty keeps the
// decision in the report.
func (c *Client) DecideWarranty(reportID string, q WarrantyQuestion) (warranty.Decision, error) {
	var d warranty.Decision
	err := c.view(func(rd *reader) error {
		var err error
		d, _, err = c.decideWarranty(rd, reportID, q.question())
		return err
	})
	return d, err
}

// SetWarranty decides as DecideWarranty does and keeps the decision in
// the draft report, with the question and the day decided for, in one
// write: the report's warranty field, which its signature covers. On push
// the server decides again with its own policy; when it disagrees (its
// policy changed while the device was offline) the report keeps this
// decision and shows the server's beside it, flagged warranty_disputed.
// EReportSealed for a signed report; errors as DecideWarranty.
func (c *Client) SetWarranty(reportID string, q WarrantyQuestion) (warranty.Decision, error) {
	var d warranty.Decision
	fields := map[string]json.RawMessage{}
	err := c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", fields, func(rd *reader) error {
		if _, _, err := c.draft(rd, reportID); err != nil {
			return err
		}
		wq := q.question()
		var day string
		var err error
		if d, day, err = c.decideWarranty(rd, reportID, wq); err != nil {
			return err
		}
		question, err := json.Marshal(wq)
		if err != nil {
			return err
		}
		decision, err := json.Marshal(d)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(fieldsync.ReportWarranty{Question: question, VisitDate: day, Decision: decision})
		if err != nil {
			return err
		}
		if err := fieldsync.CheckReportField("warranty", raw, nil); err != nil {
			return err
		}
		fields["warranty"] = raw
		return nil
	})
	return d, err
}

// question is q as a report keeps it.
func (q WarrantyQuestion) question() warranty.Question {
	wq := warranty.Question{FailedPart: q.FailedPart, Checks: q.Checks}
	for _, r := range q.Repairs {
		wq.Repairs = append(wq.Repairs, warranty.RequestRepair{Date: r.Date.String(), UnderWarranty: r.UnderWarranty})
	}
	return wq
}

// decideWarranty decides q for report reportID and returns the day it
// decided for.
func (c *Client) decideWarranty(rd *reader, reportID string, q warranty.Question) (warranty.Decision, string, error) {
	r, err := rd.report(reportID)
	if err != nil {
		return warranty.Decision{}, "", err
	}
	if r.Responsibility == "" {
		return warranty.Decision{}, "", fieldsync.Errorf(fieldsync.EInvalid, "report %s has no responsibility yet: record who is responsible for the fault first", reportID)
	}
	v, err := rd.visit(r.VisitID)
	if err != nil {
		return warranty.Decision{}, "", err
	}
	t, ok, err := get[fieldsync.Ticket](rd.tx, fieldsync.EntityTicket, v.TicketID)
	if err != nil || !ok {
		return warranty.Decision{}, "", orMissing(err, "ticket", v.TicketID)
	}
	a, ok, err := get[fieldsync.Asset](rd.tx, fieldsync.EntityAsset, t.AssetID)
	if err != nil || !ok {
		return warranty.Decision{}, "", orMissing(err, "asset", t.AssetID)
	}
	p, err := rd.warrantyPolicy()
	if err != nil {
		return warranty.Decision{}, "", err
	}
	cal, err := rd.calendar()
	if err != nil {
		return warranty.Decision{}, "", err
	}
	day := c.opts.Now()
	if v.ArrivedAt != nil {
		day = *v.ArrivedAt
	}
	visitDate := day.In(calendar.Location()).Format(time.DateOnly)
	certs, err := rd.certificates(a.ID)
	if err != nil {
		return warranty.Decision{}, "", err
	}
	in, err := warranty.ForReport(&a, r.Responsibility, visitDate, q.WithCertificates(certs, v.ID, visitDate)).Input()
	if err != nil {
		return warranty.Decision{}, "", err
	}
	d, err := warranty.Decide(p, cal, in)
	return d, visitDate, err
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
	cal, ok, err := cached(rd, fieldsync.EntityCalendar, calendar.DefaultID, calendar.Parse)
	if err != nil || !ok {
		return calendar.Default(), err
	}
	return cal, nil
}
