package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseSecondVisit(t *testing.T) {
	known := func(code string) bool { return code == "tv-psu" || code == "tv-remote" }
	tests := []struct {
		name   string
		fields string
		want   string // the parts and note as JSON, or the error's detail fragment
		bad    bool
	}{
		{"no fields asks for no parts", `{}`, `{"parts":[]}`, false},
		{"parts and a note", `{"parts":[{"code":"tv-psu","qty":2},{"code":"tv-remote","qty":1}],"note":" bring a ladder "}`, `{"parts":[{"code":"tv-psu","qty":2},{"code":"tv-remote","qty":1}],"note":"bring a ladder"}`, false},
		{"an unknown code is named", `{"parts":[{"code":"tv-psu","qty":1},{"code":"tv-laser","qty":1}]}`, `parts[1].code: "tv-laser" is not a part of the price list`, true},
		{"a code twice", `{"parts":[{"code":"tv-psu","qty":1},{"code":"tv-psu","qty":1}]}`, `parts[1].code: "tv-psu" is listed twice`, true},
		{"no code", `{"parts":[{"qty":1}]}`, `parts[0].code is required`, true},
		{"no qty", `{"parts":[{"code":"tv-psu"}]}`, `parts[0].qty: 0 is outside 1..999`, true},
		{"too many", `{"parts":[{"code":"tv-psu","qty":1000}]}`, `parts[0].qty: 1000`, true},
		{"an unknown field", `{"reason":"x"}`, `takes parts and note, not "reason"`, true},
		{"parts of the wrong type", `{"parts":"tv-psu"}`, `parts:`, true},
		{"a note too long", `{"note":"` + strings.Repeat("x", MaxLongText+1) + `"}`, `note`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.fields), &fields); err != nil {
				t.Fatal(err)
			}
			sv, err := ParseSecondVisit(fields, known)
			if tt.bad {
				if ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), tt.want) {
					t.Fatalf("err = %v, want invalid naming %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(sv); string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	// Without a price list (the tablet before a pull), codes are the server's to check.
	if _, err := ParseSecondVisit(map[string]json.RawMessage{"parts": json.RawMessage(`[{"code":"any","qty":1}]`)}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSecondVisitRequest(t *testing.T) {
	finished := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	asked := Visit{ID: "v1", TicketID: "t1", Status: VisitNeedsSecondVisit, FinishedAt: &finished}
	due := finished.Add(5 * 24 * time.Hour)
	tests := []struct {
		name   string
		ticket []Visit
		now    time.Time
		want   SecondVisitState
		booked string
	}{
		{"nothing booked, the promise ahead", []Visit{asked}, due, SecondVisitToBook, ""},
		{"nothing booked, the promise passed", []Visit{asked}, due.Add(time.Second), SecondVisitOverdue, ""},
		{"a visit names it", []Visit{asked, {ID: "v2", PreviousVisitID: "v1", Status: VisitScheduled}}, due.Add(time.Hour), SecondVisitBooked, "v2"},
		{"the booked visit was cancelled", []Visit{asked, {ID: "v2", PreviousVisitID: "v1", Status: VisitCancelled}}, due, SecondVisitToBook, ""},
		{"booked again after a cancellation", []Visit{asked, {ID: "v2", PreviousVisitID: "v1", Status: VisitCancelled}, {ID: "v3", PreviousVisitID: "v1", Status: VisitCompleted}}, due, SecondVisitBooked, "v3"},
		{"a later visit of another request", []Visit{asked, {ID: "v2", PreviousVisitID: "v0", Status: VisitScheduled}}, due, SecondVisitToBook, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewSecondVisitRequest(asked, BookedFor(&asked, tt.ticket), testPromises{}, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if r.State != tt.want || r.BookedVisitID != tt.booked || !r.Due.Equal(due) || r.Due.Location() != time.UTC || r.DueWarning == "" {
				t.Fatalf("got %+v, want %s booked %q due %v", r, tt.want, tt.booked, due)
			}
		})
	}
	if _, err := NewSecondVisitRequest(Visit{ID: "v9", Status: VisitCompleted}, "", testPromises{}, due); ErrorCode(err) != EInvalid {
		t.Fatalf("a completed visit: %v", err)
	}
	if _, err := ParseSecondVisitState("late"); ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), "to_book, booked or overdue") {
		t.Fatalf("an unknown state: %v", err)
	}
}
