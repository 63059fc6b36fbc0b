package warranty

import (
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// benchInputs is a mix a hotline sees: every category, in and out of
// each window, damage, accessories, repairs, furniture across a holiday.
func benchInputs(b *testing.B) []Input {
	damaged := in(b, "phone", "2026-03-01", "2026-03-11")
	damaged.Responsibility = fieldsync.ResponsibilityCustomerDamage
	return []Input{
		in(b, "tv", "2026-03-02", "2026-03-22"),
		in(b, "tv", "2026-03-02", "2026-11-22"),
		withPart(in(b, "tv", "2026-03-01", "2029-03-01"), PartMajor),
		in(b, "phone", "2026-03-01", "2026-03-08"),
		damaged,
		withPart(in(b, "phone", "2026-01-31", "2026-04-30"), PartEarphones),
		withRepair(withPart(in(b, "phone", "2025-01-01", "2026-07-10"), PartBattery), "2026-01-10", true),
		withChecks(in(b, "appliance", "2026-03-01", "2026-03-02"), Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, MissingAccessories: []string{"remote"}}),
		in(b, "furniture", "2026-09-28", "2026-10-23"),
		in(b, "furniture", "2026-09-28", "2027-03-01"),
	}
}

// BenchmarkDecide times each decision and reports its p50 and p99, with a
// plain map lookup of the failed part's period, timed the same way, as the
// reference (run together: -bench Decide).
func BenchmarkDecide(b *testing.B) {
	p, cal := DefaultPolicy(), calendar.Default()
	inputs := benchInputs(b)
	b.Run("decide", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			if _, err := Decide(p, cal, inputs[i%len(inputs)]); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		reportLatencies(b, d)
	})
	b.Run("map-lookup", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		var sink Period
		for i := 0; b.Loop(); i++ {
			in := inputs[i%len(inputs)]
			start := time.Now()
			sink = p.Categories[in.Category].Parts[in.FailedPart]
			d = append(d, time.Since(start))
		}
		_ = sink
		reportLatencies(b, d)
	})
}

func reportLatencies(b *testing.B, d []time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
}
