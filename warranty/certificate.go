package warranty

import (
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// LastDay returns the last day period p covers from date from, the date
// itself not counted: what Decide counts as within p (Days: from + n;
// Months and Years: the same day n months on, or that month's last day;
// Workdays: the day before the (n+1)-th working day after from on cal,
// nil meaning calendar.Default(), so the days off after the n-th count).
func (p Period) LastDay(cal *calendar.Calendar, from Date) Date {
	switch p.Unit {
	case Days:
		return from.AddDays(p.Amount)
	case Months:
		return from.AddMonths(p.Amount)
	case Years:
		return from.AddMonths(12 * p.Amount)
	}
	if cal == nil {
		cal = calendar.Default()
	}
	day := from
	for n := 0; n <= p.Amount; {
		day = day.AddDays(1)
		if cal.IsWorkday(time.Date(day.t.Year(), day.t.Month(), day.t.Day(), 12, 0, 0, 0, calendar.Location())) {
			n++
		}
	}
	return day.AddDays(-1)
}

// Certify issues the warranty certificates of work order w: one per part
// it repaired, from the day it was completed in China time, for policy
// p's repair warranty, under warranty when its outcome was a free remedy.
func Certify(p Policy, cal *calendar.Calendar, w *fieldsync.WorkOrder) []fieldsync.Certificate {
	t := w.CompletedAt.In(calendar.Location())
	on := NewDate(t.Year(), t.Month(), t.Day())
	rw := p.RepairWarranty
	certs := make([]fieldsync.Certificate, 0, len(w.Work))
	for _, part := range w.RepairedParts() {
		certs = append(certs, fieldsync.Certificate{
			ID: fieldsync.CertificateID(w.ID, part), AssetID: w.AssetID, CustomerID: w.CustomerID, Part: part,
			RepairedOn: on.String(), Period: fieldsync.Period{Amount: rw.Amount, Unit: string(rw.Unit)},
			ExpiresOn: rw.LastDay(cal, on).String(), UnderWarranty: w.FreeRemedy(), WorkOrderID: w.ID, VisitID: w.VisitID,
		})
	}
	return certs
}

// CertifiedRepairs are the earlier repairs of part that certificates
// attest for a decision on visitDate (YYYY-MM-DD) of visit visitID: those
// of that part repaired on or before the day, not by the visit itself (a
// repair is not its own earlier repair).
func CertifiedRepairs(certs []fieldsync.Certificate, part Part, visitID, visitDate string) []RequestRepair {
	var out []RequestRepair
	for _, c := range certs {
		if c.Part == string(part) && c.VisitID != visitID && c.RepairedOn <= visitDate {
			out = append(out, RequestRepair{Date: c.RepairedOn, UnderWarranty: c.UnderWarranty})
		}
	}
	return out
}

// WithCertificates is q with the repairs certs attest added to those the
// technician stated, for a decision on visitDate of visit visitID.
func (q Question) WithCertificates(certs []fieldsync.Certificate, visitID, visitDate string) Question {
	q.Repairs = append(append([]RequestRepair(nil), q.Repairs...), CertifiedRepairs(certs, q.FailedPart, visitID, visitDate)...)
	return q
}
