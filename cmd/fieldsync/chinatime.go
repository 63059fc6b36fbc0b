package main

import "time"

// cst is China Standard Time, UTC+8 all year (no daylight saving): the
// business calendar's zone and the one the command line prints times in.
// The API and the local store keep UTC; only what people read is local.
var cst = time.FixedZone("CST", 8*3600)

// local formats t in China time with its offset, so it cannot be read as
// UTC or as the reader's own zone: "2026-03-11 09:00 +08:00".
func local(t time.Time) string { return t.In(cst).Format("2006-01-02 15:04 -07:00") }

// localWindow formats a window from start to end in China time: the end
// without its date when on the same day, "2026-03-11 08:00–10:00 +08:00".
func localWindow(start, end time.Time) string {
	s, e := start.In(cst), end.In(cst)
	if s.Format(time.DateOnly) == e.Format(time.DateOnly) {
		return s.Format("2006-01-02 15:04") + "–" + e.Format("15:04 -07:00")
	}
	return s.Format("2006-01-02 15:04") + " – " + local(e)
}
