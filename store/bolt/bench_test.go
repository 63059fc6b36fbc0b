package bolt_test

// Benchmarks of the store's sync paths, each with its reference in the
// same run (STYLE.md §10): raw bbolt doing the same reads or writes.
// The same paths over HTTP are the server's benchmarks (server/); both
// read the worlds of internal/benchworld. BENCHMARKS.md at the root of the
// repository has the commands and the figures. They build large stores
// inside the Benchmark functions, so plain `go test` runs none of it: only
// TestLoadWritesWhatCreateWrites, on a world of a few records.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/benchworld"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

// --- pull -------------------------------------------------------------------

// rawFirstSync is the reference of a first sync: bbolt itself reading the
// same feed entries and records, in one read transaction, with none of
// the store's paging, merging of partitions or cursors.
func rawFirstSync(db *bbolt.DB, tech string) (int, error) {
	n := 0
	err := db.View(func(tx *bbolt.Tx) error {
		buckets := map[string]*bbolt.Bucket{}
		for _, e := range []string{"customer", "site", "asset", "ticket", "visit", "report", "template"} {
			buckets[e] = tx.Bucket([]byte(e + "s"))
		}
		feed := tx.Bucket([]byte("feed"))
		var out []syncproto.Change
		for _, part := range []string{"u:" + tech, "shared"} {
			prefix := append([]byte(part), 0)
			c := feed.Cursor()
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				var e struct {
					Entity string `json:"e"`
					ID     string `json:"i"`
				}
				if err := json.Unmarshal(v, &e); err != nil {
					return err
				}
				raw := buckets[e.Entity].Get([]byte(e.ID))
				out = append(out, syncproto.Change{Entity: fieldsync.Entity(e.Entity), ID: e.ID, Op: "upsert", Data: append(json.RawMessage(nil), raw...)})
			}
		}
		n = len(out)
		return nil
	})
	return n, err
}

// BenchmarkFirstSync is a technician's first sync (no cursor, pages of
// 500 until has_more is false) of their 5,000 records (and the 4
// templates) from a store of 1,004,000 records of 1,000 technicians:
// through the store's Pull, and the raw bbolt reference reading the same
// entries and records. The first run builds and caches the world (several
// minutes).
func BenchmarkFirstSync(b *testing.B) {
	db, cache := benchworld.Open(b, benchworld.World1M, bolt.SchemaVersion(), bolt.Open)
	b.Run("store", func(b *testing.B) {
		pull := benchworld.StorePull(b.Context(), db, benchworld.OurTech)
		benchworld.TimeFirstSync(b, func() (int, error) {
			n, _, err := benchworld.FirstSync(pull)
			return n, err
		})
	})
	b.Run("rawbolt", func(b *testing.B) {
		// The cached world itself, read-only: the store holds its copy.
		raw, err := bbolt.Open(cache, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		benchworld.TimeFirstSync(b, func() (int, error) { return rawFirstSync(raw, benchworld.OurTech) })
	})
}

// BenchmarkEmptyPull is an incremental pull with nothing new through the
// store's Pull, at 104,000 and at 1,004,000 records.
func BenchmarkEmptyPull(b *testing.B) {
	benchworld.TimeEmptyPulls(b, "store", func(b *testing.B, w benchworld.World) benchworld.Puller {
		db, _ := benchworld.Open(b, w, bolt.SchemaVersion(), bolt.Open)
		return benchworld.StorePull(b.Context(), db, benchworld.OurTech)
	})
}

// --- push -------------------------------------------------------------------

func benchEngine(store syncproto.Store) *syncproto.Engine {
	tpls := templates.All()
	return &syncproto.Engine{Store: store, Now: func() time.Time { return time.Now().Truncate(time.Second) }, Templates: func(id string) (fieldsync.Template, bool) {
		for _, t := range tpls {
			if t.ID == id {
				return t, true
			}
		}
		return fieldsync.Template{}, false
	}}
}

func checkApplied(resp *syncproto.PushResponse, batch []syncproto.Mutation) error {
	if len(resp.Results) != len(batch) {
		return fmt.Errorf("%d results for %d mutations", len(resp.Results), len(batch))
	}
	for _, r := range resp.Results {
		if r.Status != syncproto.Applied {
			return fmt.Errorf("seq %d: %s %s %s", r.Seq, r.Status, r.Code, r.Detail)
		}
	}
	return nil
}

var benchPrincipal = syncproto.Principal{UserID: benchworld.OurTech, Role: fieldsync.RoleTechnician, Device: benchworld.PushDevice, Install: benchworld.PushDevice}

// BenchmarkPush pushes 10,000 report-draft mutations in batches of 500
// through syncproto.Engine.Push over the real store (fsync on), a fresh
// store per iteration; BenchmarkPushRawBolt is its reference.
func BenchmarkPush(b *testing.B) {
	var mutations int
	for b.Loop() {
		b.StopTimer()
		db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
		batches := benchworld.PushBatches(visits)
		engine := benchEngine(db)
		b.StartTimer()
		for _, batch := range batches {
			resp, err := engine.Push(b.Context(), benchPrincipal, syncproto.PushRequest{DeviceID: benchworld.PushDevice, InstallID: benchworld.PushDevice, Mutations: batch})
			if err != nil {
				b.Fatal(err)
			}
			if err := checkApplied(resp, batch); err != nil {
				b.Fatal(err)
			}
			mutations += len(batch)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(mutations)/b.Elapsed().Seconds(), "mutations/s")
}

// captureStore records the JSON of every report a push stores, in order.
type captureStore struct {
	syncproto.Store
	out *[]benchKV
}

type benchKV struct{ k, v []byte }

func (c captureStore) Push(ctx context.Context, fn func(syncproto.Txn) error) error {
	return c.Store.Push(ctx, func(tx syncproto.Txn) error { return fn(captureTxn{tx, c.out}) })
}

type captureTxn struct {
	syncproto.Txn
	out *[]benchKV
}

func (t captureTxn) PutReport(r *fieldsync.Report, created bool, visit *fieldsync.Visit, changes map[string]json.RawMessage, actor fieldsync.Actor, action string, now time.Time) (int64, error) {
	raw, err := json.Marshal(r) // what the store's put writes
	if err != nil {
		return 0, err
	}
	*t.out = append(*t.out, benchKV{[]byte(r.ID), raw})
	return t.Txn.PutReport(r, created, visit, changes, actor, action, now)
}

var (
	benchReportsOnce sync.Once
	benchReports     []benchKV
)

// BenchmarkPushRawBolt is the reference of BenchmarkPush: bbolt itself
// (a fresh file per iteration, fsync on) writing the same report JSON,
// keyed by id, 500 per Update. The records are those the engine stored
// in a first, untimed push of the same mutations.
func BenchmarkPushRawBolt(b *testing.B) {
	benchReportsOnce.Do(func() {
		db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
		defer db.Close()
		engine := benchEngine(captureStore{db, &benchReports})
		for _, batch := range benchworld.PushBatches(visits) {
			resp, err := engine.Push(b.Context(), benchPrincipal, syncproto.PushRequest{DeviceID: benchworld.PushDevice, InstallID: benchworld.PushDevice, Mutations: batch})
			if err == nil {
				err = checkApplied(resp, batch)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	if len(benchReports) != benchworld.PushMutations {
		b.Fatalf("captured %d reports, want %d", len(benchReports), benchworld.PushMutations)
	}
	size := 0
	for _, kv := range benchReports {
		size += len(kv.v)
	}
	bucket := []byte("reports")
	var mutations int
	for b.Loop() {
		b.StopTimer()
		raw, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if err := raw.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(benchReports); i += benchworld.PushBatch {
			err := raw.Update(func(tx *bbolt.Tx) error {
				rb := tx.Bucket(bucket)
				for _, kv := range benchReports[i : i+benchworld.PushBatch] {
					if err := rb.Put(kv.k, kv.v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			mutations += benchworld.PushBatch
		}
		b.StopTimer()
		raw.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(mutations)/b.Elapsed().Seconds(), "mutations/s")
	b.ReportMetric(float64(size)/float64(len(benchReports)), "B/record")
}

// --- the loader is the store ------------------------------------------------

// TestLoadWritesWhatCreateWrites checks that the bulk loader the
// benchmarks' worlds are written with writes what the Create* methods
// write: the same records, indexes, feed, feed positions, revisions and
// audit entries (but for their random ids), so the benchmarks measure the
// feed production writes.
func TestLoadWritesWhatCreateWrites(t *testing.T) {
	ctx := t.Context()
	build := func(bulk bool) *bolt.DB {
		db := dbOpen(t, dbPath(t))
		must(t, db.PublishTemplates(ctx, templates.All()))
		must(t, benchworld.CreateUsers(ctx, db, 2))
		techs := []string{benchworld.OurTech, benchworld.TechID(1), benchworld.TechID(2), benchworld.OurTech, benchworld.TechID(1)}
		if bulk {
			must(t, db.Load(func(l bolt.Loader) error {
				for i, tech := range techs {
					if err := benchworld.Bundle(l, uint64(i)*5, tech); err != nil {
						return err
					}
				}
				return nil
			}))
			return db
		}
		for i, tech := range techs {
			must(t, benchworld.Bundle(viaStore{ctx, db}, uint64(i)*5, tech))
		}
		return db
	}
	want, got := build(false), build(true)
	for _, bucket := range []string{"customers", "sites", "assets", "tickets", "visits", "reports", "templates",
		"idx_visits_tech", "idx_visits_ticket", "idx_reports_visit", "idx_customers_user", "idx_tickets_customer",
		"feed", "feed_pos", "revs", "tombstones"} {
		if w, g := dumpBucket(t, want, bucket, templateTime), dumpBucket(t, got, bucket, templateTime); w != g {
			t.Errorf("bucket %s differs:\nexported: %s\nloader:   %s", bucket, w, g)
		}
	}
	// Audit entries: all but their (random) ids.
	noID := func(k, v []byte) (string, string) {
		var e fieldsync.AuditEntry
		must(t, json.Unmarshal(v, &e))
		e.ID = ""
		raw, _ := json.Marshal(e)
		return "", string(raw)
	}
	if w, g := dumpBucket(t, want, "audit", noID), dumpBucket(t, got, "audit", noID); w != g {
		t.Errorf("audit differs:\nexported: %s\nloader:   %s", w, g)
	}
	for _, tech := range []string{benchworld.OurTech, benchworld.TechID(1), benchworld.TechID(2)} {
		parts := syncproto.PartitionsFor(tech, fieldsync.RoleTechnician)
		wc, _, _, err := want.Pull(ctx, parts, "", 1000)
		must(t, err)
		gc, _, _, err := got.Pull(ctx, parts, "", 1000)
		must(t, err)
		if w, g := fmt.Sprint(wc), fmt.Sprint(gc); w != g || len(gc) == 0 {
			t.Errorf("pull of %s differs:\nexported: %s\nloader:   %s", tech, w, g)
		}
	}
}

// viaStore writes bundles through the exported Create* methods, one
// transaction each.
type viaStore struct {
	ctx context.Context
	db  *bolt.DB
}

func (s viaStore) Customer(c *fieldsync.Customer, a fieldsync.Actor) error {
	return s.db.CreateCustomer(s.ctx, c, a)
}
func (s viaStore) Site(x *fieldsync.Site, a fieldsync.Actor) error {
	return s.db.CreateSite(s.ctx, x, a)
}
func (s viaStore) Asset(x *fieldsync.Asset, a fieldsync.Actor) error {
	return s.db.CreateAsset(s.ctx, x, a)
}
func (s viaStore) Ticket(x *fieldsync.Ticket, a fieldsync.Actor) error {
	return s.db.CreateTicket(s.ctx, x, a)
}
func (s viaStore) Visit(x *fieldsync.Visit, a fieldsync.Actor) error {
	return bookVisit(s.ctx, s.db, x, a)
}

// templateTime drops the time of templates' feed entries: PublishTemplates
// stamps them with the wall clock.
func templateTime(k, v []byte) (string, string) {
	ks, vs := fmt.Sprintf("%q", k), string(v)
	if strings.Contains(vs, `"e":"template"`) {
		vs, _, _ = strings.Cut(vs, `"t":`)
	}
	return ks, vs
}

func dumpBucket(t *testing.T, db *bolt.DB, bucket string, fn func(k, v []byte) (string, string)) string {
	t.Helper()
	var sb strings.Builder
	must(t, db.Dump(bucket, func(k, v []byte) error {
		ks, vs := fmt.Sprintf("%q", k), string(v)
		if fn != nil {
			ks, vs = fn(k, v)
		}
		fmt.Fprintf(&sb, "%s=%s\n", ks, vs)
		return nil
	}))
	return sb.String()
}
