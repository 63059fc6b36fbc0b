package fieldsync

import (
	"encoding/json"
	"time"
)

// Responsibility is who the appraisal holds responsible for the fault;
// it drives the warranty decision.
type Responsibility string

const (
	ResponsibilityQuality        Responsibility = "quality"         // a defect of the product
	ResponsibilityCustomerDamage Responsibility = "customer_damage" // misuse, drops, liquid
	ResponsibilityTransport      Responsibility = "transport"       // damaged on the way
	ResponsibilityUnknown        Responsibility = "unknown"
)

// Responsibilities lists every value.
var Responsibilities = []Responsibility{ResponsibilityQuality, ResponsibilityCustomerDamage, ResponsibilityTransport, ResponsibilityUnknown}

// ReportStatus: draft → signed → sealed. A signed report is immutable;
// corrections are addenda.
type ReportStatus string

const (
	ReportDraft  ReportStatus = "draft"
	ReportSigned ReportStatus = "signed"
	ReportSealed ReportStatus = "sealed"
)

// Report is the inspection / appraisal report (鉴定单) of a visit.
type Report struct {
	ID             string         `json:"id"`
	VisitID        string         `json:"visit_id"`
	TemplateID     string         `json:"template_id"`
	Answers        Answers        `json:"answers"` // checklist item id -> value
	Findings       string         `json:"findings,omitempty"`
	Cause          string         `json:"cause,omitempty"`
	Responsibility Responsibility `json:"responsibility,omitempty"`
	RequiredSlots  []string       `json:"required_slots,omitempty"` // photo slots the template asks for
	Status         ReportStatus   `json:"status"`
	SignedAt       *time.Time     `json:"signed_at,omitempty"`
	SignedBy       string         `json:"signed_by,omitempty"` // the technician whose device signed
	// Clocks holds, per field ("findings", "answers.<item>"…), the hybrid
	// logical clock of the edit that set it: drafts merge field by field.
	Clocks map[string]string `json:"clocks,omitempty"`
	// Extra keeps fields this server does not know, sent by newer clients.
	Extra     map[string]json.RawMessage `json:"extra,omitempty"`
	CreatedAt time.Time                  `json:"created_at"`
	UpdatedAt time.Time                  `json:"updated_at"`
}

// Editable returns EReportSealed unless the report is a draft.
func (r *Report) Editable() error {
	if r.Status != ReportDraft {
		return Errorf(EReportSealed, "report %s is %s and cannot change; add an addendum", r.ID, r.Status)
	}
	return nil
}

// Sign moves a draft to signed. EReportSealed if it is not a draft.
func (r *Report) Sign(now time.Time) error {
	if err := r.Editable(); err != nil {
		return err
	}
	r.Status, r.SignedAt, r.UpdatedAt = ReportSigned, &now, now
	return nil
}

// Seal moves a signed report to sealed (the server's seal is on it).
func (r *Report) Seal(now time.Time) error {
	if r.Status != ReportSigned {
		return Errorf(EInvalidTransition, "only a signed report can be sealed, not a %s one", r.Status)
	}
	r.Status, r.UpdatedAt = ReportSealed, now
	return nil
}
