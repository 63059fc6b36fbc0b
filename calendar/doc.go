// Package calendar is the business calendar behind SLA clocks: which days
// are working days in mainland China (weekends, public holidays, and the
// weekend days the State Council turns into make-up working days), and
// deadlines counted on that calendar.
//
// It is pure: it parses bytes it is given and does no I/O of its own. All
// date logic happens in China time, a fixed UTC+8 zone (see Location), so it
// does not depend on the machine's tz database.
//
// Start reading with calendar.go (Parse, Merge, Default, IsWorkday) and
// then deadline.go, whose doc comments state the counting rules:
//
//   - AddHours: plain clock hours ("first contact within 24 h").
//   - AddBusinessHours: only time on working days counts ("on-site within
//     24/48/72 h"); a ticket opened before a holiday is not due during it.
//   - AddWorkdays: due at the end of the nth working day after the start
//     date ("follow-up within 3 working days of completion").
//
// The shipped default is the embedded cn-2026.json (Default). Schedules for
// later years are published each November; load them with Parse and Merge.
// Until a year is loaded, deadlines that touch it count plain weekends and
// carry a Deadline.Warning saying so, rather than failing.
package calendar
