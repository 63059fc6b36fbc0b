package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const warn2027 = "no holiday calendar loaded for 2027; counted weekends only"

type deadlineCase struct {
	name  string
	start string // "2006-01-02 15:04" China time
	n     int
	due   string // "2006-01-02 15:04" China time
	warn  string
}

func runDeadlines(t *testing.T, c *Calendar, f func(*Calendar, time.Time, int) (Deadline, error), tests []deadlineCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f(c, at(t, tt.start), tt.n)
			if err != nil {
				t.Fatal(err)
			}
			want := at(t, tt.due)
			if !got.Due.Equal(want) {
				t.Errorf("Due = %s, want %s", got.Due.Format("Mon 2006-01-02 15:04 MST"), want.Format("Mon 2006-01-02 15:04 MST"))
			}
			if got.Due.Location() != cst {
				t.Errorf("Due is in %s, want China time", got.Due.Location())
			}
			if got.Warning != tt.warn {
				t.Errorf("Warning = %q, want %q", got.Warning, tt.warn)
			}
		})
	}
}

func TestAddHours(t *testing.T) {
	runDeadlines(t, Default(), (*Calendar).AddHours, []deadlineCase{
		{"first contact: 24 clock hours on ordinary days", "2026-03-03 10:00", 24, "2026-03-04 10:00", ""},
		{"clock hours run through weekends", "2026-03-06 18:00", 24, "2026-03-07 18:00", ""},
		{"clock hours run through holidays", "2026-09-30 20:00", 24, "2026-10-01 20:00", ""},
		{"clock hours never warn, even into an uncovered year", "2026-12-31 20:00", 72, "2027-01-03 20:00", ""},
		{"zero hours is the start", "2026-03-03 10:00", 0, "2026-03-03 10:00", ""},
	})

	t.Run("a start in another zone is returned in China time", func(t *testing.T) {
		d, err := Default().AddHours(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC), 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Due.Format("2006-01-02 15:04 MST"); got != "2026-03-03 11:00 CST" {
			t.Errorf("Due = %s, want 2026-03-03 11:00 CST", got)
		}
	})
}

func TestAddBusinessHours(t *testing.T) {
	runDeadlines(t, Default(), (*Calendar).AddBusinessHours, []deadlineCase{
		{"on a working weekday, 24 business hours is the same time next day", "2026-03-03 10:00", 24, "2026-03-04 10:00", ""},
		{"the weekend is skipped: Friday 18:00 + 24h is Monday 18:00", "2026-01-30 18:00", 24, "2026-02-02 18:00", ""},
		{"the weekend is skipped: Friday 18:00 + 48h is Tuesday 18:00", "2026-01-30 18:00", 48, "2026-02-03 18:00", ""},
		{"a start on Saturday counts from Monday 00:00", "2026-03-07 10:00", 24, "2026-03-10 00:00", ""},
		{"a start on Sunday with 72h is due Wednesday 24:00 (Thursday 00:00)", "2026-03-08 23:00", 72, "2026-03-12 00:00", ""},
		{"exactly using up a working day ends at 24:00, not after the weekend", "2026-03-06 00:00", 24, "2026-03-07 00:00", ""},
		{"zero business hours on a working day is the start", "2026-03-03 10:00", 0, "2026-03-03 10:00", ""},
		{"zero business hours on a holiday is the next working day 00:00", "2026-10-03 10:00", 0, "2026-10-08 00:00", ""},

		// Spring Festival: Sat Feb 14 is a make-up working day, Feb 15-23 a holiday.
		{"Spring Festival: Friday Feb 13 evening + 24h lands on make-up Saturday Feb 14", "2026-02-13 18:00", 24, "2026-02-14 18:00", ""},
		{"Spring Festival: Friday Feb 13 evening + 48h skips Feb 15-23 to Tuesday Feb 24", "2026-02-13 18:00", 48, "2026-02-24 18:00", ""},
		{"Spring Festival: Friday Feb 13 evening + 72h is Wednesday Feb 25", "2026-02-13 18:00", 72, "2026-02-25 18:00", ""},
		{"Spring Festival: a ticket during the holiday counts from Tuesday Feb 24", "2026-02-18 09:00", 24, "2026-02-25 00:00", ""},
		{"Spring Festival: Friday Feb 27 + 24h lands on make-up Saturday Feb 28", "2026-02-27 09:00", 24, "2026-02-28 09:00", ""},

		// National Day: Oct 1-7 holiday, Sat Oct 10 a make-up working day.
		{"National Day: Wednesday Sep 30 20:00 + 24h is Thursday Oct 8 20:00", "2026-09-30 20:00", 24, "2026-10-08 20:00", ""},
		{"National Day: Wednesday Sep 30 20:00 + 48h is Friday Oct 9 20:00", "2026-09-30 20:00", 48, "2026-10-09 20:00", ""},
		{"National Day: Wednesday Sep 30 20:00 + 72h lands on make-up Saturday Oct 10", "2026-09-30 20:00", 72, "2026-10-10 20:00", ""},
		{"National Day: Friday Oct 9 + 24h lands on make-up Saturday Oct 10", "2026-10-09 18:00", 24, "2026-10-10 18:00", ""},
		{"Mid-Autumn then make-up Sunday Sep 20: Saturday Sep 19 counts from Sunday", "2026-09-19 12:00", 24, "2026-09-21 00:00", ""},

		{"Friday evening before Qingming (Apr 4-6): due Tuesday Apr 7", "2026-04-03 18:00", 24, "2026-04-07 18:00", ""},
		{"Thursday evening before Labour Day (May 1-5): due Wednesday May 6", "2026-04-30 18:00", 24, "2026-05-06 18:00", ""},
		{"New Year: Wednesday Dec 31 2025 is uncovered, Jan 1-3 skipped, Sunday Jan 4 is a make-up day",
			"2025-12-31 18:00", 24, "2026-01-04 18:00", "no holiday calendar loaded for 2025; counted weekends only"},

		{"uncovered year: Thursday Dec 31 2026 + 24h counts Friday Jan 1 2027 as a working day and warns",
			"2026-12-31 18:00", 24, "2027-01-01 18:00", warn2027},
		{"no warning when the deadline is exactly 24:00 Dec 31 2026 (no 2027 day is counted)",
			"2026-12-31 00:00", 24, "2027-01-01 00:00", ""},
		{"uncovered year: a start in 2027 warns", "2027-03-05 18:00", 24, "2027-03-08 18:00", warn2027},
	})
}

func TestAddWorkdays(t *testing.T) {
	runDeadlines(t, Default(), (*Calendar).AddWorkdays, []deadlineCase{
		{"follow-up: Friday evening + 3 working days is end of Wednesday", "2026-03-06 19:00", 3, "2026-03-12 00:00", ""},
		{"the start's time of day does not matter", "2026-03-06 00:00", 3, "2026-03-12 00:00", ""},
		{"1 working day after Monday is end of Tuesday", "2026-03-02 10:00", 1, "2026-03-04 00:00", ""},
		{"a start on Saturday counts from Monday", "2026-03-07 10:00", 1, "2026-03-10 00:00", ""},
		{"Spring Festival: Friday Feb 13 + 3 is Sat Feb 14 (make-up), Tue Feb 24, Wed Feb 25", "2026-02-13 18:00", 3, "2026-02-26 00:00", ""},
		{"Spring Festival: Thursday Feb 12 + 1 is end of Friday Feb 13", "2026-02-12 18:00", 1, "2026-02-14 00:00", ""},
		{"Spring Festival: Friday Feb 13 + 1 is end of make-up Saturday Feb 14", "2026-02-13 18:00", 1, "2026-02-15 00:00", ""},
		{"Spring Festival: Thursday Feb 26 + 2 includes make-up Saturday Feb 28", "2026-02-26 18:00", 2, "2026-03-01 00:00", ""},
		{"National Day: Wednesday Sep 30 + 3 is Oct 8, 9 and make-up Saturday Oct 10", "2026-09-30 18:00", 3, "2026-10-11 00:00", ""},
		{"New Year: Wednesday Dec 31 2025 + 1 skips Jan 1-3 to make-up Sunday Jan 4", "2025-12-31 18:00", 1, "2026-01-05 00:00", ""},
		{"100 working days from Monday Jan 5 is end of Wednesday Jun 3", "2026-01-05 09:00", 100, "2026-06-04 00:00", ""},
		{"uncovered year: Thursday Dec 31 2026 + 3 is Fri Jan 1, Mon Jan 4, Tue Jan 5 2027 with a warning",
			"2026-12-31 18:00", 3, "2027-01-06 00:00", warn2027},
		{"uncovered years are each named once", "2026-12-31 18:00", 400, "2028-07-14 00:00",
			"no holiday calendar loaded for 2027, 2028; counted weekends only"},
	})
}

func TestDeadlineWarningGoesAwayOnceLoaded(t *testing.T) {
	y2027, err := Parse([]byte(valid)) // Jan 1-3 2027 holiday, Sat Jan 9 a make-up day
	if err != nil {
		t.Fatal(err)
	}
	c, err := Merge(Default(), y2027)
	if err != nil {
		t.Fatal(err)
	}
	runDeadlines(t, c, (*Calendar).AddWorkdays, []deadlineCase{
		{"with 2027 loaded, Dec 31 2026 + 3 skips the 2027 New Year holiday, no warning",
			"2026-12-31 18:00", 3, "2027-01-07 00:00", ""},
	})
	runDeadlines(t, c, (*Calendar).AddBusinessHours, []deadlineCase{
		{"with 2027 loaded, Friday Jan 8 + 24h lands on make-up Saturday Jan 9, no warning",
			"2027-01-08 18:00", 24, "2027-01-09 18:00", ""},
	})
}

func TestDeadlineRange(t *testing.T) {
	c := Default()
	start := at(t, "2026-03-02 10:00")
	tests := []struct {
		name string
		f    func() (Deadline, error)
		ok   bool
	}{
		{"negative clock hours are refused", func() (Deadline, error) { return c.AddHours(start, -1) }, false},
		{"clock hours above MaxHours are refused", func() (Deadline, error) { return c.AddHours(start, MaxHours+1) }, false},
		{"MaxHours clock hours are allowed", func() (Deadline, error) { return c.AddHours(start, MaxHours) }, true},
		{"negative business hours are refused", func() (Deadline, error) { return c.AddBusinessHours(start, -24) }, false},
		{"business hours above MaxHours are refused", func() (Deadline, error) { return c.AddBusinessHours(start, MaxHours+1) }, false},
		{"MaxHours business hours are allowed", func() (Deadline, error) { return c.AddBusinessHours(start, MaxHours) }, true},
		{"zero working days are refused", func() (Deadline, error) { return c.AddWorkdays(start, 0) }, false},
		{"negative working days are refused", func() (Deadline, error) { return c.AddWorkdays(start, -3) }, false},
		{"working days above MaxDays are refused", func() (Deadline, error) { return c.AddWorkdays(start, MaxDays+1) }, false},
		{"MaxDays working days are allowed", func() (Deadline, error) { return c.AddWorkdays(start, MaxDays) }, true},
		{"the zero time is a valid start", func() (Deadline, error) { return c.AddWorkdays(time.Time{}, 3) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.f()
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if d.Due.IsZero() {
					t.Error("Due is zero")
				}
				return
			}
			if !errors.Is(err, ErrRange) {
				t.Fatalf("error = %v, want ErrRange", err)
			}
			if !strings.Contains(err.Error(), "allowed") {
				t.Errorf("error %q does not state the allowed range", err)
			}
		})
	}
}

func TestDeadlineWithoutWorkingDays(t *testing.T) {
	// Six weekend days a week and a holiday spanning nearly the whole
	// loaded window: still terminates, with a result or a clear error.
	data := `{"region": "XX", "year": 2026,
	  "weekend": ["monday","tuesday","wednesday","thursday","friday","saturday"],
	  "holidays": [{"name": {"zh-CN": "长假", "en": "Long"}, "from": "2025-12-01", "to": "2027-01-31"}]}`
	c, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.AddWorkdays(at(t, "2026-01-01 00:00"), 1)
	if err != nil {
		t.Fatal(err)
	}
	// First Sunday after Jan 31 2027 is Feb 7 2027.
	if want := at(t, "2027-02-08 00:00"); !d.Due.Equal(want) || d.Warning != warn2027 {
		t.Errorf("got %s %q, want %s %q", d.Due, d.Warning, want, warn2027)
	}
}
