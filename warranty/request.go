package warranty

import (
	"github.com/fieldsync/fieldsync"
)

// Request is an Input in its JSON form, as POST /v1/warranty/decide takes
// it and as a tablet stores it: dates are "YYYY-MM-DD" strings, absent
// ones omitted.
type Request struct {
	Category        string          `json:"category"`
	InvoiceDate     string          `json:"invoice_date,omitempty"`
	ReceiptDate     string          `json:"receipt_date,omitempty"`
	ManufactureDate string          `json:"manufacture_date,omitempty"`
	VisitDate       string          `json:"visit_date"`
	Responsibility  string          `json:"responsibility"`
	FailedPart      string          `json:"failed_part"`
	Checks          Checks          `json:"checks"`
	Repairs         []RequestRepair `json:"repairs,omitempty"`
}

// RequestRepair is a Repair in its JSON form.
type RequestRepair struct {
	Date          string `json:"date"`
	UnderWarranty bool   `json:"under_warranty"`
}

// Input converts r. A date that is not YYYY-MM-DD is EInvalid naming its
// field (invoice_date, repairs[1].date); the rest is checked by Decide.
func (r Request) Input() (Input, error) {
	in := Input{
		Category:       Category(r.Category),
		Responsibility: fieldsync.Responsibility(r.Responsibility),
		FailedPart:     Part(r.FailedPart),
		Checks:         r.Checks,
	}
	for _, f := range []struct {
		name string
		s    string
		d    *Date
	}{
		{"invoice_date", r.InvoiceDate, &in.Invoice},
		{"receipt_date", r.ReceiptDate, &in.Receipt},
		{"manufacture_date", r.ManufactureDate, &in.Manufacture},
		{"visit_date", r.VisitDate, &in.Visit},
	} {
		d, err := ParseDate(f.s)
		if err != nil {
			return Input{}, fieldsync.Errorf(fieldsync.EInvalid, "%s: %v", f.name, err)
		}
		*f.d = d
	}
	for i, rr := range r.Repairs {
		d, err := ParseDate(rr.Date)
		if err != nil {
			return Input{}, fieldsync.Errorf(fieldsync.EInvalid, "repairs[%d].date: %v", i, err)
		}
		in.Repairs = append(in.Repairs, Repair{Date: d, UnderWarranty: rr.UnderWarranty})
	}
	return in, nil
}
