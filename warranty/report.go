package warranty

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// Question is what the technician finds on site, beyond what the records
// hold, as a report keeps it (fieldsync.ReportWarranty's question): the
// part that failed, the condition checks and the earlier repairs of that
// part.
type Question struct {
	FailedPart Part            `json:"failed_part"`
	Checks     Checks          `json:"checks"`
	Repairs    []RequestRepair `json:"repairs,omitempty"`
}

// ForReport is the request that decides q for a report with
// responsibility resp about asset a, on visitDate (YYYY-MM-DD): what the
// tablet decides offline and the server decides again on push.
func ForReport(a *fieldsync.Asset, resp fieldsync.Responsibility, visitDate string, q Question) Request {
	return Request{
		Category: string(a.Category), InvoiceDate: a.InvoiceDate, ReceiptDate: a.ReceiptDate, ManufactureDate: a.ManufactureDate,
		VisitDate: visitDate, Responsibility: string(resp), FailedPart: string(q.FailedPart), Checks: q.Checks, Repairs: q.Repairs,
	}
}

// Recheck decides again, with policy p and calendar cal, the warranty a
// device decided for report r about asset a: r.Warranty's question and
// day, r's responsibility, and the earlier repairs the asset's
// certificates attest (Question.WithCertificates). EInvalid says why it
// cannot (a question or asset the policy does not take).
func Recheck(p Policy, cal *calendar.Calendar, r *fieldsync.Report, a *fieldsync.Asset, certs []fieldsync.Certificate) (Decision, error) {
	var q Question
	if r.Warranty == nil || json.Unmarshal(r.Warranty.Question, &q) != nil {
		return Decision{}, fieldsync.Errorf(fieldsync.EInvalid, "report %s has no warranty question", r.ID)
	}
	q = q.WithCertificates(certs, r.VisitID, r.Warranty.VisitDate)
	in, err := ForReport(a, r.Responsibility, r.Warranty.VisitDate, q).Input()
	if err != nil {
		return Decision{}, err
	}
	return Decide(p, cal, in)
}
