package sla

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// at parses "2006-01-02 15:04" in China time.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	want := Policy{
		FirstContact: Rule{24, Hours},
		OnSite: map[fieldsync.Zone]Rule{
			fieldsync.ZoneCity:     {24, BusinessHours},
			fieldsync.ZoneSuburb:   {48, BusinessHours},
			fieldsync.ZoneTownship: {72, BusinessHours},
		},
		FollowUp:    Rule{3, Workdays},
		SecondVisit: Rule{5, Workdays},
		AtRisk:      Duration(4 * time.Hour),

		ComplaintContact:    Rule{24, Hours},
		ComplaintResolution: Rule{3, Workdays},
		PickupReturn:        Rule{3, Workdays},
		PickupExchange:      Rule{13, Workdays},
		AppraisalSlip:       Rule{2, Workdays},
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("DefaultPolicy() =\n%+v\nwant\n%+v", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("the default policy is invalid: %v", err)
	}
	if _, err := ParsePolicy(defaultJSON); err != nil {
		t.Fatalf("embedded default.json: %v", err)
	}

	// Each call is a fresh copy: a caller's edit does not leak.
	p.OnSite[fieldsync.ZoneCity] = Rule{1, Hours}
	if got := DefaultPolicy().OnSite[fieldsync.ZoneCity]; got != (Rule{24, BusinessHours}) {
		t.Fatalf("editing a returned policy changed the default: city = %v", got)
	}

	// The JSON form round-trips.
	b, err := json.Marshal(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"at_risk":"4h"`) {
		t.Errorf("marshalled policy %s does not hold \"at_risk\":\"4h\"", b)
	}
	back, err := ParsePolicy(b)
	if err != nil {
		t.Fatalf("ParsePolicy(Marshal(DefaultPolicy())): %v", err)
	}
	if !reflect.DeepEqual(back, DefaultPolicy()) {
		t.Fatalf("round trip = %+v, want %+v", back, DefaultPolicy())
	}
}

// TestCalendarFacts pins the days of cn-2026.json that the hand-computed
// deadlines below rely on, so a changed calendar fails here, visibly.
func TestCalendarFacts(t *testing.T) {
	cal := calendar.Default()
	for _, tt := range []struct {
		day     string
		weekday time.Weekday
		workday bool
	}{
		{"2026-01-30", time.Friday, true},
		{"2026-01-31", time.Saturday, false},
		{"2026-02-01", time.Sunday, false},
		{"2026-02-13", time.Friday, true},
		{"2026-02-14", time.Saturday, true}, // make-up working day before the Spring Festival
		{"2026-02-15", time.Sunday, false},  // Spring Festival Feb 15..23
		{"2026-02-23", time.Monday, false},
		{"2026-02-24", time.Tuesday, true},
		{"2026-09-19", time.Saturday, false},
		{"2026-09-20", time.Sunday, true}, // make-up working day
		{"2026-09-24", time.Thursday, true},
		{"2026-09-25", time.Friday, false}, // Mid-Autumn Sep 25..27
		{"2026-09-27", time.Sunday, false},
		{"2026-09-28", time.Monday, true},
		{"2026-09-30", time.Wednesday, true},
		{"2026-10-01", time.Thursday, false}, // National Day Oct 1..7
		{"2026-10-07", time.Wednesday, false},
		{"2026-10-08", time.Thursday, true},
		{"2026-10-10", time.Saturday, true}, // make-up working day after National Day
		{"2026-12-31", time.Thursday, true},
	} {
		d := at(t, tt.day+" 12:00")
		if d.Weekday() != tt.weekday || cal.IsWorkday(d) != tt.workday {
			t.Errorf("%s: %s workday=%v, the tests assume %s workday=%v", tt.day, d.Weekday(), cal.IsWorkday(d), tt.weekday, tt.workday)
		}
	}
}

// TestDefaultDeadlines checks the default policy on the 2026 calendar.
// Every expected value was computed by hand from
// /work/shared/calendar/cn-2026.json (holidays Jan 1-3, Feb 15-23, Apr 4-6,
// May 1-5, Jun 19-21, Sep 25-27, Oct 1-7; make-up working days Jan 4,
// Feb 14, Feb 28, May 9, Sep 20, Oct 10; other Saturdays and Sundays off):
//
//   - hours: start plus the amount, every day counts;
//   - business hours: the rest of the start day if it is a working day
//     (e.g. 20:00 leaves 4 h), then 24 h per working day, skipping
//     non-working days whole; a start on a non-working day counts from
//     00:00 of the next working day; using up a day exactly is due at
//     00:00 of the next day;
//   - working days: count working days strictly after the start date; due
//     at 24:00 of the last one, written as 00:00 of the day after.
//
// Each row shows its sum.
func TestDefaultDeadlines(t *testing.T) {
	const (
		city     = fieldsync.ZoneCity
		suburb   = fieldsync.ZoneSuburb
		township = fieldsync.ZoneTownship
	)
	onSite := func(z fieldsync.Zone) func(Policy, *calendar.Calendar, time.Time) (calendar.Deadline, error) {
		return func(p Policy, c *calendar.Calendar, s time.Time) (calendar.Deadline, error) {
			return p.OnSiteDue(c, z, s)
		}
	}
	firstContact := Policy.FirstContactDue
	followUp := Policy.FollowUpDue
	secondVisit := Policy.SecondVisitDue

	tests := []struct {
		name    string
		due     func(Policy, *calendar.Calendar, time.Time) (calendar.Deadline, error)
		start   string
		want    string
		warning string // substring; "" means none
	}{
		// On site, city: 24 business hours.
		{"city on-site skips a weekend: Fri 18:00 is due Mon 18:00 (6 h Fri + 18 h Mon)",
			onSite(city), "2026-01-30 18:00", "2026-02-02 18:00", ""},
		{"city on-site on the eve of National Day is due after the holiday (4 h Sep 30, Oct 1-7 off, 20 h Oct 8)",
			onSite(city), "2026-09-30 20:00", "2026-10-08 20:00", ""},
		{"city on-site before Mid-Autumn skips Fri-Sun Sep 25-27 (6 h Thu + 18 h Mon)",
			onSite(city), "2026-09-24 18:00", "2026-09-28 18:00", ""},
		{"city on-site opened on a holiday counts from the next working day (Sep 25 off ... Sep 28 00:00 + 24 h)",
			onSite(city), "2026-09-25 09:00", "2026-09-29 00:00", ""},
		{"city on-site opened on a Saturday counts the make-up Sunday Sep 20 (00:00 + 24 h = Mon 00:00)",
			onSite(city), "2026-09-19 10:00", "2026-09-21 00:00", ""},
		{"city on-site before the Spring Festival uses the make-up Saturday Feb 14 (5 h Fri + 19 h Sat)",
			onSite(city), "2026-02-13 19:00", "2026-02-14 19:00", ""},
		{"city on-site opened at 00:00 of a working day is due 00:00 the next day",
			onSite(city), "2026-03-02 00:00", "2026-03-03 00:00", ""},

		// On site, suburb: 48 business hours.
		{"suburb on-site skips a weekend (6 h Fri + 24 h Mon + 18 h Tue)",
			onSite(suburb), "2026-01-30 18:00", "2026-02-03 18:00", ""},
		{"suburb on-site on the eve of National Day (4 h Sep 30 + 24 h Oct 8 + 20 h Oct 9)",
			onSite(suburb), "2026-09-30 20:00", "2026-10-09 20:00", ""},
		{"suburb on-site before the Spring Festival is due after it (5 h Fri + 24 h Sat Feb 14, Feb 15-23 off, 19 h Feb 24)",
			onSite(suburb), "2026-02-13 19:00", "2026-02-24 19:00", ""},

		// On site, township: 72 business hours.
		{"township on-site skips a weekend (6 h Fri + 24 h Mon + 24 h Tue + 18 h Wed)",
			onSite(township), "2026-01-30 18:00", "2026-02-04 18:00", ""},
		{"township on-site after National Day lands on the make-up Saturday Oct 10 (4 + 24 Oct 8 + 24 Oct 9 + 20)",
			onSite(township), "2026-09-30 20:00", "2026-10-10 20:00", ""},
		{"township on-site before the Spring Festival (5 h Fri + 24 h Feb 14 + 24 h Feb 24 + 19 h Feb 25)",
			onSite(township), "2026-02-13 19:00", "2026-02-25 19:00", ""},

		// First contact: 24 clock hours, weekends and holidays included.
		{"first contact counts clock hours over a weekend: Fri 18:00 is due Sat 18:00",
			firstContact, "2026-01-30 18:00", "2026-01-31 18:00", ""},
		{"first contact counts clock hours over a holiday: Sep 30 20:00 is due Oct 1 20:00",
			firstContact, "2026-09-30 20:00", "2026-10-01 20:00", ""},
		{"first contact opened on a Sunday is due Monday at the same time",
			firstContact, "2026-02-01 09:30", "2026-02-02 09:30", ""},

		// Follow-up: 3 working days after completion.
		{"follow-up on a plain week: Mon completion is due end of Thu (Tue, Wed, Thu)",
			followUp, "2026-03-02 15:00", "2026-03-06 00:00", ""},
		{"follow-up skips a weekend: Fri completion is due end of Wed (Mon, Tue, Wed)",
			followUp, "2026-01-30 17:00", "2026-02-05 00:00", ""},
		{"follow-up across National Day counts Oct 8, Oct 9 and make-up Sat Oct 10",
			followUp, "2026-09-30 15:00", "2026-10-11 00:00", ""},
		{"follow-up across Mid-Autumn counts Sep 28, 29, 30 (Sep 25-27 off)",
			followUp, "2026-09-24 11:00", "2026-10-01 00:00", ""},
		{"follow-up across the Spring Festival counts Feb 14, Feb 24, Feb 25",
			followUp, "2026-02-13 16:00", "2026-02-26 00:00", ""},

		// Second visit: 5 working days after parts were ordered.
		{"second visit skips a weekend: Fri is due end of next Fri (Feb 2-6)",
			secondVisit, "2026-01-30 11:00", "2026-02-07 00:00", ""},
		{"second visit across the Spring Festival counts Feb 13, 14, 24, 25, 26",
			secondVisit, "2026-02-12 11:00", "2026-02-27 00:00", ""},

		// Beyond the loaded year: weekends only, with a warning.
		{"city on-site on New Year's Eve runs into 2027, counted by weekends only, with a warning (14 h Dec 31 + 10 h Fri Jan 1)",
			onSite(city), "2026-12-31 10:00", "2027-01-01 10:00", "no holiday calendar loaded for 2027"},
	}
	p := DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.due(p, calendar.Default(), at(t, tt.start))
			if err != nil {
				t.Fatal(err)
			}
			if want := at(t, tt.want); !got.Due.Equal(want) {
				t.Errorf("due %s (%s), want %s (%s)", got.Due.Format("2006-01-02 15:04 Mon"), got.Due.Location(), want.Format("2006-01-02 15:04 Mon"), want.Location())
			}
			if got.Due.Location() != calendar.Location() {
				t.Errorf("due is in %s, want China time", got.Due.Location())
			}
			if tt.warning == "" && got.Warning != "" || !strings.Contains(got.Warning, tt.warning) {
				t.Errorf("warning %q, want %q", got.Warning, tt.warning)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	p := DefaultPolicy()
	start := at(t, "2026-01-30 18:00")
	tests := []struct {
		name    string
		cal     *calendar.Calendar
		rule    Rule
		start   time.Time
		want    string
		wantErr string
	}{
		{"clock hours ignore the calendar", calendar.Default(), Rule{72, Hours}, start, "2026-02-02 18:00", ""},
		{"business hours skip the weekend", calendar.Default(), Rule{72, BusinessHours}, start, "2026-02-04 18:00", ""},
		{"working days end at midnight", calendar.Default(), Rule{1, Workdays}, start, "2026-02-03 00:00", ""},
		{"a nil calendar means the default one", nil, Rule{24, BusinessHours}, start, "2026-02-02 18:00", ""},
		{"a start in another zone is the same instant", calendar.Default(), Rule{24, BusinessHours}, start.UTC(), "2026-02-02 18:00", ""},
		{"the largest amount of hours is accepted", calendar.Default(), Rule{MaxHours, Hours}, start, "2027-01-31 18:00", ""},
		{"a zero amount is refused", calendar.Default(), Rule{0, Hours}, start, "", "outside 1..8784"},
		{"a negative amount is refused", calendar.Default(), Rule{-3, Workdays}, start, "", "outside 1..366"},
		{"too many hours are refused", calendar.Default(), Rule{MaxHours + 1, BusinessHours}, start, "", "outside 1..8784"},
		{"too many working days are refused", calendar.Default(), Rule{MaxWorkdays + 1, Workdays}, start, "", "outside 1..366"},
		{"an unknown unit is refused", calendar.Default(), Rule{3, "days"}, start, "", `unknown unit "days"`},
		{"a missing unit is refused", calendar.Default(), Rule{3, ""}, start, "", "unit is missing"},
		{"a zero start is refused", calendar.Default(), Rule{24, Hours}, time.Time{}, "", "needs a start time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Deadline(tt.cal, tt.rule, tt.start)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if code := fieldsync.ErrorCode(err); code != fieldsync.EInvalid {
					t.Fatalf("code = %q, want %q", code, fieldsync.EInvalid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := at(t, tt.want); !got.Due.Equal(want) {
				t.Fatalf("due %s, want %s", got.Due, want)
			}
		})
	}
}

func TestOnSiteDueZones(t *testing.T) {
	start := at(t, "2026-03-02 09:00")
	partial := DefaultPolicy()
	delete(partial.OnSite, fieldsync.ZoneTownship)
	tests := []struct {
		name    string
		policy  Policy
		zone    fieldsync.Zone
		wantErr string
	}{
		{"an unknown zone is invalid", DefaultPolicy(), "rural", `unknown zone "rural"`},
		{"an empty zone is invalid", DefaultPolicy(), "", `unknown zone ""`},
		{"a zone the policy lacks is invalid", partial, fieldsync.ZoneTownship, `no on-site rule for zone "township"`},
		{"the zero policy has no on-site rules", Policy{}, fieldsync.ZoneCity, `no on-site rule for zone "city"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.policy.OnSiteDue(calendar.Default(), tt.zone, start)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if code := fieldsync.ErrorCode(err); code != fieldsync.EInvalid {
				t.Fatalf("code = %q, want %q", code, fieldsync.EInvalid)
			}
		})
	}
}

func TestState(t *testing.T) {
	p := DefaultPolicy() // at risk with less than 4 h left
	due := at(t, "2026-10-08 20:00")
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name string
		met  *time.Time
		now  time.Time
		want State
	}{
		{"not met, well before due: ok", nil, due.Add(-24 * time.Hour), OK},
		{"not met, one second before the margin: ok", nil, due.Add(-4*time.Hour - time.Second), OK},
		{"not met, exactly at the margin (4 h left): at risk", nil, due.Add(-4 * time.Hour), AtRisk},
		{"not met, inside the margin: at risk", nil, due.Add(-time.Hour), AtRisk},
		{"not met, exactly at due: still at risk, not yet breached", nil, due, AtRisk},
		{"not met, one second after due: breached", nil, due.Add(time.Second), Breached},
		{"not met, days after due: breached", nil, due.Add(72 * time.Hour), Breached},
		{"met early: ok, even when now is long after due", ptr(due.Add(-10 * time.Hour)), due.Add(72 * time.Hour), OK},
		{"met inside the margin: ok", ptr(due.Add(-time.Minute)), due.Add(time.Hour), OK},
		{"met exactly at due: ok", ptr(due), due.Add(time.Hour), OK},
		{"met one second late: breached", ptr(due.Add(time.Second)), due.Add(time.Hour), Breached},
		{"met late, now before due (clock skew): still breached", ptr(due.Add(time.Hour)), due.Add(-time.Hour), Breached},
		{"met before now, now inside the margin: ok, not at risk", ptr(due.Add(-5 * time.Hour)), due.Add(-time.Hour), OK},
		{"the same instant in another zone gives the same state", nil, due.Add(time.Second).UTC(), Breached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.State(due, tt.met, tt.now); got != tt.want {
				t.Fatalf("State = %q, want %q", got, tt.want)
			}
		})
	}
	if got := p.State(time.Time{}, nil, due); got != OK {
		t.Errorf("State with no due = %q, want ok", got)
	}
	// A wider margin makes the same moment at risk.
	wide := DefaultPolicy()
	wide.AtRisk = Duration(24 * time.Hour)
	if got := wide.State(due, nil, due.Add(-20*time.Hour)); got != AtRisk {
		t.Errorf("24 h margin, 20 h left: State = %q, want at_risk", got)
	}
}

func TestParseState(t *testing.T) {
	for _, s := range States {
		if got, err := ParseState(string(s)); err != nil || got != s {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseState("late"); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("ParseState(late) err = %v, want EInvalid", err)
	}
}

func TestParsePolicy(t *testing.T) {
	// valid is default.json with one substitution applied.
	valid := string(defaultJSON)
	edit := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("default.json has no %q", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	tests := []struct {
		name    string
		json    string
		wantErr string // "" means valid
	}{
		{"the shipped default parses", valid, ""},
		{"a policy with clock hours on site is valid", edit(`"city": {"amount": 24, "unit": "business_hours"}`, `"city": {"amount": 12, "unit": "hours"}`), ""},
		{"at_risk in minutes is valid", edit(`"at_risk": "4h"`, `"at_risk": "90m"`), ""},
		{"empty input is refused", "", "decoding JSON"},
		{"malformed JSON is refused", `{"first_contact":`, "decoding JSON"},
		{"a JSON array is refused", `[]`, "decoding JSON"},
		{"an unknown field is refused", edit(`"at_risk"`, `"complaint": {"amount": 1, "unit": "hours"}, "at_risk"`), `unknown field "complaint"`},
		{"an unknown field in a rule is refused", edit(`{"amount": 3, "unit": "workdays"}`, `{"amount": 3, "unit": "workdays", "per": "visit"}`), `unknown field "per"`},
		{"data after the object is refused", valid + `{}`, "data after the policy object"},
		{"a missing zone is refused", edit(`"township": {"amount": 72, "unit": "business_hours"}`, `"x": {"amount": 72, "unit": "business_hours"}`), `no rule for zone "township"`},
		{"an unknown zone is refused", edit(`"city": {"amount": 24, "unit": "business_hours"},`, `"city": {"amount": 24, "unit": "business_hours"}, "rural": {"amount": 96, "unit": "business_hours"},`), `unknown zone "rural"`},
		{"a missing on_site is refused", `{"first_contact": {"amount": 24, "unit": "hours"}, "follow_up": {"amount": 3, "unit": "workdays"}, "second_visit": {"amount": 5, "unit": "workdays"}, "at_risk": "4h"}`, `no rule for zone "city"`},
		{"a null on_site is refused", `{"first_contact": {"amount": 24, "unit": "hours"}, "on_site": null, "follow_up": {"amount": 3, "unit": "workdays"}, "second_visit": {"amount": 5, "unit": "workdays"}, "at_risk": "4h"}`, `no rule for zone "city"`},
		{"a missing first_contact is refused", edit(`"first_contact": {"amount": 24, "unit": "hours"},`, ``), "first_contact: unit is missing"},
		{"a zero amount is refused", edit(`{"amount": 3, "unit": "workdays"}`, `{"amount": 0, "unit": "workdays"}`), "follow_up: amount 0 workdays is outside 1..366"},
		{"a negative amount is refused", edit(`{"amount": 5, "unit": "workdays"}`, `{"amount": -5, "unit": "workdays"}`), "second_visit: amount -5"},
		{"an amount over a year of hours is refused", edit(`{"amount": 24, "unit": "hours"}`, `{"amount": 8785, "unit": "hours"}`), "outside 1..8784"},
		{"a fractional amount is refused", edit(`{"amount": 24, "unit": "hours"}`, `{"amount": 24.5, "unit": "hours"}`), "decoding JSON"},
		{"an unknown unit is refused", edit(`{"amount": 48, "unit": "business_hours"}`, `{"amount": 2, "unit": "days"}`), `on_site suburb: unknown unit "days"`},
		{"a missing unit is refused", edit(`{"amount": 72, "unit": "business_hours"}`, `{"amount": 72}`), "on_site township: unit is missing"},
		{"a missing at_risk is refused", edit(`,
  "at_risk": "4h"`, ``), "at_risk 0s is missing"},
		{"a numeric at_risk is refused (units must be explicit)", edit(`"4h"`, `240`), "a duration is a string"},
		{"a malformed at_risk is refused", edit(`"4h"`, `"4 hours"`), `bad duration "4 hours"`},
		{"a negative at_risk is refused", edit(`"4h"`, `"-4h"`), "at_risk -4h is missing or outside 1m..168h"},
		{"an at_risk under a minute is refused", edit(`"4h"`, `"30s"`), "outside 1m..168h"},
		{"an at_risk over a week is refused", edit(`"4h"`, `"169h"`), "outside 1m..168h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParsePolicy: %v", err)
				}
				if err := p.Validate(); err != nil {
					t.Fatalf("parsed policy does not validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParsePolicy err = %v, want one containing %q", err, tt.wantErr)
			}
			if code := fieldsync.ErrorCode(err); code != fieldsync.EInvalid {
				t.Fatalf("code = %q, want %q", code, fieldsync.EInvalid)
			}
			if !reflect.DeepEqual(p, Policy{}) {
				t.Fatalf("a failed parse returned %+v, want the zero policy", p)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		json string
	}{
		{"whole hours are written in hours", 4 * time.Hour, `"4h"`},
		{"whole minutes are written in minutes", 90 * time.Minute, `"90m"`},
		{"anything else uses Go's form", 90 * time.Second, `"1m30s"`},
		{"zero", 0, `"0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(Duration(tt.d))
			if err != nil || string(b) != tt.json {
				t.Fatalf("Marshal = %s, %v; want %s", b, err, tt.json)
			}
			var back Duration
			if err := json.Unmarshal(b, &back); err != nil || time.Duration(back) != tt.d {
				t.Fatalf("Unmarshal(%s) = %v, %v; want %v", b, time.Duration(back), err, tt.d)
			}
		})
	}
}

// TestComplaintDue counts a complaint's clocks across the National Day
// holiday: first contact in clock hours through it, the resolution in
// working days after it (Oct 8, Oct 9 and the make-up Saturday Oct 10).
func TestComplaintDue(t *testing.T) {
	p := DefaultPolicy()
	for _, tt := range []struct {
		opened, contact, resolution string
	}{
		{"2026-09-30 10:00", "2026-10-01 10:00", "2026-10-11 00:00"},
		{"2026-10-03 09:00", "2026-10-04 09:00", "2026-10-11 00:00"},
		{"2026-10-12 23:30", "2026-10-13 23:30", "2026-10-16 00:00"},
	} {
		contact, resolution, err := p.ComplaintDue(nil, at(t, tt.opened))
		if err != nil {
			t.Fatalf("ComplaintDue(%s): %v", tt.opened, err)
		}
		if !contact.Due.Equal(at(t, tt.contact)) || !resolution.Due.Equal(at(t, tt.resolution)) {
			t.Errorf("ComplaintDue(%s) = %s, %s; want %s, %s", tt.opened, contact.Due, resolution.Due, tt.contact, tt.resolution)
		}
	}
	for _, tt := range []struct{ name, old, new, want string }{
		{"a missing complaint_contact is refused", `"complaint_contact": {"amount": 24, "unit": "hours"},`, ``, "complaint_contact: unit is missing"},
		{"a bad complaint_resolution is refused", `{"amount": 3, "unit": "workdays"}
}`, `{"amount": 0, "unit": "workdays"}
}`, "complaint_resolution: amount 0"},
	} {
		src := strings.Replace(string(defaultJSON), tt.old, tt.new, 1)
		if src == string(defaultJSON) {
			t.Fatalf("%s: default.json has no %q", tt.name, tt.old)
		}
		if _, err := ParsePolicy([]byte(src)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// The pick-up and appraisal-slip clocks count working days on the
// business calendar: a visit the day before National Day waits out the
// holiday, and the make-up Saturday 2026-10-10 counts.
func TestPickupAndAppraisalSlipDue(t *testing.T) {
	p := DefaultPolicy()
	for _, tt := range []struct {
		name, from, want string
		due              func(time.Time) (calendar.Deadline, error)
	}{
		{"a return on a plain Tuesday is collected by Friday's end", "2026-03-10 15:00", "2026-03-14 00:00",
			func(at time.Time) (calendar.Deadline, error) { return p.PickupDue(nil, fieldsync.PickupReturn, at) }},
		{"a return the day before National Day waits out the holiday; make-up Saturday counts", "2026-09-30 15:00", "2026-10-11 00:00",
			func(at time.Time) (calendar.Deadline, error) { return p.PickupDue(nil, fieldsync.PickupReturn, at) }},
		{"an exchange the day before National Day takes 13 working days after it", "2026-09-30 15:00", "2026-10-24 00:00",
			func(at time.Time) (calendar.Deadline, error) { return p.PickupDue(nil, fieldsync.PickupExchange, at) }},
		{"a cracked screen found before Labour Day is printed after it", "2026-04-30 11:00", "2026-05-08 00:00",
			func(at time.Time) (calendar.Deadline, error) { return p.AppraisalSlipDue(nil, at) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.due(at(t, tt.from))
			if err != nil {
				t.Fatal(err)
			}
			if !d.Due.Equal(at(t, tt.want)) {
				t.Fatalf("due %s, want %s", d.Due, tt.want)
			}
		})
	}
	if _, err := p.PickupDue(nil, "repair", at(t, "2026-03-10 15:00")); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("a pick-up of kind repair: %v", err)
	}
	src := strings.Replace(string(defaultJSON), `"pickup_exchange": {"amount": 13, "unit": "workdays"}`, `"pickup_exchange": {"amount": 0, "unit": "workdays"}`, 1)
	if _, err := ParsePolicy([]byte(src)); err == nil || !strings.Contains(err.Error(), "pickup_exchange: amount 0") {
		t.Errorf("a zero pickup_exchange: %v", err)
	}
}
