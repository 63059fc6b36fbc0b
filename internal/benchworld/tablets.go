package benchworld

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// The concurrent push workload: many tablets of the technician under test
// push at once, each a small batch about a report of its own, as a fleet
// does when its tablets come back online.

// TabletBatch is the number of mutations in a tablet's push.
const TabletBatch = 3

// Tablet is one device's outbox: its report on its visit, created by its
// first push and answered further by every push after.
type Tablet struct {
	Device, Visit, Report string
	// Install is the install the device pushes as: its id unless a
	// login issued another.
	Install string
	clock   *syncproto.Clock
	seq     int64
}

// NewTablet returns tablet n, working on visit (one of PushStore's).
func NewTablet(n int, visit string) *Tablet {
	device := fmt.Sprintf("bench-tab-c%d", n)
	return &Tablet{Device: device, Install: device, Visit: visit, Report: ID(1<<41 + uint64(n)), clock: syncproto.NewClock(device, nil)}
}

// Next returns the tablet's next push of TabletBatch mutations, each of
// which changes the report.
func (t *Tablet) Next() []syncproto.Mutation {
	batch := make([]syncproto.Mutation, TabletBatch)
	for i := range batch {
		t.seq++
		fields := map[string]any{"answers": map[string]any{"fault_description": fmt.Sprintf("竖线，第 %d 次记录", t.seq)}}
		if t.seq == 1 {
			fields["visit_id"], fields["template_id"] = t.Visit, "tv-v1"
		}
		m := syncproto.Mutation{Seq: t.seq, Entity: fieldsync.EntityReport, ID: t.Report, Op: syncproto.OpUpsert, HLC: t.clock.Now().String(), Fields: map[string]json.RawMessage{}}
		for k, v := range fields {
			m.Fields[k], _ = json.Marshal(v)
		}
		batch[i] = m
	}
	return batch
}

// Principal is who the tablet pushes as: the technician under test on
// this device and install.
func (t *Tablet) Principal() syncproto.Principal {
	return syncproto.Principal{UserID: OurTech, Role: fieldsync.RoleTechnician, Device: t.Device, Install: t.Install}
}

// Request is batch as the tablet sends it.
func (t *Tablet) Request(batch []syncproto.Mutation) syncproto.PushRequest {
	return syncproto.PushRequest{DeviceID: t.Device, InstallID: t.Install, Mutations: batch}
}

// RunTablets runs b's pushes from n goroutines at once, each taking a
// tablet from pool for its pushes (with more goroutines than tablets, a
// goroutine waits for one), and reports pushes/s; it returns the number
// of pushes.
func RunTablets[T any](b *testing.B, n int, pool chan T, push func(T) error) int64 {
	b.SetParallelism((n + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var pushes atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		t := <-pool
		defer func() { pool <- t }()
		for pb.Next() {
			if err := push(t); err != nil {
				b.Error(err)
				return
			}
			pushes.Add(1)
		}
	})
	b.ReportMetric(float64(pushes.Load())/b.Elapsed().Seconds(), "pushes/s")
	return pushes.Load()
}
