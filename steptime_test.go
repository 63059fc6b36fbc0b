package fieldsync

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestStepTime(t *testing.T) {
	received := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	created := received.Add(-6 * time.Hour)
	departed := received.Add(-2 * time.Hour)
	epoch := time.UnixMilli(1000).UTC()
	tests := []struct {
		name     string
		deviceAt time.Time
		floors   []*time.Time
		want     time.Time
		skewed   bool
	}{
		{"an offline step keeps the device's time", received.Add(-time.Hour), []*time.Time{&created, &departed}, received.Add(-time.Hour), false},
		{"a 1970 stamp is raised to the previous step, and flagged", epoch, []*time.Time{&created, &departed}, departed, true},
		{"a stamp before creation is raised to it", epoch, []*time.Time{&created, nil}, created, true},
		{"a step just before the previous one is raised, unflagged", departed.Add(-time.Minute), []*time.Time{&created, &departed}, departed, false},
		{"a stamp an hour fast is cut to five minutes past receipt, and flagged", received.Add(time.Hour), nil, received.Add(MaxClockSkew), true},
		{"a stamp four minutes fast is kept", received.Add(4 * time.Minute), nil, received.Add(4 * time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skewed := StepTime(tt.deviceAt, received, tt.floors...)
			if !got.Equal(tt.want) || skewed != tt.skewed {
				t.Fatalf("StepTime = %v, %v; want %v, %v", got, skewed, tt.want, tt.skewed)
			}
		})
	}
}

func TestVisitApplyAtKeepsStepsInOrder(t *testing.T) {
	created := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	received := created.Add(time.Hour)
	epoch := time.UnixMilli(5000).UTC()
	tests := []struct {
		name   string
		steps  []VisitAction
		at     []time.Time // device times, one per step
		field  func(*Visit) *time.Time
		want   time.Time
		skewed []string
	}{
		{"depart at 1970 is kept at the visit's creation", []VisitAction{ActionDepart}, []time.Time{epoch},
			func(v *Visit) *time.Time { return v.DepartedAt }, created, []string{"departed_at"}},
		{"arrive before departing is kept at the departure", []VisitAction{ActionDepart, ActionArrive}, []time.Time{created.Add(30 * time.Minute), epoch},
			func(v *Visit) *time.Time { return v.ArrivedAt }, created.Add(30 * time.Minute), []string{"arrived_at"}},
		{"complete before arriving is kept at the arrival", []VisitAction{ActionDepart, ActionArrive, ActionComplete}, []time.Time{created.Add(10 * time.Minute), created.Add(40 * time.Minute), created},
			func(v *Visit) *time.Time { return v.FinishedAt }, created.Add(40 * time.Minute), []string{"finished_at"}},
		{"a day fast is cut to five minutes past receipt", []VisitAction{ActionDepart}, []time.Time{received.Add(24 * time.Hour)},
			func(v *Visit) *time.Time { return v.DepartedAt }, received.Add(MaxClockSkew), []string{"departed_at"}},
		{"honest times pass unflagged", []VisitAction{ActionDepart, ActionArrive}, []time.Time{created.Add(10 * time.Minute), created.Add(40 * time.Minute)},
			func(v *Visit) *time.Time { return v.ArrivedAt }, created.Add(40 * time.Minute), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Visit{ID: "v1", Status: VisitScheduled, CreatedAt: created}
			for i, a := range tt.steps {
				if err := v.ApplyAt(a, tt.at[i], received, ""); err != nil {
					t.Fatalf("ApplyAt(%s): %v", a, err)
				}
			}
			if got := tt.field(&v); got == nil || !got.Equal(tt.want) {
				t.Fatalf("step at %v, want %v", got, tt.want)
			}
			var flagged []string
			for _, s := range v.ClockSkew {
				flagged = append(flagged, s.Field)
			}
			if fmt.Sprint(flagged) != fmt.Sprint(tt.skewed) {
				t.Fatalf("clock_skew %+v, want fields %v", v.ClockSkew, tt.skewed)
			}
			if len(v.Received) != len(tt.steps) {
				t.Fatalf("received %v, want one per step", v.Received)
			}
			for f, at := range v.Received {
				if !at.Equal(received) {
					t.Fatalf("received[%s] = %v, want %v", f, at, received)
				}
			}
		})
	}
}

func TestVisitApplyAtLeavesCopiesAlone(t *testing.T) {
	created := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	v := Visit{Status: VisitScheduled, CreatedAt: created}
	if err := v.ApplyAt(ActionDepart, time.UnixMilli(0), created, ""); err != nil {
		t.Fatal(err)
	}
	c := v
	if err := c.ApplyAt(ActionArrive, time.UnixMilli(0), created.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if len(v.Received) != 1 || len(v.ClockSkew) != 1 {
		t.Fatalf("the original changed with its copy: %+v %+v", v.Received, v.ClockSkew)
	}
	// A reassignment undoes the departure, and what was kept of it.
	if err := c.Assign("tech-b", created); err == nil {
		t.Fatal("an on-site visit was reassigned")
	}
	if err := v.Assign("tech-b", created); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Received["departed_at"]; ok || len(v.ClockSkew) != 0 {
		t.Fatalf("after reassignment: received %v, clock_skew %+v", v.Received, v.ClockSkew)
	}
}

func TestReportTimesAreBounded(t *testing.T) {
	visitCreated := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	arrived := visitCreated.Add(2 * time.Hour)
	received := visitCreated.Add(6 * time.Hour)
	v := &Visit{ID: "v1", CreatedAt: visitCreated, ArrivedAt: &arrived}
	tests := []struct {
		name             string
		createdAt, sign  time.Time
		wantCreated      time.Time
		wantSigned       time.Time
		createdSkew, sig bool
	}{
		{"offline times are kept", arrived.Add(time.Minute), arrived.Add(time.Hour), arrived.Add(time.Minute), arrived.Add(time.Hour), false, false},
		{"a 1970 signature is kept at the report's creation", arrived.Add(time.Minute), time.UnixMilli(0).UTC(), arrived.Add(time.Minute), arrived.Add(time.Minute), false, true},
		{"a 1970 report is created with the visit, signed at the arrival", time.UnixMilli(0).UTC(), time.UnixMilli(0).UTC(), visitCreated, arrived, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReport("r1", v, tt.createdAt, received)
			if !r.CreatedAt.Equal(tt.wantCreated) || skewOn(r.ClockSkew, "created_at") != tt.createdSkew {
				t.Fatalf("created %v (clock_skew %+v), want %v", r.CreatedAt, r.ClockSkew, tt.wantCreated)
			}
			if err := r.SignAt(tt.sign, received, v); err != nil {
				t.Fatal(err)
			}
			if !r.SignedAt.Equal(tt.wantSigned) || skewOn(r.ClockSkew, "signed_at") != tt.sig || !r.Received["signed_at"].Equal(received) {
				t.Fatalf("signed %v (clock_skew %+v, received %v), want %v", r.SignedAt, r.ClockSkew, r.Received, tt.wantSigned)
			}
		})
	}
}

func skewOn(skews []ClockSkew, field string) bool {
	for _, s := range skews {
		if s.Field == field {
			return true
		}
	}
	return false
}

func TestReportExtraIsBounded(t *testing.T) {
	always := func(string) bool { return true }
	never := func(string) bool { return false }
	fields := func(n, size int) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for i := range n {
			out[fmt.Sprintf("x_%02d", i)] = json.RawMessage(`"` + strings.Repeat("v", size) + `"`)
		}
		return out
	}
	full := Report{Status: ReportDraft, Extra: fields(MaxExtraFields, 1)}
	tests := []struct {
		name   string
		r      Report
		edit   map[string]json.RawMessage
		newer  func(string) bool
		wantOK bool
	}{
		{"32 unknown fields are kept", Report{Status: ReportDraft}, fields(MaxExtraFields, 1), always, true},
		{"a 33rd is refused", Report{Status: ReportDraft}, fields(MaxExtraFields+1, 1), always, false},
		{"16 KiB in all are kept", Report{Status: ReportDraft}, fields(1, MaxExtraBytes-len("x_00")-2), always, true},
		{"a byte more is refused", Report{Status: ReportDraft}, fields(1, MaxExtraBytes-len("x_00")-1), always, false},
		{"rewriting a kept field does not count twice", full, fields(1, 1), always, true},
		{"a new field on a full report is refused", full, map[string]json.RawMessage{"y": json.RawMessage(`1`)}, always, false},
		{"an older edit that sets nothing passes", full, map[string]json.RawMessage{"y": json.RawMessage(`1`)}, never, true},
		{"known fields pass on a full report", full, map[string]json.RawMessage{"findings": json.RawMessage(`"ok"`)}, always, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r.Clone()
			_, err := r.SetFields(tt.edit, nil, tt.newer)
			if tt.wantOK && err != nil || !tt.wantOK && ErrorCode(err) != EExtraTooLarge {
				t.Fatalf("SetFields: %v, want ok=%v", err, tt.wantOK)
			}
			if !tt.wantOK && len(r.Extra) != len(tt.r.Extra) {
				t.Fatalf("a refused edit changed extra: %d fields", len(r.Extra))
			}
		})
	}
}
