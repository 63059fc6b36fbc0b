package fieldsync

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WorkParts are the part kinds a repair is recorded against: the warranty
// package's parts (warranty.Parts), by the same names, so a repaired
// part's certificate is honoured when that part fails again.
var WorkParts = []string{"unit", "major", "battery", "earphones", "charger", "cable"}

// WorkLine is one line of the work a technician did (the report's work
// field): the part kind repaired or replaced, the price-list part code
// when there is one, how many, and a note.
type WorkLine struct {
	Part string `json:"part"`
	Code string `json:"code,omitempty"`
	Qty  int    `json:"qty"`
	Note string `json:"note,omitempty"`
}

// Bounds of a report's work.
const (
	MaxWorkLines = 32
	MaxWorkQty   = 99
)

// workCode is a price-list part code: letters, digits, '-', '_' and '.'.
var workCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// ParseReportWork reads the work field of an edit: a list of at most
// MaxWorkLines {part, code, qty, note}, part one of WorkParts, qty
// 1..MaxWorkQty, code a part code (optional), note short text (optional).
// The empty list records no work. EInvalid names the line and what is
// wrong.
func ParseReportWork(raw json.RawMessage) ([]WorkLine, error) {
	var lines []WorkLine
	if strict(raw, &lines) != nil || lines == nil {
		return nil, Errorf(EInvalid, "work must be a list of {part, code, qty, note}")
	}
	if len(lines) > MaxWorkLines {
		return nil, Errorf(EInvalid, "work: at most %d lines, not %d", MaxWorkLines, len(lines))
	}
	for i, l := range lines {
		switch {
		case !oneOf(l.Part, WorkParts):
			return nil, Errorf(EInvalid, "work[%d].part: unknown part %q (valid: %s)", i, l.Part, strings.Join(WorkParts, ", "))
		case l.Code != "" && !workCode.MatchString(l.Code):
			return nil, Errorf(EInvalid, "work[%d].code: %q is not a part code (letters, digits, '.', '-', '_'; at most 32)", i, l.Code)
		case l.Qty < 1 || l.Qty > MaxWorkQty:
			return nil, Errorf(EInvalid, "work[%d].qty: %d is outside 1..%d", i, l.Qty, MaxWorkQty)
		}
		if err := optionalText("work["+strconv.Itoa(i)+"].note", l.Note, MaxShortText); err != nil {
			return nil, err
		}
	}
	return lines, nil
}

// WorkOrder (维修工单) is the record of a completed repair: made by the
// store when a visit whose report records work completes, once per visit.
type WorkOrder struct {
	ID         string `json:"id"`
	TicketID   string `json:"ticket_id"`
	VisitID    string `json:"visit_id"`
	CustomerID string `json:"customer_id"`
	AssetID    string `json:"asset_id"`
	ReportID   string `json:"report_id"`
	SlipNo     string `json:"slip_no,omitempty"`
	// Outcome is the warranty decision's outcome in the report
	// (free_repair, paid_repair …), absent when it has none.
	Outcome     string     `json:"outcome,omitempty"`
	Work        []WorkLine `json:"work"`
	CompletedAt time.Time  `json:"completed_at"`
}

// FreeRemedy reports whether the work order's outcome is a remedy the
// warranty pays: a return, an exchange or a free repair.
func (w *WorkOrder) FreeRemedy() bool {
	return w.Outcome == "return" || w.Outcome == "exchange" || w.Outcome == "free_repair"
}

// NewWorkOrder makes the work order of visit v, completed, on ticket t,
// from report r; nil when r records no work.
func NewWorkOrder(id string, v *Visit, t *Ticket, r *Report) *WorkOrder {
	if r == nil || len(r.Work) == 0 || v.FinishedAt == nil {
		return nil
	}
	w := &WorkOrder{
		ID: id, TicketID: t.ID, VisitID: v.ID, CustomerID: t.CustomerID, AssetID: t.AssetID, ReportID: r.ID, SlipNo: r.SlipNo,
		Work: append([]WorkLine(nil), r.Work...), CompletedAt: v.FinishedAt.UTC(),
	}
	if r.Warranty != nil {
		var d struct {
			Outcome string `json:"outcome"`
		}
		if json.Unmarshal(r.Warranty.Decision, &d) == nil {
			w.Outcome = d.Outcome
		}
	}
	return w
}

// RepairedParts lists the parts w repaired, each once, in the order of
// its lines.
func (w *WorkOrder) RepairedParts() []string {
	var parts []string
	for _, l := range w.Work {
		if !oneOf(l.Part, parts) {
			parts = append(parts, l.Part)
		}
	}
	return parts
}

// Certificate (质保凭证) is the warranty of one repaired part: from the day
// of the repair (China time) for the policy's repair warranty, through
// ExpiresOn inclusive. The warranty decision counts it as an earlier
// repair of that part of the asset.
type Certificate struct {
	ID            string `json:"id"` // <work order id>:<part>
	AssetID       string `json:"asset_id"`
	CustomerID    string `json:"customer_id"`
	Part          string `json:"part"`
	RepairedOn    string `json:"repaired_on"` // YYYY-MM-DD
	Period        Period `json:"period"`
	ExpiresOn     string `json:"expires_on"` // YYYY-MM-DD, the last day covered
	UnderWarranty bool   `json:"under_warranty"`
	WorkOrderID   string `json:"work_order_id"`
	VisitID       string `json:"visit_id"`
}

// Period is a length of time as policies state it: an amount of days,
// workdays, months or years (warranty.Period).
type Period struct {
	Amount int    `json:"amount"`
	Unit   string `json:"unit"`
}

// CertificateID names the certificate of part in work order w.
func CertificateID(workOrderID, part string) string { return workOrderID + ":" + part }

// WorkOrderFilter selects work orders to list, a page at a time.
type WorkOrderFilter struct {
	TicketID string
	AssetID  string
	Cursor   string
	Limit    int
}

// SeesCustomerRecord reports whether v may read a work order or a
// certificate of customer customerID: staff read every one, a customer
// login those of its own customer records, nobody else any. An unseen
// record is answered as one that does not exist.
func (v Viewer) SeesCustomerRecord(customerID string) bool {
	switch v.Role {
	case RoleAdmin, RoleDispatcher:
		return true
	case RoleCustomer:
		return oneOf(customerID, v.CustomerIDs)
	}
	return false
}
