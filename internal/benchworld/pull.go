package benchworld

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

// Puller answers one page of a technician's pull after cursor: how many
// changes came, the next cursor and whether more are waiting.
type Puller func(cursor string, limit int) (changes int, next string, more bool, err error)

// Feed is a store's side of a pull.
type Feed interface {
	Pull(ctx context.Context, parts []string, cursor string, limit int) ([]syncproto.Change, string, bool, error)
}

// StorePull pulls the partitions of technician tech straight from a store.
func StorePull(ctx context.Context, f Feed, tech string) Puller {
	parts := syncproto.PartitionsFor(tech, fieldsync.RoleTechnician)
	return func(cursor string, limit int) (int, string, bool, error) {
		changes, next, more, err := f.Pull(ctx, parts, cursor, limit)
		return len(changes), next, more, err
	}
}

// FirstSync pulls from no cursor until nothing more is waiting, pages of
// 500, and returns how many changes came and the final cursor.
func FirstSync(pull Puller) (int, string, error) {
	n, cursor := 0, ""
	for {
		changes, next, more, err := pull(cursor, 500)
		if err != nil {
			return 0, "", err
		}
		n, cursor = n+changes, next
		if !more {
			return n, cursor, nil
		}
	}
}

// FirstSyncChanges is what the technician under test's first sync of
// World1M brings: their five records a visit and the templates.
func FirstSyncChanges() int { return 5*World1M.OursVisits + len(templates.All()) }

// TimeFirstSync times sync, a whole first sync that returns how many
// changes came, checks the count against FirstSyncChanges and reports it.
func TimeFirstSync(b *testing.B, sync func() (int, error)) {
	want := FirstSyncChanges()
	for b.Loop() {
		n, err := sync()
		if err != nil {
			b.Fatal(err)
		}
		if n != want {
			b.Fatalf("first sync brought %d changes, want %d", n, want)
		}
	}
	b.ReportMetric(float64(want), "changes/op")
}

// TimeEmptyPulls times an incremental pull with nothing new (the cursor at
// the head of the technician's feed) at 104,000 and at 1,004,000 records,
// in sub-benchmarks <world>/<via>, with the p50 and p99 of the operations,
// and logs the ratio of the p50s: the 100k figure is the reference of the
// 1M one. open gives the pull of a world.
func TimeEmptyPulls(b *testing.B, via string, open func(b *testing.B, w World) Puller) {
	p50 := map[string]time.Duration{}
	for _, w := range []World{World100k, World1M} {
		b.Run(w.Name, func(b *testing.B) {
			pull := open(b, w)
			_, head, err := FirstSync(pull)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(via, func(b *testing.B) {
				var d []time.Duration
				for b.Loop() {
					start := time.Now()
					n, _, more, err := pull(head, 500)
					d = append(d, time.Since(start))
					if err != nil || n != 0 || more {
						b.Fatalf("empty pull: %d changes, more %v, %v", n, more, err)
					}
				}
				p50[w.Name] = percentiles(b, d)
			})
		})
	}
	if a, z := p50[World100k.Name], p50[World1M.Name]; a > 0 && z > 0 {
		b.Logf("empty pull via %s: p50 %s at 100k, %s at 1M: 1M/100k = %.2f", via, a, z, float64(z)/float64(a))
	}
}

// percentiles reports the p50 and p99 of the durations of each operation.
func percentiles(b *testing.B, d []time.Duration) time.Duration {
	slices.Sort(d)
	p50, p99 := d[len(d)/2], d[len(d)*99/100]
	b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
	return p50
}
