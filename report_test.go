package fieldsync

import (
	"reflect"
	"testing"
	"time"
)

var reportT0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func reportIn(s ReportStatus) Report {
	r := Report{ID: "r1", VisitID: "v1", TemplateID: "tv-v1", Status: s, CreatedAt: reportT0, UpdatedAt: reportT0}
	if s == ReportSigned || s == ReportSealed {
		signed := reportT0.Add(time.Hour)
		r.SignedAt, r.UpdatedAt = &signed, signed
	}
	return r
}

func TestReportEditable(t *testing.T) {
	tests := []struct {
		name   string
		status ReportStatus
		code   string
	}{
		{"a draft is editable", ReportDraft, ""},
		{"a signed report refuses edits", ReportSigned, EReportSealed},
		{"a sealed report refuses edits", ReportSealed, EReportSealed},
		{"a report of unknown status refuses edits", "", EReportSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportIn(tt.status)
			checkErr(t, r.Editable(), tt.code, "")
		})
	}
}

func TestReportSign(t *testing.T) {
	now := reportT0.Add(2 * time.Hour)
	tests := []struct {
		name string
		from ReportStatus
		code string
	}{
		{"a draft signs", ReportDraft, ""},
		{"a signed report cannot be signed again", ReportSigned, EReportSealed},
		{"a sealed report cannot be signed", ReportSealed, EReportSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportIn(tt.from)
			before := r
			err := r.Sign(now)
			checkErr(t, err, tt.code, "")
			if err != nil {
				if !reflect.DeepEqual(r, before) {
					t.Fatalf("a refused Sign changed the report:\n got %+v\nwant %+v", r, before)
				}
				return
			}
			if r.Status != ReportSigned || r.SignedAt == nil || !r.SignedAt.Equal(now) || !r.UpdatedAt.Equal(now) {
				t.Fatalf("after Sign: %+v", r)
			}
			checkErr(t, r.Editable(), EReportSealed, "")
		})
	}
}

func TestReportSeal(t *testing.T) {
	now := reportT0.Add(3 * time.Hour)
	tests := []struct {
		name string
		from ReportStatus
		code string
	}{
		{"a signed report seals", ReportSigned, ""},
		{"a draft cannot be sealed", ReportDraft, EInvalidTransition},
		{"a sealed report cannot be sealed again", ReportSealed, EInvalidTransition},
		{"a report of unknown status cannot be sealed", "", EInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportIn(tt.from)
			before := r
			err := r.Seal(now)
			checkErr(t, err, tt.code, "")
			if err != nil {
				if !reflect.DeepEqual(r, before) {
					t.Fatalf("a refused Seal changed the report:\n got %+v\nwant %+v", r, before)
				}
				return
			}
			if r.Status != ReportSealed || !r.UpdatedAt.Equal(now) {
				t.Fatalf("after Seal: %+v", r)
			}
			if r.SignedAt != before.SignedAt || !r.SignedAt.Equal(reportT0.Add(time.Hour)) {
				t.Fatalf("Seal moved SignedAt to %v", r.SignedAt)
			}
			checkErr(t, r.Editable(), EReportSealed, "")
		})
	}
}

func TestReportLifecycle(t *testing.T) {
	r := reportIn(ReportDraft)
	t1, t2 := reportT0.Add(time.Hour), reportT0.Add(2*time.Hour)
	if err := r.Editable(); err != nil {
		t.Fatalf("a new draft: %v", err)
	}
	if err := r.Sign(t1); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	checkErr(t, r.Editable(), EReportSealed, "signed")
	checkErr(t, r.Sign(t2), EReportSealed, "")
	if err := r.Seal(t2); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	checkErr(t, r.Editable(), EReportSealed, "sealed")
	checkErr(t, r.Sign(t2), EReportSealed, "")
	checkErr(t, r.Seal(t2), EInvalidTransition, "")
	if r.Status != ReportSealed || !r.SignedAt.Equal(t1) || !r.UpdatedAt.Equal(t2) {
		t.Fatalf("after the lifecycle: %+v", r)
	}
}
