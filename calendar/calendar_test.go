package calendar

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// at parses "2006-01-02 15:04" in China time.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// date parses "2006-01-02" as 12:00 China time, mid-day so that no
// boundary question arises.
func date(t testing.TB, s string) time.Time {
	t.Helper()
	return at(t, s+" 12:00")
}

func TestDefault(t *testing.T) {
	c := Default()
	if c == nil {
		t.Fatal("Default() = nil")
	}
	if got := c.Region(); got != "CN" {
		t.Errorf("Region() = %q, want CN", got)
	}
	if !c.Covers(2026) {
		t.Error("default calendar does not cover 2026")
	}
	for _, y := range []int{2025, 2027} {
		if c.Covers(y) {
			t.Errorf("default calendar claims to cover %d", y)
		}
	}
	if got := c.Years(); !slices.Equal(got, []int{2026}) {
		t.Errorf("Years() = %v, want [2026]", got)
	}
}

func TestLocation(t *testing.T) {
	_, off := time.Date(2026, 7, 1, 0, 0, 0, 0, Location()).Zone()
	if off != 8*3600 {
		t.Errorf("Location() offset = %d, want %d", off, 8*3600)
	}
}

func TestIsWorkday(t *testing.T) {
	c := Default()
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"an ordinary Monday is a working day", date(t, "2026-03-02"), true},
		{"an ordinary Friday is a working day", date(t, "2026-03-06"), true},
		{"an ordinary Saturday is a weekend day", date(t, "2026-03-07"), false},
		{"an ordinary Sunday is a weekend day", date(t, "2026-03-08"), false},

		{"New Year's Day Thursday Jan 1 is a holiday", date(t, "2026-01-01"), false},
		{"Friday Jan 2 is in the New Year holiday", date(t, "2026-01-02"), false},
		{"Saturday Jan 3 is in the New Year holiday", date(t, "2026-01-03"), false},
		{"Sunday Jan 4 is a make-up working day", date(t, "2026-01-04"), true},
		{"Saturday Feb 14 before Spring Festival is a make-up working day", date(t, "2026-02-14"), true},
		{"Sunday Feb 15, first day of Spring Festival, is a holiday", date(t, "2026-02-15"), false},
		{"Tuesday Feb 17 (Spring Festival weekday) is a holiday", date(t, "2026-02-17"), false},
		{"Monday Feb 23, last day of Spring Festival, is a holiday", date(t, "2026-02-23"), false},
		{"Tuesday Feb 24 after Spring Festival is a working day", date(t, "2026-02-24"), true},
		{"Saturday Feb 28 after Spring Festival is a make-up working day", date(t, "2026-02-28"), true},
		{"Sunday Mar 1 is an ordinary weekend day", date(t, "2026-03-01"), false},
		{"Monday Apr 6 is in the Qingming holiday", date(t, "2026-04-06"), false},
		{"Tuesday May 5 is in the Labour Day holiday", date(t, "2026-05-05"), false},
		{"Saturday May 9 is a make-up working day", date(t, "2026-05-09"), true},
		{"Friday Jun 19 is the Dragon Boat Festival", date(t, "2026-06-19"), false},
		{"Sunday Sep 20 is a make-up working day", date(t, "2026-09-20"), true},
		{"Friday Sep 25 is the Mid-Autumn Festival", date(t, "2026-09-25"), false},
		{"Wednesday Sep 30 before National Day is a working day", date(t, "2026-09-30"), true},
		{"Thursday Oct 1 is National Day", date(t, "2026-10-01"), false},
		{"Wednesday Oct 7, last day of National Day, is a holiday", date(t, "2026-10-07"), false},
		{"Thursday Oct 8 after National Day is a working day", date(t, "2026-10-08"), true},
		{"Saturday Oct 10 after National Day is a make-up working day", date(t, "2026-10-10"), true},
		{"Sunday Oct 11 is an ordinary weekend day", date(t, "2026-10-11"), false},

		{"the date is taken in China time: Sat Jan 3 20:00 UTC is Sun Jan 4 04:00 in China, a make-up day",
			time.Date(2026, 1, 3, 20, 0, 0, 0, time.UTC), true},
		{"the date is taken in China time: Tue Sep 30 15:59 UTC is still Sep 30 23:59 in China",
			time.Date(2026, 9, 30, 15, 59, 0, 0, time.UTC), true},
		{"the date is taken in China time: Sep 30 16:00 UTC is Oct 1 00:00 in China, a holiday",
			time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), false},
		{"00:00 belongs to the day it starts: Oct 8 00:00 is a working day", at(t, "2026-10-08 00:00"), true},

		{"in an uncovered year a weekday is a working day (Fri Jan 1 2027)", date(t, "2027-01-01"), true},
		{"in an uncovered year a Saturday is a weekend day", date(t, "2027-01-02"), false},
		{"before 1970 the weekend still holds (Sat Jan 1 1966)", date(t, "1966-01-01"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.IsWorkday(tt.t); got != tt.want {
				t.Errorf("IsWorkday(%s) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestWorkdaysIn2026(t *testing.T) {
	// 365 days - 104 weekend days - 19 holidays on weekdays + 6 make-up days.
	n := 0
	for d := date(t, "2026-01-01"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if Default().IsWorkday(d) {
			n++
		}
	}
	if n != 248 {
		t.Errorf("2026 has %d working days, want 248", n)
	}
}

func TestHoliday(t *testing.T) {
	c := Default()
	tests := []struct {
		name     string
		t        time.Time
		zh, en   string
		from, to string
	}{
		{"Jan 2 is in New Year's Day", date(t, "2026-01-02"), "元旦", "New Year's Day", "2026-01-01", "2026-01-03"},
		{"Feb 20 is in Spring Festival", date(t, "2026-02-20"), "春节", "Spring Festival", "2026-02-15", "2026-02-23"},
		{"Apr 5 is in Qingming", date(t, "2026-04-05"), "清明节", "Qingming Festival", "2026-04-04", "2026-04-06"},
		{"May 3 is in Labour Day", date(t, "2026-05-03"), "劳动节", "Labour Day", "2026-05-01", "2026-05-05"},
		{"Jun 21 is in Dragon Boat Festival", date(t, "2026-06-21"), "端午节", "Dragon Boat Festival", "2026-06-19", "2026-06-21"},
		{"Sep 26 is in Mid-Autumn Festival", date(t, "2026-09-26"), "中秋节", "Mid-Autumn Festival", "2026-09-25", "2026-09-27"},
		{"Oct 1 00:00 is in National Day", at(t, "2026-10-01 00:00"), "国庆节", "National Day", "2026-10-01", "2026-10-07"},
		{"Oct 7 23:59 is in National Day", at(t, "2026-10-07 23:59"), "国庆节", "National Day", "2026-10-01", "2026-10-07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := c.Holiday(tt.t)
			if !ok {
				t.Fatalf("Holiday(%s): no holiday", tt.t)
			}
			if h.NameZH != tt.zh || h.NameEN != tt.en {
				t.Errorf("names = %q/%q, want %q/%q", h.NameZH, h.NameEN, tt.zh, tt.en)
			}
			if !h.From.Equal(at(t, tt.from+" 00:00")) || !h.To.Equal(at(t, tt.to+" 00:00")) {
				t.Errorf("From..To = %s..%s, want %s..%s 00:00 CST", h.From, h.To, tt.from, tt.to)
			}
			if h.From.Location() != cst {
				t.Errorf("From is in %s, want China time", h.From.Location())
			}
		})
	}

	notHolidays := []struct {
		name string
		t    time.Time
	}{
		{"an ordinary weekend day is not a holiday", date(t, "2026-03-07")},
		{"a make-up working day is not a holiday", date(t, "2026-02-14")},
		{"the day after National Day is not a holiday", date(t, "2026-10-08")},
		{"Oct 7 16:00 UTC is Oct 8 in China, not a holiday", time.Date(2026, 10, 7, 16, 0, 0, 0, time.UTC)},
	}
	for _, tt := range notHolidays {
		t.Run(tt.name, func(t *testing.T) {
			if h, ok := c.Holiday(tt.t); ok {
				t.Errorf("Holiday(%s) = %+v, want none", tt.t, h)
			}
		})
	}
}

// valid is a small well-formed file; tests replace parts of it.
const valid = `{
  "region": "CN",
  "year": 2027,
  "weekend": ["saturday", "sunday"],
  "holidays": [
    {"name": {"zh-CN": "元旦", "en": "New Year's Day"}, "from": "2027-01-01", "to": "2027-01-03"}
  ],
  "make_up_workdays": ["2027-01-09"]
}`

func TestParse(t *testing.T) {
	c, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Covers(2027) || c.Covers(2026) {
		t.Errorf("Years() = %v, want [2027]", c.Years())
	}
	if c.IsWorkday(date(t, "2027-01-01")) {
		t.Error("Jan 1 2027 should be a holiday")
	}
	if !c.IsWorkday(date(t, "2027-01-09")) {
		t.Error("Sat Jan 9 2027 should be a make-up working day")
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"weekday names are case-insensitive", strings.Replace(valid, `"saturday"`, `"Saturday"`, 1)},
		{"an empty weekend is allowed", strings.NewReplacer(`["saturday", "sunday"]`, `[]`, `"make_up_workdays": ["2027-01-09"]`, `"make_up_workdays": []`).Replace(valid)},
		{"a New Year holiday may start in the December before",
			strings.Replace(valid, `"from": "2027-01-01"`, `"from": "2026-12-30"`, 1)},
		{"holidays and make-up days may be absent", `{"region": "CN", "year": 2027, "weekend": ["saturday", "sunday"]}`},
		{"trailing white space is fine", valid + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.data)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	r := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("test bug: %q not in valid", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	tests := []struct {
		name string
		data string
		want string // substring of the error
	}{
		{"empty input is not JSON", ``, "decoding JSON"},
		{"malformed JSON is rejected", `{"region": `, "decoding JSON"},
		{"a JSON array is not a calendar", `[]`, "decoding JSON"},
		{"data after the object is rejected", valid + `{}`, "data after"},
		{"unknown fields are rejected (a typo would drop data)", r(`"make_up_workdays"`, `"make_up_workday"`), `unknown field "make_up_workday"`},
		{"unknown holiday name languages are rejected", r(`"en": "New Year's Day"`, `"fr": "Jour de l'an"`), `unknown field "fr"`},
		{"the region is required", r(`"region": "CN",`, ``), "region is missing"},
		{"the year is required", r(`"year": 2027,`, ``), "year 0 is missing or outside"},
		{"the year must be plausible", r(`"year": 2027`, `"year": 20270`), "year 20270"},
		{"a string year is a JSON error", r(`"year": 2027`, `"year": "2027"`), "decoding JSON"},
		{"the weekend list is required", r(`"weekend": ["saturday", "sunday"],`, ``), `"weekend" is missing`},
		{"unknown weekday names are rejected", r(`"sunday"`, `"sundae"`), `unknown weekday name "sundae"`},
		{"abbreviated weekday names are rejected", r(`"sunday"`, `"sun"`), `unknown weekday name "sun"`},
		{"a weekday listed twice is rejected", r(`"sunday"`, `"saturday"`), `"saturday" is listed twice`},
		{"a weekend of all seven days is rejected",
			r(`["saturday", "sunday"]`, `["monday","tuesday","wednesday","thursday","friday","saturday","sunday"]`), "all seven days"},
		{"a malformed date is rejected", r(`"from": "2027-01-01"`, `"from": "2027/01/01"`), `bad date "2027/01/01"`},
		{"an unpadded date is rejected", r(`"from": "2027-01-01"`, `"from": "2027-1-1"`), `bad date "2027-1-1"`},
		{"an impossible date is rejected", r(`"to": "2027-01-03"`, `"to": "2027-02-30"`), `bad date "2027-02-30"`},
		{"a missing date is rejected", r(`, "to": "2027-01-03"`, ``), `to: bad date ""`},
		{"from after to is rejected", r(`"to": "2027-01-03"`, `"to": "2026-12-31"`), "from 2027-01-01 is after to 2026-12-31"},
		{"a date far outside the year is rejected", r(`"to": "2027-01-03"`, `"to": "2072-01-03"`), "too far outside 2027"},
		{"a holiday needs a Chinese name", r(`"zh-CN": "元旦", `, ``), `needs both a "zh-CN" and an "en" name`},
		{"a holiday needs an English name", r(`, "en": "New Year's Day"`, ``), `needs both a "zh-CN" and an "en" name`},
		{"overlapping holidays are rejected",
			r(`"to": "2027-01-03"}`, `"to": "2027-01-03"}, {"name": {"zh-CN": "x", "en": "X"}, "from": "2027-01-03", "to": "2027-01-04"}`),
			"2027-01-03 is already part of New Year's Day"},
		{"a make-up day that is also a holiday is rejected", r(`["2027-01-09"]`, `["2027-01-02"]`), "make-up workday 2027-01-02 is also a holiday"},
		{"a make-up day listed twice is rejected", r(`["2027-01-09"]`, `["2027-01-09", "2027-01-09"]`), "listed twice"},
		{"a make-up day on a weekday is rejected (it is a working day anyway)", r(`["2027-01-09"]`, `["2027-01-08"]`), "is a Friday, which is a working day anyway"},
		{"a malformed make-up day is rejected", r(`["2027-01-09"]`, `["Jan 9"]`), `bad date "Jan 9"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.data))
			if err == nil {
				t.Fatalf("Parse succeeded (years %v), want error containing %q", c.Years(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "calendar: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	y2027, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(Default(), y2027)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Years(); !slices.Equal(got, []int{2026, 2027}) {
		t.Errorf("Years() = %v, want [2026 2027]", got)
	}
	checks := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"2026 holidays survive the merge", date(t, "2026-10-01"), false},
		{"2026 make-up days survive the merge", date(t, "2026-02-14"), true},
		{"2027 holidays are added", date(t, "2027-01-01"), false},
		{"2027 make-up days are added", date(t, "2027-01-09"), true},
	}
	for _, tt := range checks {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.IsWorkday(tt.t); got != tt.want {
				t.Errorf("IsWorkday(%s) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
	if Default().Covers(2027) || y2027.Covers(2026) {
		t.Error("Merge modified its inputs")
	}

	parse := func(s string) *Calendar {
		t.Helper()
		c, err := Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	errs := []struct {
		name string
		cals []*Calendar
		want string
	}{
		{"nothing to merge is an error", nil, "at least one"},
		{"a nil calendar is an error", []*Calendar{Default(), nil}, "nil calendar"},
		{"a year may be loaded only once", []*Calendar{Default(), Default()}, "CN 2026 is in more than one calendar"},
		{"regions must match", []*Calendar{Default(), parse(strings.Replace(valid, `"CN"`, `"HK"`, 1))}, "cannot merge region HK with CN"},
		{"weekends must match", []*Calendar{Default(), parse(strings.NewReplacer(`, "sunday"`, ``, `"2027-01-09"`, `"2027-01-16"`).Replace(valid))}, "different weekends"},
		{"a day may not be a holiday in one and a make-up day in the other",
			[]*Calendar{
				parse(strings.Replace(valid, `["2027-01-09"]`, `["2026-12-26"]`, 1)),
				parse(strings.NewReplacer(`"year": 2027`, `"year": 2026`, `"2027-01-01"`, `"2026-12-26"`, `"2027-01-03"`, `"2026-12-27"`).Replace(valid)),
			},
			"2026-12-26 is a make-up workday in one calendar and a holiday (New Year's Day) in another"},
		{"a day may not be in two different holidays",
			[]*Calendar{parse(valid), parse(strings.NewReplacer(`"year": 2027`, `"year": 2026`, `"New Year's Day"`, `"Other"`).Replace(valid))},
			"two different holidays"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Merge(tt.cals...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Merge error = %v, want one containing %q", err, tt.want)
			}
		})
	}

	t.Run("the same holiday in two files is fine", func(t *testing.T) {
		// A 2026 file repeats the New Year holiday of Jan 1-3 2027, identically.
		other := parse(strings.Replace(valid, `"year": 2027`, `"year": 2026`, 1))
		if _, err := Merge(y2027, other); err != nil {
			t.Error(err)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(cn2026)
	f.Add([]byte(valid))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"region":"CN","year":2999,"weekend":["monday"],"holidays":[{"name":{"zh-CN":"a","en":"b"},"from":"2998-12-01","to":"3000-01-31"}]}`))
	f.Add([]byte(`{"region":"CN","year":1900,"weekend":[],"make_up_workdays":["1899-12-01"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a calendar and an error")
			}
			return
		}
		// A calendar that parses must be usable.
		for _, y := range c.Years() {
			start := time.Date(y, 6, 1, 18, 0, 0, 0, cst)
			c.IsWorkday(start)
			c.Holiday(start)
			if _, err := c.AddWorkdays(start, 5); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AddBusinessHours(start, 72); err != nil {
				t.Fatal(err)
			}
		}
	})
}
