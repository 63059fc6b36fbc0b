package main

import (
	"testing"
	"time"
)

func TestCLITimesAreChinaTimeWithTheZone(t *testing.T) {
	utc := time.Date(2026, 3, 11, 1, 0, 0, 0, time.UTC) // 09:00 in China
	tests := []struct{ name, got, want string }{
		{"a UTC instant", local(utc), "2026-03-11 09:00 +08:00"},
		{"the same instant in another zone", local(utc.In(time.FixedZone("PST", -8*3600))), "2026-03-11 09:00 +08:00"},
		{"a window on one day", localWindow(utc, utc.Add(2*time.Hour)), "2026-03-11 09:00–11:00 +08:00"},
		{"a window past China's midnight", localWindow(utc.Add(14*time.Hour), utc.Add(16*time.Hour)), "2026-03-11 23:00 – 2026-03-12 01:00 +08:00"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
