package calendar

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// offset is China time, UTC+8, all year round (no daylight saving).
const offset = 8 * 3600

// cst is the location of all date logic. A fixed zone rather than
// "Asia/Shanghai", which is not guaranteed to be in the tz database.
var cst = time.FixedZone("CST", offset)

// Location returns China time (a fixed UTC+8 zone named "CST"), the
// location in which the calendar decides what date an instant falls on.
// Deadlines are returned in it.
func Location() *time.Location { return cst }

// Year bounds accepted by Parse.
const (
	MinYear = 1900
	MaxYear = 2999
)

// Calendar is a set of working-day rules for one region and one or more
// years. It is immutable once built, so one value may be shared freely
// between goroutines.
type Calendar struct {
	region   string
	years    map[int]bool
	weekend  [7]bool // indexed by time.Weekday
	holidays map[day]Holiday
	makeUp   map[day]bool
}

// Holiday is one public holiday period, for display.
type Holiday struct {
	NameZH string // Chinese (zh-CN) name, e.g. "春节"
	NameEN string // English name, e.g. "Spring Festival"
	// From and To are the first and the last day of the holiday
	// (inclusive), each at 00:00 China time.
	From, To time.Time
}

func (h Holiday) equal(o Holiday) bool {
	return h.NameZH == o.NameZH && h.NameEN == o.NameEN && h.From.Equal(o.From) && h.To.Equal(o.To)
}

//go:embed cn-2026.json
var cn2026 []byte

// defaultCalendar is parsed once at init; the embedded file is checked by
// TestDefault, so mustParse cannot fail in a built binary.
var defaultCalendar = mustParse(cn2026)

func mustParse(data []byte) *Calendar {
	c, err := Parse(data)
	if err != nil {
		panic(err)
	}
	return c
}

// Default returns the shipped calendar: mainland China ("CN"), 2026, from
// the embedded cn-2026.json. The value is shared; it is immutable.
func Default() *Calendar { return defaultCalendar }

// DefaultID is the id under which the server publishes the shipped
// calendar to devices (fieldsync.EntityCalendar).
const DefaultID = "cn-2026"

// DefaultSource returns the JSON the default calendar was parsed from, for
// devices that count deadlines offline.
func DefaultSource() []byte { return append([]byte(nil), cn2026...) }

// file is the JSON format of one calendar year, as in cn-2026.json.
type file struct {
	Region   string   `json:"region"`
	Year     int      `json:"year"`
	Source   string   `json:"source"`
	Weekend  []string `json:"weekend"`
	Holidays []struct {
		Name struct {
			ZH string `json:"zh-CN"`
			EN string `json:"en"`
		} `json:"name"`
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"holidays"`
	MakeUpWorkdays []string `json:"make_up_workdays"`
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday,
	"friday": time.Friday, "saturday": time.Saturday,
}

// Parse parses one calendar year in the JSON format of cn-2026.json:
//
//	{"region": "CN", "year": 2026, "source": "...",
//	 "weekend": ["saturday", "sunday"],
//	 "holidays": [{"name": {"zh-CN": "春节", "en": "Spring Festival"},
//	               "from": "2026-02-15", "to": "2026-02-23"}],
//	 "make_up_workdays": ["2026-02-14"]}
//
// Dates are YYYY-MM-DD in China time; from and to are inclusive. Parse is
// strict, because a silently dropped entry means wrong deadlines: unknown
// fields, trailing data, a missing region or weekend list, a year outside
// MinYear..MaxYear, unknown or repeated weekday names, a weekend of all
// seven days, malformed dates, from after to, a missing name, a day in two
// holidays, a repeated make-up day, a make-up day that is also a holiday or
// is not a weekend day are all errors. Dates may lie outside the year only
// in the neighbouring December or January (a New Year holiday may start on
// Dec 30 of the year before), and are applied wherever they fall; the
// calendar covers only the file's year.
//
// To use several years, parse each file and combine them with Merge.
func Parse(data []byte) (*Calendar, error) {
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("calendar: decoding JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("calendar: decoding JSON: data after the calendar object")
	}
	return f.build()
}

func (f *file) build() (*Calendar, error) {
	if strings.TrimSpace(f.Region) == "" {
		return nil, errors.New("calendar: region is missing")
	}
	if f.Year < MinYear || f.Year > MaxYear {
		return nil, fmt.Errorf("calendar: %s: year %d is missing or outside %d..%d", f.Region, f.Year, MinYear, MaxYear)
	}
	prefix := fmt.Sprintf("calendar: %s %d: ", f.Region, f.Year)
	errorf := func(format string, args ...any) error {
		return fmt.Errorf(prefix+format, args...)
	}

	c := &Calendar{
		region:   f.Region,
		years:    map[int]bool{f.Year: true},
		holidays: make(map[day]Holiday),
		makeUp:   make(map[day]bool),
	}

	if f.Weekend == nil {
		return nil, errorf(`"weekend" is missing (use [] for a region without weekend days)`)
	}
	for _, name := range f.Weekend {
		wd, ok := weekdayNames[strings.ToLower(name)]
		if !ok {
			return nil, errorf("weekend: unknown weekday name %q (want an English name such as \"saturday\")", name)
		}
		if c.weekend[wd] {
			return nil, errorf("weekend: %q is listed twice", name)
		}
		c.weekend[wd] = true
	}
	if len(f.Weekend) == 7 {
		return nil, errorf("weekend: all seven days are weekend days; there would be no working days")
	}

	// Dates may spill into the neighbouring December or January.
	lo := dayFromDate(f.Year-1, time.December, 1)
	hi := dayFromDate(f.Year+1, time.January, 31)
	parseDate := func(what, s string) (day, error) {
		t, err := time.ParseInLocation(time.DateOnly, s, cst)
		if err != nil {
			return 0, errorf("%s: bad date %q (want YYYY-MM-DD)", what, s)
		}
		d := dayOf(t)
		if d < lo || d > hi {
			return 0, errorf("%s: date %s is too far outside %d (allowed %s..%s)", what, s, f.Year, lo, hi)
		}
		return d, nil
	}

	for i, h := range f.Holidays {
		what := fmt.Sprintf("holiday %d", i+1)
		if h.Name.EN != "" {
			what += fmt.Sprintf(" (%s)", h.Name.EN)
		}
		if strings.TrimSpace(h.Name.ZH) == "" || strings.TrimSpace(h.Name.EN) == "" {
			return nil, errorf(`%s: needs both a "zh-CN" and an "en" name`, what)
		}
		from, err := parseDate(what+": from", h.From)
		if err != nil {
			return nil, err
		}
		to, err := parseDate(what+": to", h.To)
		if err != nil {
			return nil, err
		}
		if from > to {
			return nil, errorf("%s: from %s is after to %s", what, h.From, h.To)
		}
		hol := Holiday{NameZH: h.Name.ZH, NameEN: h.Name.EN, From: from.start(), To: to.start()}
		for d := from; d <= to; d++ {
			if other, ok := c.holidays[d]; ok {
				return nil, errorf("%s: %s is already part of %s", what, d, other.NameEN)
			}
			c.holidays[d] = hol
		}
	}

	for _, s := range f.MakeUpWorkdays {
		what := "make-up workday " + s
		d, err := parseDate(what, s)
		if err != nil {
			return nil, err
		}
		if c.makeUp[d] {
			return nil, errorf("%s is listed twice", what)
		}
		if h, ok := c.holidays[d]; ok {
			return nil, errorf("%s is also a holiday (%s)", what, h.NameEN)
		}
		if !c.weekend[d.weekday()] {
			return nil, errorf("%s is a %s, which is a working day anyway", what, d.weekday())
		}
		c.makeUp[d] = true
	}
	return c, nil
}

// Merge combines calendars of the same region and weekend for different
// years, e.g. Merge(Default(), cn2027) once the 2027 schedule is published.
// It fails when the regions or weekends differ, a year is in more than one
// calendar, or the calendars disagree about a day (a holiday in one and a
// make-up workday in the other, or two different holidays). The inputs are
// not modified.
func Merge(cals ...*Calendar) (*Calendar, error) {
	if len(cals) == 0 {
		return nil, errors.New("calendar: Merge needs at least one calendar")
	}
	if slices.Contains(cals, nil) {
		return nil, errors.New("calendar: Merge given a nil calendar")
	}
	first := cals[0]
	m := &Calendar{
		region:   first.region,
		years:    make(map[int]bool),
		weekend:  first.weekend,
		holidays: make(map[day]Holiday),
		makeUp:   make(map[day]bool),
	}
	for _, c := range cals {
		if c.region != m.region {
			return nil, fmt.Errorf("calendar: cannot merge region %s with %s", c.region, m.region)
		}
		if c.weekend != m.weekend {
			return nil, fmt.Errorf("calendar: cannot merge %s calendars with different weekends", m.region)
		}
		for y := range c.years {
			if m.years[y] {
				return nil, fmt.Errorf("calendar: %s %d is in more than one calendar", m.region, y)
			}
			m.years[y] = true
		}
	}
	for _, c := range cals {
		for d, h := range c.holidays {
			if m.makeUp[d] {
				return nil, fmt.Errorf("calendar: %s %s is a make-up workday in one calendar and a holiday (%s) in another", m.region, d, h.NameEN)
			}
			if o, ok := m.holidays[d]; ok && !o.equal(h) {
				return nil, fmt.Errorf("calendar: %s %s is in two different holidays: %s and %s", m.region, d, o.NameEN, h.NameEN)
			}
			m.holidays[d] = h
		}
		for d := range c.makeUp {
			if h, ok := m.holidays[d]; ok {
				return nil, fmt.Errorf("calendar: %s %s is a make-up workday in one calendar and a holiday (%s) in another", m.region, d, h.NameEN)
			}
			m.makeUp[d] = true
		}
	}
	return m, nil
}

// Region returns the region code of the calendar, e.g. "CN".
func (c *Calendar) Region() string { return c.region }

// Years returns the years the calendar covers, in ascending order.
func (c *Calendar) Years() []int { return slices.Sorted(maps.Keys(c.years)) }

// Covers reports whether the holiday schedule of year is loaded. For other
// years IsWorkday knows only the weekend (and any holiday spilling over
// from a neighbouring loaded year), and deadlines carry a warning.
func (c *Calendar) Covers(year int) bool { return c.years[year] }

// IsWorkday reports whether the date of t in China time is a working day:
// a make-up workday is one; a public holiday is not; otherwise a weekend
// day is not and every other day is. The time of day and t's location do
// not matter beyond fixing the date in China time.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.isWorkday(dayOf(t)) }

func (c *Calendar) isWorkday(d day) bool {
	if c.makeUp[d] {
		return true
	}
	if _, ok := c.holidays[d]; ok {
		return false
	}
	return !c.weekend[d.weekday()]
}

// Holiday returns the public holiday that the date of t in China time falls
// in, if any.
func (c *Calendar) Holiday(t time.Time) (Holiday, bool) {
	h, ok := c.holidays[dayOf(t)]
	return h, ok
}

// day is a calendar date in China time, counted in days since 1970-01-01.
// China time has a fixed offset, so every day is exactly 24 hours long.
type day int64

const secondsPerDay = 24 * 3600

// dayOf returns the date of t in China time.
func dayOf(t time.Time) day {
	s := t.Unix() + offset
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d-- // floor division for instants before 1970
	}
	return day(d)
}

func dayFromDate(y int, m time.Month, d int) day {
	return dayOf(time.Date(y, m, d, 0, 0, 0, 0, cst))
}

// start returns 00:00 China time of d.
func (d day) start() time.Time {
	return time.Unix(int64(d)*secondsPerDay-offset, 0).In(cst)
}

func (d day) year() int { return d.start().Year() }

func (d day) weekday() time.Weekday { return d.start().Weekday() }

func (d day) String() string { return d.start().Format(time.DateOnly) }
