package benchworld

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

// The push workload: one device's day.
const (
	PushMutations = 10000
	PushBatch     = 500
	PushReports   = 1000 // ten upserts each
	PushDevice    = "bench-tab-1"
)

// answerSteps are the ten upserts of one report's draft, as a technician
// fills the TV checklist on site: a few answers at a time.
var answerSteps = []map[string]any{
	{"power_on": true, "packaging_intact": true},
	{"unboxing_screen_broken": false},
	{"picture_fault": "lines"},
	{"sound_fault": "none", "panel_size": 65},
	{"exterior": "intact"},
	{"remote_works": true, "signal_source_ok": true},
	{"accessories_complete": true},
	{"installation": "wall_mount"},
	{"picture_fault": "lines", "power_on": true},
	{"fault_description": "开机约十分钟后屏幕右侧出现竖线，敲击边框时闪烁，判断屏线松动"},
}

// PushBatches are the PushMutations mutations of one device in push
// requests of PushBatch: a report per visit of visits (in order), each
// created and then filled in ten upserts.
func PushBatches(visits []string) [][]syncproto.Mutation {
	clock := syncproto.NewClock(PushDevice, nil)
	var all []syncproto.Mutation
	for r := 0; r < PushReports; r++ {
		id := ID(1<<40 + uint64(r))
		for step, answers := range answerSteps {
			fields := map[string]any{"answers": answers}
			if step == 0 {
				fields["visit_id"], fields["template_id"] = visits[r%len(visits)], "tv-v1"
			}
			if step == len(answerSteps)-1 {
				fields["findings"] = "屏线接口氧化，重新插拔后竖线消失，建议更换屏线"
			}
			m := syncproto.Mutation{Seq: int64(len(all) + 1), Entity: fieldsync.EntityReport, ID: id, Op: syncproto.OpUpsert, HLC: clock.Now().String(), Fields: map[string]json.RawMessage{}}
			for k, v := range fields {
				m.Fields[k], _ = json.Marshal(v)
			}
			all = append(all, m)
		}
	}
	var batches [][]syncproto.Mutation
	for i := 0; i < len(all); i += PushBatch {
		batches = append(batches, all[i:i+PushBatch])
	}
	return batches
}

// PushStore opens a fresh store in dir with open (fsync on), with the
// templates, the technician under test and PushReports of their visits
// (5,000 records) for the reports to belong to. It returns the store,
// which the caller closes, and the visits' ids.
func PushStore[S Store[L], L Sink](tb testing.TB, dir string, open func(path string) (S, error)) (S, []string) {
	ctx := context.Background()
	db, err := open(filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.PublishTemplates(ctx, templates.All()); err != nil {
		tb.Fatal(err)
	}
	if err := CreateUsers(ctx, db, 0); err != nil {
		tb.Fatal(err)
	}
	var visits []string
	err = db.Load(func(l L) error {
		for v := 0; v < PushReports; v++ {
			if err := Bundle(l, uint64(v)*5, OurTech); err != nil {
				return err
			}
			visits = append(visits, ID(uint64(v)*5+4))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return db, visits
}
