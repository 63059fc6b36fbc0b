package fieldsync_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/sla"
)

var cst = time.FixedZone("CST", 8*3600)

func completedVisit(at time.Time) (*fieldsync.Visit, *fieldsync.Ticket) {
	t := &fieldsync.Ticket{ID: "t1", CustomerID: "c1"}
	return &fieldsync.Visit{ID: "v1", TicketID: "t1", Status: fieldsync.VisitCompleted, FinishedAt: &at}, t
}

// The follow-up clock is the SLA policy's rule on the business calendar:
// 3 working days after the completion's date, ending at 24:00.
func TestFollowUpDueOnTheBusinessCalendar(t *testing.T) {
	policy := sla.DefaultPolicy()
	for _, tt := range []struct {
		name      string
		completed time.Time
		due       time.Time
	}{
		{"a Tuesday completion is due at the end of Friday", time.Date(2026, 3, 10, 15, 0, 0, 0, cst), time.Date(2026, 3, 14, 0, 0, 0, 0, cst)},
		{"a Friday completion skips the weekend: due at the end of Wednesday", time.Date(2026, 3, 13, 17, 0, 0, 0, cst), time.Date(2026, 3, 19, 0, 0, 0, 0, cst)},
		{"Labour Day (May 1-5) is skipped: a completion on Apr 30 is due at the end of Fri May 8", time.Date(2026, 4, 30, 15, 0, 0, 0, cst), time.Date(2026, 5, 9, 0, 0, 0, 0, cst)},
		{"the make-up Saturday May 9 counts: a completion on May 6 is due at the end of May 9", time.Date(2026, 5, 6, 10, 0, 0, 0, cst), time.Date(2026, 5, 10, 0, 0, 0, 0, cst)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := policy.FollowUpDue(calendar.Default(), tt.completed)
			if err != nil {
				t.Fatal(err)
			}
			v, tk := completedVisit(tt.completed)
			f, err := fieldsync.NewFollowUp("f1", v, tk, d.Due, d.Warning, tt.completed)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Due.Equal(tt.due) || f.Status != fieldsync.FollowUpPending || f.CustomerID != "c1" || !f.CompletedAt.Equal(tt.completed) {
				t.Fatalf("follow-up %+v, want due %s", f, tt.due)
			}
			if f.Overdue(tt.due) || !f.Overdue(tt.due.Add(time.Second)) {
				t.Fatalf("overdue: at due %v, a second later %v", f.Overdue(tt.due), f.Overdue(tt.due.Add(time.Second)))
			}
		})
	}
}

func TestNewFollowUpNeedsACompletedVisit(t *testing.T) {
	at := time.Date(2026, 3, 10, 15, 0, 0, 0, cst)
	for _, tt := range []struct {
		name   string
		change func(*fieldsync.Visit, *fieldsync.Ticket)
		due    time.Time
	}{
		{"a visit that needs a second visit gets none", func(v *fieldsync.Visit, _ *fieldsync.Ticket) { v.Status = fieldsync.VisitNeedsSecondVisit }, at},
		{"a cancelled visit gets none", func(v *fieldsync.Visit, _ *fieldsync.Ticket) { v.Status = fieldsync.VisitCancelled }, at},
		{"a completion without its time", func(v *fieldsync.Visit, _ *fieldsync.Ticket) { v.FinishedAt = nil }, at},
		{"a visit of another ticket", func(_ *fieldsync.Visit, t *fieldsync.Ticket) { t.ID = "t2" }, at},
		{"no due time", func(*fieldsync.Visit, *fieldsync.Ticket) {}, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, tk := completedVisit(at)
			tt.change(v, tk)
			if _, err := fieldsync.NewFollowUp("f1", v, tk, tt.due, "", at); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
				t.Fatalf("err %v, want invalid", err)
			}
		})
	}
}

func TestFollowUpAnswerValidation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		a     fieldsync.FollowUpAnswer
		field string // "" when valid
	}{
		{"score 1 is the lowest", fieldsync.FollowUpAnswer{Score: 1}, ""},
		{"score 5 with a comment", fieldsync.FollowUpAnswer{Score: 5, Comment: "师傅很专业\n谢谢"}, ""},
		{"score 0 is outside 1..5", fieldsync.FollowUpAnswer{Score: 0}, "score"},
		{"score 6 is outside 1..5", fieldsync.FollowUpAnswer{Score: 6}, "score"},
		{"a comment at the bound", fieldsync.FollowUpAnswer{Score: 3, Comment: strings.Repeat("好", fieldsync.MaxFollowUpComment/3)}, ""},
		{"a comment over the bound", fieldsync.FollowUpAnswer{Score: 3, Comment: strings.Repeat("a", fieldsync.MaxFollowUpComment+1)}, "comment"},
		{"a comment that is not UTF-8", fieldsync.FollowUpAnswer{Score: 3, Comment: "ok\xff"}, "comment"},
		{"a comment with a control character", fieldsync.FollowUpAnswer{Score: 3, Comment: "ok\x00"}, "comment"},
		{"via phone", fieldsync.FollowUpAnswer{Score: 4, Via: "phone"}, ""},
		{"an unknown via", fieldsync.FollowUpAnswer{Score: 4, Via: "email"}, "via"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.HasPrefix(fieldsync.ErrorDetail(err), tt.field) {
				t.Fatalf("err %v, want invalid naming %s", err, tt.field)
			}
		})
	}
}

func TestFollowUpTransitions(t *testing.T) {
	at := time.Date(2026, 3, 10, 15, 0, 0, 0, cst)
	now := at.Add(time.Hour)
	customer := fieldsync.Viewer{UserID: "u-cust", Role: fieldsync.RoleCustomer, CustomerIDs: []string{"c1"}}
	other := fieldsync.Viewer{UserID: "u-other", Role: fieldsync.RoleCustomer, CustomerIDs: []string{"c2"}}
	disp := fieldsync.Viewer{UserID: "u-disp", Role: fieldsync.RoleDispatcher}
	tech := fieldsync.Viewer{UserID: "u-tech", Role: fieldsync.RoleTechnician}
	answer := func(v fieldsync.Viewer, a fieldsync.FollowUpAnswer) func(*fieldsync.FollowUp) error {
		return func(f *fieldsync.FollowUp) error { return f.Answer(v, a, now) }
	}
	closeBy := func(v fieldsync.Viewer) func(*fieldsync.FollowUp) error {
		return func(f *fieldsync.FollowUp) error { return f.Close(v, now) }
	}
	for _, tt := range []struct {
		name  string
		from  fieldsync.FollowUpStatus
		do    func(*fieldsync.FollowUp) error
		code  string
		to    fieldsync.FollowUpStatus
		by    string
		score int
	}{
		{"the customer answers a pending follow-up", fieldsync.FollowUpPending, answer(customer, fieldsync.FollowUpAnswer{Score: 5, Comment: "好"}), "", fieldsync.FollowUpAnswered, "u-cust", 5},
		{"staff record a phone answer", fieldsync.FollowUpPending, answer(disp, fieldsync.FollowUpAnswer{Score: 2, Via: "phone"}), "", fieldsync.FollowUpRecordedByPhone, "u-disp", 2},
		{"staff close it unanswered", fieldsync.FollowUpPending, closeBy(disp), "", fieldsync.FollowUpClosedUnanswered, "u-disp", 0},
		{"staff answer only as a phone record", fieldsync.FollowUpPending, answer(disp, fieldsync.FollowUpAnswer{Score: 2}), fieldsync.EInvalid, fieldsync.FollowUpPending, "", 0},
		{"a customer does not record a call", fieldsync.FollowUpPending, answer(customer, fieldsync.FollowUpAnswer{Score: 2, Via: "phone"}), fieldsync.EInvalid, fieldsync.FollowUpPending, "", 0},
		{"another customer may not answer", fieldsync.FollowUpPending, answer(other, fieldsync.FollowUpAnswer{Score: 1}), fieldsync.EForbidden, fieldsync.FollowUpPending, "", 0},
		{"a technician may not answer", fieldsync.FollowUpPending, answer(tech, fieldsync.FollowUpAnswer{Score: 5, Via: "phone"}), fieldsync.EForbidden, fieldsync.FollowUpPending, "", 0},
		{"a customer may not close", fieldsync.FollowUpPending, closeBy(customer), fieldsync.EForbidden, fieldsync.FollowUpPending, "", 0},
		{"an answered follow-up is not answered again", fieldsync.FollowUpAnswered, answer(customer, fieldsync.FollowUpAnswer{Score: 1}), fieldsync.EConflict, fieldsync.FollowUpAnswered, "u-first", 4},
		{"a phone answer is not overwritten", fieldsync.FollowUpRecordedByPhone, answer(customer, fieldsync.FollowUpAnswer{Score: 1}), fieldsync.EConflict, fieldsync.FollowUpRecordedByPhone, "u-first", 4},
		{"an answered follow-up is not closed", fieldsync.FollowUpAnswered, closeBy(disp), fieldsync.EConflict, fieldsync.FollowUpAnswered, "u-first", 4},
		{"a closed follow-up is not answered", fieldsync.FollowUpClosedUnanswered, answer(customer, fieldsync.FollowUpAnswer{Score: 1}), fieldsync.EConflict, fieldsync.FollowUpClosedUnanswered, "u-first", 0},
		{"a bad score is refused before anything else", fieldsync.FollowUpAnswered, answer(customer, fieldsync.FollowUpAnswer{Score: 9}), fieldsync.EInvalid, fieldsync.FollowUpAnswered, "u-first", 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, tk := completedVisit(at)
			f, err := fieldsync.NewFollowUp("f1", v, tk, at.Add(72*time.Hour), "", at)
			if err != nil {
				t.Fatal(err)
			}
			if tt.from != fieldsync.FollowUpPending {
				first := at.Add(time.Minute)
				f.Status, f.AnsweredAt, f.AnsweredBy = tt.from, &first, "u-first"
				if tt.from != fieldsync.FollowUpClosedUnanswered {
					f.Score = 4
				}
			}
			err = tt.do(f)
			if fieldsync.ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("err %v, want %q", err, tt.code)
			}
			if tt.code == fieldsync.EConflict && !strings.Contains(fieldsync.ErrorDetail(err), "u-first") {
				t.Fatalf("the conflict does not name the first answer: %v", err)
			}
			if f.Status != tt.to || f.AnsweredBy != tt.by || f.Score != tt.score {
				t.Fatalf("after: %s by %q score %d, want %s by %q score %d", f.Status, f.AnsweredBy, f.Score, tt.to, tt.by, tt.score)
			}
		})
	}
}

func TestParseFollowUpStatus(t *testing.T) {
	for _, s := range fieldsync.FollowUpStatuses {
		if got, err := fieldsync.ParseFollowUpStatus(string(s)); err != nil || got != s {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := fieldsync.ParseFollowUpStatus("done"); fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.HasPrefix(fieldsync.ErrorDetail(err), "status") {
		t.Fatalf("unknown status: %v", err)
	}
}
