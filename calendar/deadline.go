package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds on deadline arithmetic. Larger or negative amounts are refused
// with an error wrapping ErrRange rather than clamped: an SLA of more than
// ten years is a bug upstream, not a deadline.
const (
	MaxDays  = 3660         // largest n for AddWorkdays
	MaxHours = MaxDays * 24 // largest h for AddHours and AddBusinessHours
)

// maxWalk bounds the days a deadline computation may step through. A
// calendar always has a working day at least once a week outside loaded
// holidays, so this is reached only with absurd data.
const maxWalk = 10 * MaxDays

// ErrRange is wrapped by the errors of AddHours, AddBusinessHours and
// AddWorkdays for amounts outside their bounds.
var ErrRange = errors.New("calendar: amount out of range")

// Deadline is when an SLA clock runs out.
type Deadline struct {
	// Due is the instant of the deadline, in China time (see Location).
	Due time.Time
	// Warning is empty unless a day the computation looked at lies in a
	// year whose holiday schedule is not loaded (see Covers); such days
	// were judged by the weekend alone. It is meant for a dispatcher, e.g.
	// "no holiday calendar loaded for 2027; counted weekends only".
	Warning string
}

// AddHours returns start plus h clock hours: time passes on every day,
// working or not ("first contact within 24 h"). h must be in 0..MaxHours.
// The calendar is not consulted, so there is never a warning.
func (c *Calendar) AddHours(start time.Time, h int) (Deadline, error) {
	if h < 0 || h > MaxHours {
		return Deadline{}, fmt.Errorf("%w: %d hours (allowed 0..%d)", ErrRange, h, MaxHours)
	}
	return Deadline{Due: start.Round(0).In(cst).Add(time.Duration(h) * time.Hour)}, nil
}

// AddBusinessHours returns start plus h hours counted on working days only
// ("on-site within 24/48/72 h"). Every working day counts as 24 hours,
// from 00:00 to 24:00 China time; all time on non-working days (weekends,
// holidays) is skipped. So a ticket at Wednesday 2026-09-30 20:00 with 24
// business hours uses 4 hours on Sep 30, skips the National Day holiday
// Oct 1-7 and is due Thursday 2026-10-08 20:00; one at Friday 2026-01-30
// 18:00 is due Monday 2026-02-02 18:00. A start on a non-working day
// begins counting at 00:00 of the next working day. A deadline that uses
// up a working day exactly is due at 24:00 of it, i.e. 00:00 of the next
// day. h must be in 0..MaxHours.
func (c *Calendar) AddBusinessHours(start time.Time, h int) (Deadline, error) {
	if h < 0 || h > MaxHours {
		return Deadline{}, fmt.Errorf("%w: %d business hours (allowed 0..%d)", ErrRange, h, MaxHours)
	}
	w := walk{c: c}
	rem := time.Duration(h) * time.Hour
	cur := start.Round(0).In(cst)
	for d := dayOf(cur); ; d++ {
		if err := w.visit(d); err != nil {
			return Deadline{}, err
		}
		next := (d + 1).start()
		if c.isWorkday(d) {
			avail := next.Sub(cur)
			if rem <= avail {
				return Deadline{Due: cur.Add(rem), Warning: w.warning()}, nil
			}
			rem -= avail
		}
		cur = next
	}
}

// AddWorkdays returns the end of the nth working day strictly after the
// date of start in China time ("follow-up within 3 working days of
// completion"). The end of a day is 24:00, which Due expresses as 00:00 of
// the following day. The time of day of start does not matter, nor whether
// start is on a working day: a ticket completed on a normal Friday evening
// with n=3 is due at the end of Wednesday (Thursday 00:00). n must be in
// 1..MaxDays.
func (c *Calendar) AddWorkdays(start time.Time, n int) (Deadline, error) {
	if n < 1 || n > MaxDays {
		return Deadline{}, fmt.Errorf("%w: %d working days (allowed 1..%d)", ErrRange, n, MaxDays)
	}
	w := walk{c: c}
	d := dayOf(start)
	for count := 0; count < n; {
		d++
		if err := w.visit(d); err != nil {
			return Deadline{}, err
		}
		if c.isWorkday(d) {
			count++
		}
	}
	return Deadline{Due: (d + 1).start(), Warning: w.warning()}, nil
}

// walk records the days a deadline computation steps through, in
// ascending order, to bound the loop and to note uncovered years.
type walk struct {
	c         *Calendar
	days      int
	lastYear  int // year of the last day visited, if days > 0
	uncovered []int
}

func (w *walk) visit(d day) error {
	w.days++
	if w.days > maxWalk {
		return fmt.Errorf("calendar: no deadline within %d days; the calendar has too few working days", maxWalk)
	}
	if y := d.year(); w.days == 1 || y != w.lastYear {
		w.lastYear = y
		if !w.c.Covers(y) {
			w.uncovered = append(w.uncovered, y)
		}
	}
	return nil
}

func (w *walk) warning() string {
	if len(w.uncovered) == 0 {
		return ""
	}
	years := make([]string, len(w.uncovered))
	for i, y := range w.uncovered {
		years[i] = strconv.Itoa(y)
	}
	return "no holiday calendar loaded for " + strings.Join(years, ", ") + "; counted weekends only"
}
