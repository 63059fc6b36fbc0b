package warranty

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a civil date (a day in the calendar, no time of day, no zone).
// It is held as UTC midnight, so day arithmetic never meets a daylight
// saving change or the zone of the machine. The zero Date means "absent".
type Date struct{ t time.Time }

// NewDate returns the date y-m-d; out-of-range values normalise as in
// time.Date (Feb 30 is Mar 2).
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// ParseDate reads "YYYY-MM-DD" and nothing else; the empty string is the
// zero Date. The error says what was wrong, for the caller to prefix with
// the field's name.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s || t.Year() < 1900 {
		return Date{}, fmt.Errorf("%q is not a date YYYY-MM-DD, such as 2026-03-02", s)
	}
	return Date{t}, nil
}

// IsZero reports whether d is absent.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String returns "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

// After reports whether d is later than o.
func (d Date) After(o Date) bool { return d.t.After(o.t) }

// AddDays returns the date n days after d.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// AddMonths returns the date n months after d. A day the target month does
// not have becomes that month's last day (2028-02-29 plus 12 months is
// 2029-02-28, 2026-01-31 plus 1 month is 2026-02-28), as periods counted
// in months and years end in Chinese civil law (民法典 第二百零三条: "没有
// 对应日的，月末日为期间的最后一日"), where time.AddDate would spill into the
// next month.
func (d Date) AddMonths(n int) Date {
	y, m, day := d.t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return Date{first.AddDate(0, 0, min(day, last)-1)}
}

// DaysAfter returns the number of whole calendar days from o to d: bought
// on the 1st, the 8th is day 7.
func (d Date) DaysAfter(o Date) int { return int(d.t.Sub(o.t) / (24 * time.Hour)) }

// Time returns d at 00:00 UTC.
func (d Date) Time() time.Time { return d.t }

// MarshalJSON writes "YYYY-MM-DD" (null for the zero Date).
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date is a string YYYY-MM-DD, not %s", b)
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
