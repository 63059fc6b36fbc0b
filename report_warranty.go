package fieldsync

import (
	"bytes"
	"encoding/json"
	"time"
)

// ReportWarranty is the warranty decision a device made for a report (see
// package warranty): the technician's question, the day decided for and
// the decision with its explanation. It is kept as the device sent it and
// signed with the report; the typed work is the warranty package's.
type ReportWarranty struct {
	// Question is {failed_part, checks, repairs}: what the technician
	// found on site.
	Question json.RawMessage `json:"question"`
	// VisitDate is the day decided for, YYYY-MM-DD in China time.
	VisitDate string `json:"visit_date"`
	// Decision is a warranty.Decision: outcome, options, deductions and
	// explanation.
	Decision json.RawMessage `json:"decision"`
}

// WarrantyCheck is the server's re-computation of a device's warranty
// decision, kept beside it when they disagree: the server's decision, or
// why the server could not decide.
type WarrantyCheck struct {
	Decision json.RawMessage `json:"decision,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// MaxWarrantyBytes bounds the warranty field of an edit: a decision's
// explanation is a few short lines.
const MaxWarrantyBytes = 16 << 10

// ParseReportWarranty reads the warranty field of an edit and checks its
// shape: question with a failed_part, a checks object and an optional
// list of repairs; visit_date a date; decision with an outcome, its
// options and an explanation. EInvalid names what is wrong.
func ParseReportWarranty(raw json.RawMessage) (ReportWarranty, error) {
	var w ReportWarranty
	if len(raw) > MaxWarrantyBytes {
		return w, Errorf(EInvalid, "warranty: at most %d bytes", MaxWarrantyBytes)
	}
	if strict(raw, &w) != nil || w.Question == nil || w.Decision == nil {
		return w, Errorf(EInvalid, "warranty must be an object {question, visit_date, decision}")
	}
	var q struct {
		FailedPart string                       `json:"failed_part"`
		Checks     map[string]json.RawMessage   `json:"checks"`
		Repairs    []map[string]json.RawMessage `json:"repairs"`
	}
	if strict(w.Question, &q) != nil || q.FailedPart == "" || q.Checks == nil {
		return w, Errorf(EInvalid, "warranty.question must be {failed_part, checks, repairs}, with failed_part and checks set")
	}
	if d, err := time.Parse(time.DateOnly, w.VisitDate); err != nil || d.Format(time.DateOnly) != w.VisitDate {
		return w, Errorf(EInvalid, "warranty.visit_date must be a date, YYYY-MM-DD")
	}
	var d struct {
		Outcome     string                       `json:"outcome"`
		Options     []string                     `json:"options"`
		Deductions  []string                     `json:"deductions"`
		Explanation []map[string]json.RawMessage `json:"explanation"`
	}
	if strict(w.Decision, &d) != nil || d.Outcome == "" || len(d.Options) == 0 || len(d.Explanation) == 0 {
		return w, Errorf(EInvalid, "warranty.decision must be {outcome, options, deductions, explanation}, with an outcome, its options and an explanation")
	}
	return w, nil
}

// SameWarrantyDecision reports whether two decisions (warranty.Decision
// as JSON) recommend the same outcome with the same options: the server's
// re-computation agrees with the device's when this holds, whatever the
// wording of their explanations.
func SameWarrantyDecision(a, b json.RawMessage) bool {
	type key struct {
		Outcome string   `json:"outcome"`
		Options []string `json:"options"`
	}
	var ka, kb key
	if json.Unmarshal(a, &ka) != nil || json.Unmarshal(b, &kb) != nil {
		return false
	}
	if ka.Outcome != kb.Outcome || len(ka.Options) != len(kb.Options) {
		return false
	}
	for i := range ka.Options {
		if ka.Options[i] != kb.Options[i] {
			return false
		}
	}
	return true
}

// strict decodes raw into v, refusing members v does not name and
// anything after the value.
func strict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return Errorf(EInvalid, "trailing data")
	}
	return nil
}
