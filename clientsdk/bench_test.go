package clientsdk

// BenchmarkLocalWrite: what one offline write costs the technician — an
// SDK SetAnswer on a real bbolt file with fsync on (bbolt's default, and
// the SDK's) — next to its reference in the same run: raw bbolt doing one
// Update per write of a comparable record plus outbox entry. BENCHMARKS.md
// ("SDK local write") has the command and the figures.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/warranty"
)

// reportLatencies reports the p50 and p99 of per-operation durations, and
// the p50 of the first and the last tenth of the run (the outbox grows by
// one entry per write, all on one report).
func reportLatencies(b *testing.B, d []time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	tenth := max(len(d)/10, 1)
	first, last := slices.Clone(d[:tenth]), slices.Clone(d[len(d)-tenth:])
	slices.Sort(d)
	slices.Sort(first)
	slices.Sort(last)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(first[len(first)/2].Nanoseconds()), "first10%-p50-ns")
	b.ReportMetric(float64(last[len(last)/2].Nanoseconds()), "last10%-p50-ns")
}

func BenchmarkLocalWrite(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		suffix := ""
		if noSync {
			suffix = "-nosync" // diagnostic only: how much of it is the fsync
		}
		// All b.N answers on one report: the overlay a write checks against
		// replays every pending mutation of that report (the worst case).
		b.Run("sdk-SetAnswer-one-report"+suffix, func(b *testing.B) { benchSDKSetAnswer(b, noSync, 0) })
		// A new draft every 16 answers: a technician's day of many reports.
		b.Run("sdk-SetAnswer-16-per-report"+suffix, func(b *testing.B) { benchSDKSetAnswer(b, noSync, 16) })
		b.Run("raw-bbolt"+suffix, func(b *testing.B) { benchRawBolt(b, noSync) })
	}
}

// benchAnswer is the value of write i: a text answer of a realistic size.
func benchAnswer(i int) string {
	return fmt.Sprintf("竖线从左侧起, 屏线松动, 已重新插紧并测试 (%d)", i)
}

// benchSDKSetAnswer: a tablet bootstrapped from the real server, offline,
// answering a text item b.N times: all on one report (perReport 0), or on
// a new draft every perReport answers (its creation is not timed).
func benchSDKSetAnswer(b *testing.B, noSync bool, perReport int) {
	w := newE2EWorld(b)
	c, err := Open(filepath.Join(b.TempDir(), "tablet.db"), Options{Key: testKey, ServerURL: w.srv.URL, DeviceID: "tab-bench", Transport: w.srv.Client(), PollWait: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Login(ctx, e2eTechA, e2ePassword(e2eTechA)); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	report, err := c.CreateReport(w.visit, "tv-v1")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil { // the report is the server's; the outbox is empty
		b.Fatal(err)
	}
	c.db.NoSync = noSync
	created := 0
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if perReport > 0 && i > 0 && i%perReport == 0 {
			b.StopTimer()
			if report, err = c.CreateReport(w.visit, "tv-v1"); err != nil {
				b.Fatal(err)
			}
			created++
			b.StartTimer()
		}
		start := time.Now()
		if err := c.SetAnswer(report, "fault_description", benchAnswer(i)); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	if s, err := c.Status(); err != nil || s.Pending != b.N+created {
		b.Fatalf("status %+v, %v: want %d pending", s, err, b.N+created)
	}
	reportLatencies(b, d)
}

// benchRawBolt: the same write with bbolt alone — one Update that reads
// the report record, sets the answer, writes the record back, and appends
// the mutation to an outbox with its index entry and the seq counter.
func benchRawBolt(b *testing.B, noSync bool) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var (
		records, box, index, meta = []byte("records"), []byte("outbox"), []byte("outbox_by_record"), []byte("meta")
		reportID                  = "01a20965-9e41-707a-88e0-a690ba7288b4"
		recKey                    = []byte("report\x00" + reportID)
	)
	seed := fieldsync.Report{ID: reportID, VisitID: "01a20965-9de2-790f-8dac-bc6062e5befb", TemplateID: "tv-v1", Status: fieldsync.ReportDraft,
		Answers: map[string]json.RawMessage{}, Clocks: map[string]string{}, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(),
		RequiredSlots: []string{"serial_plate", "fault", "packaging", "invoice", "accessories"}}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{records, box, index, meta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		raw, err := json.Marshal(seed)
		if err != nil {
			return err
		}
		return tx.Bucket(records).Put(recKey, raw)
	})
	if err != nil {
		b.Fatal(err)
	}
	db.NoSync = noSync
	clock := syncproto.NewClock("tab-bench", nil)
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		err := db.Update(func(tx *bbolt.Tx) error {
			var r fieldsync.Report
			if err := json.Unmarshal(tx.Bucket(records).Get(recKey), &r); err != nil {
				return err
			}
			value, err := json.Marshal(benchAnswer(i))
			if err != nil {
				return err
			}
			if r.Answers == nil {
				r.Answers = map[string]json.RawMessage{}
			}
			if r.Clocks == nil {
				r.Clocks = map[string]string{}
			}
			stamp := clock.Now().String()
			r.Answers["fault_description"], r.Clocks["answers.fault_description"] = value, stamp
			raw, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := tx.Bucket(records).Put(recKey, raw); err != nil {
				return err
			}
			answers, err := json.Marshal(map[string]json.RawMessage{"fault_description": value})
			if err != nil {
				return err
			}
			seq := uint64(i + 1)
			mut, err := json.Marshal(syncproto.Mutation{Seq: int64(seq), Entity: "report", ID: reportID, Op: syncproto.OpUpsert,
				Fields: map[string]json.RawMessage{"answers": answers}, HLC: stamp})
			if err != nil {
				return err
			}
			k := binary.BigEndian.AppendUint64(nil, seq)
			if err := tx.Bucket(box).Put(k, mut); err != nil {
				return err
			}
			if err := tx.Bucket(index).Put(append(append([]byte(nil), recKey...), k...), nil); err != nil {
				return err
			}
			return tx.Bucket(meta).Put([]byte("next_seq"), []byte(strconv.FormatUint(seq+1, 10)))
		})
		if err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	reportLatencies(b, d)
}

// BenchmarkDecideWarranty: a warranty decision on the tablet, offline,
// as DecideWarranty makes it (the report, visit, ticket and asset read
// from the sealed file, the pulled policy and calendar parsed, then
// warranty.Decide), next to a plain map lookup timed the same way.
func BenchmarkDecideWarranty(b *testing.B) {
	w := newE2EWorld(b)
	ctx := context.Background()
	if err := w.store.PublishReference(ctx, []bolt.Reference{
		{Entity: fieldsync.EntityCalendar, ID: "cn-2026", Data: calendar.DefaultSource()},
		{Entity: fieldsync.EntityWarrantyPolicy, ID: warranty.PolicyID, Data: warranty.DefaultSource()},
	}); err != nil {
		b.Fatal(err)
	}
	c, err := Open(filepath.Join(b.TempDir(), "tablet.db"), Options{Key: testKey, ServerURL: w.srv.URL, DeviceID: "tab-bench", Transport: w.srv.Client(), PollWait: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, e2eTechA, e2ePassword(e2eTechA)); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	report, err := c.CreateReport(w.visit, "tv-v1")
	if err != nil {
		b.Fatal(err)
	}
	quality := fieldsync.ResponsibilityQuality
	if err := c.SetReport(report, ReportFields{Responsibility: &quality}); err != nil {
		b.Fatal(err)
	}
	q := WarrantyQuestion{FailedPart: warranty.PartUnit, Checks: warranty.Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, AccessoriesComplete: true}}
	b.Run("sdk-DecideWarranty", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for b.Loop() {
			start := time.Now()
			if _, err := c.DecideWarranty(report, q); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		reportLatencies(b, d)
	})
	b.Run("map-lookup", func(b *testing.B) {
		periods := warranty.DefaultPolicy().Categories["tv"].Parts
		d := make([]time.Duration, 0, b.N)
		var sink warranty.Period
		for b.Loop() {
			start := time.Now()
			sink = periods[warranty.PartUnit]
			d = append(d, time.Since(start))
		}
		_ = sink
		reportLatencies(b, d)
	})
}
