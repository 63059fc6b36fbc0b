package bolt_test

// Benchmarks of the sync paths, each with its reference in the same run
// (STYLE.md §10); BENCHMARKS.md at the root of the repository has the
// commands and the figures. They build large stores inside the Benchmark
// functions, so plain `go test` runs none of it: only
// TestBenchLoaderMatchesStore, on a world of a few records.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

// --- worlds -----------------------------------------------------------------

// benchWorldVersion names the layout of the cached world files: bump it
// whenever benchWorld or buildBenchWorld changes what they write.
const benchWorldVersion = 1

// benchBase is when the first record of a world was created.
var benchBase = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// benchID is the n-th id of a world: a UUIDv7 whose time is benchBase plus
// n milliseconds, so ids are unique, deterministic and in creation order
// like the server's own.
func benchID(n uint64) string {
	var u uuid.UUID
	ms := uint64(benchBase.UnixMilli()) + n
	binary.BigEndian.PutUint64(u[:8], ms<<16)
	u[6] = 0x70 | byte(n>>56)&0x0f
	u[7] = byte(n >> 48)
	binary.BigEndian.PutUint64(u[8:], n&0x00ffffffffffffff)
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

// benchWorld is a store of many technicians, each with visits whose
// bundles (visit, ticket, customer, site, asset: five records) they see.
// The technician under test has OursVisits visits spread over the whole
// history (created round-robin with everyone else's), the others
// VisitsPerOther each.
type benchWorld struct {
	Name           string
	Others         int // technicians besides the one under test
	VisitsPerOther int
	OursVisits     int
}

var (
	world100k = benchWorld{Name: "100k", Others: 99, VisitsPerOther: 200, OursVisits: 1000}
	world1M   = benchWorld{Name: "1M", Others: 999, VisitsPerOther: 200, OursVisits: 1000}
)

// Records is how many domain records the world holds (templates aside).
func (w benchWorld) Records() int { return 5 * (w.Others*w.VisitsPerOther + w.OursVisits) }

// The technician under test, who can log in over HTTP.
const (
	benchTechLogin    = "bench.tech"
	benchTechPassword = "bench-tech-password"
	benchDispatcherID = "0190f000-0000-7000-8000-0000000000d1"
)

func benchTechID(t int) string { return fmt.Sprintf("0190f000-0000-7000-8000-%012x", 0x100000+t) }

// benchOurTech is the technician under test (technician 0).
var benchOurTech = benchTechID(0)

// benchSink takes the records of a world: bolt.BenchLoader (many per
// transaction) or viaStore (the exported methods).
type benchSink interface {
	Customer(*fieldsync.Customer, fieldsync.Actor) error
	Site(*fieldsync.Site, fieldsync.Actor) error
	Asset(*fieldsync.Asset, fieldsync.Actor) error
	Ticket(*fieldsync.Ticket, fieldsync.Actor) error
	Visit(*fieldsync.Visit, fieldsync.Actor) error
}

// benchBundle writes one visit's bundle, created at n (its first id).
func benchBundle(l benchSink, n uint64, tech string) error {
	at := benchBase.Add(time.Duration(n) * time.Millisecond).Truncate(time.Second)
	disp := fieldsync.Actor{UserID: benchDispatcherID, DeviceID: "disp-web"}
	c := &fieldsync.Customer{ID: benchID(n), Name: fmt.Sprintf("刘女士 %d", n), Phone: fmt.Sprintf("138 %04d %04d", n/10000%10000, n%10000), CreatedAt: at}
	s := &fieldsync.Site{ID: benchID(n + 1), CustomerID: c.ID, Address: fmt.Sprintf("上海市浦东新区世纪大道%d号%d室", n%1000, n%97+101), Zone: fieldsync.ZoneCity, CreatedAt: at}
	a := &fieldsync.Asset{ID: benchID(n + 2), CustomerID: c.ID, Category: fieldsync.CategoryTV, Model: "65E7K", Serial: fmt.Sprintf("SN%012d", n),
		Seller: "苏宁易购浦东店", InvoiceDate: "2026-01-15", CreatedAt: at}
	t := &fieldsync.Ticket{ID: benchID(n + 3), CustomerID: c.ID, SiteID: s.ID, AssetID: a.ID, Channel: fieldsync.ChannelHotline, Kind: fieldsync.KindRepair,
		Description: "屏幕有竖线，开机约十分钟后出现，重启无效", CreatedAt: at, FirstResponseDue: at.Add(24 * time.Hour)}
	start := at.Add(26 * time.Hour)
	v := &fieldsync.Visit{ID: benchID(n + 4), TicketID: t.ID, TechnicianID: tech, WindowStart: start, WindowEnd: start.Add(2 * time.Hour),
		Status: fieldsync.VisitScheduled, Due: at.Add(48 * time.Hour), CreatedAt: at, UpdatedAt: at}
	for _, err := range []func() error{
		func() error { return l.Customer(c, disp) },
		func() error { return l.Site(s, disp) },
		func() error { return l.Asset(a, disp) },
		func() error { return l.Ticket(t, disp) },
		func() error { return l.Visit(v, disp) },
	} {
		if err := err(); err != nil {
			return err
		}
	}
	return nil
}

// benchUsers creates the dispatcher and the technicians; the one under
// test gets a password so that it can log in over HTTP.
func benchUsers(ctx context.Context, db *bolt.DB, others int) error {
	if err := db.CreateUser(ctx, fieldsync.User{ID: benchDispatcherID, Login: "bench.disp", Role: fieldsync.RoleDispatcher, CreatedAt: benchBase}); err != nil {
		return err
	}
	hash, err := auth.HashPassword(benchTechPassword, auth.DefaultArgon2)
	if err != nil {
		return err
	}
	for t := 0; t <= others; t++ {
		u := fieldsync.User{ID: benchTechID(t), Login: fmt.Sprintf("bench.tech%d", t), Role: fieldsync.RoleTechnician, CreatedAt: benchBase}
		if t == 0 {
			u.Login, u.PasswordHash = benchTechLogin, hash
		}
		if err := db.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// buildBenchWorld writes w into a new store at path, 2,000 bundles
// (10,000 records) per transaction with fsync off, through the store's
// own record, audit and feed code.
func buildBenchWorld(tb testing.TB, w benchWorld, path string) {
	start := time.Now()
	ctx := context.Background()
	db, err := bolt.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.BenchSetNoSync(true); err != nil {
		tb.Fatal(err)
	}
	if err := db.PublishTemplates(ctx, templates.All()); err != nil {
		tb.Fatal(err)
	}
	if err := benchUsers(ctx, db, w.Others); err != nil {
		tb.Fatal(err)
	}
	// Round r gives every other technician one visit and ours
	// OursVisits/VisitsPerOther, so ours are spread over the whole feed.
	var jobs []string // the technician of each visit, in creation order
	oursPerRound := w.OursVisits / w.VisitsPerOther
	for r := 0; r < w.VisitsPerOther; r++ {
		for i := 0; i < oursPerRound; i++ {
			jobs = append(jobs, benchOurTech)
		}
		for t := 1; t <= w.Others; t++ {
			jobs = append(jobs, benchTechID(t))
		}
	}
	const perTx = 2000
	for i := 0; i < len(jobs); i += perTx {
		err := db.BenchLoad(func(l bolt.BenchLoader) error {
			for j := i; j < min(i+perTx, len(jobs)); j++ {
				if err := benchBundle(l, uint64(j)*5, jobs[j]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.BenchSetNoSync(false); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built world %s (%d records) in %s", w.Name, w.Records(), time.Since(start).Round(time.Second))
}

// openBenchWorld returns a fresh copy of world w, opened with Open. The
// world is built once and cached in os.TempDir(), named by the schema
// version and benchWorldVersion, so repeated runs only copy it.
func openBenchWorld(b *testing.B, w benchWorld) (*bolt.DB, string) {
	b.Helper()
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("fieldsync-bench-world-%s-schema%d-v%d.db", w.Name, bolt.SchemaVersion(), benchWorldVersion))
	if _, err := os.Stat(cache); err != nil {
		tmp := cache + ".building"
		os.Remove(tmp)
		buildBenchWorld(b, w, tmp)
		if err := os.Rename(tmp, cache); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	path := filepath.Join(b.TempDir(), "fieldsync.db")
	if err := copyFile(cache, path); err != nil {
		b.Fatal(err)
	}
	db, err := bolt.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if fi, err := os.Stat(path); err == nil {
		b.Logf("world %s: %d records, file %d MiB, copied and opened in %s", w.Name, w.Records(), fi.Size()>>20, time.Since(start).Round(time.Millisecond))
	}
	return db, cache
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// --- HTTP -------------------------------------------------------------------

// benchServer is the real server on loopback over db, with the technician
// under test logged in from a tablet.
type benchServer struct {
	*httptest.Server
	token string
}

func newBenchServer(b *testing.B, db *bolt.DB, login, password, device string) *benchServer {
	b.Helper()
	k, err := auth.NewKey(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	keys, err := auth.NewKeySet(k)
	if err != nil {
		b.Fatal(err)
	}
	issuer := auth.NewIssuer(keys)
	svc := auth.NewService(db, issuer, nil)
	srv := server.New(server.Deps{
		Store: db, Auth: svc, Issuer: issuer, Version: "bench",
		// The production logger writes a JSON line per request; here to
		// nowhere, but the line is still made.
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	sess, err := svc.Login(b.Context(), auth.Credentials{Login: login, Password: password, DeviceID: device, DeviceName: "Tablet " + device})
	if err != nil {
		b.Fatal(err)
	}
	return &benchServer{Server: ts, token: sess.AccessToken}
}

// do sends a request and decodes the 200 answer into out. The client
// asks for gzip, as Go's transport (and the tablets) do.
func (s *benchServer) do(method, path string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set(syncproto.Header, "1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.Client().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

func (s *benchServer) pull(cursor string, limit int) (*syncproto.PullResponse, error) {
	var resp syncproto.PullResponse
	err := s.do("GET", "/v1/sync/pull?limit="+fmt.Sprint(limit)+"&cursor="+url.QueryEscape(cursor), nil, &resp)
	return &resp, err
}

// --- pull -------------------------------------------------------------------

// firstSync pulls from no cursor until has_more is false, pages of 500,
// and returns how many changes came and the final cursor.
func firstSync(ctx context.Context, db *bolt.DB, parts []string) (int, string, error) {
	n, cursor := 0, ""
	for {
		changes, next, more, err := db.Pull(ctx, parts, cursor, 500)
		if err != nil {
			return 0, "", err
		}
		n, cursor = n+len(changes), next
		if !more {
			return n, cursor, nil
		}
	}
}

func firstSyncHTTP(s *benchServer) (int, string, error) {
	n, cursor := 0, ""
	for {
		resp, err := s.pull(cursor, 500)
		if err != nil {
			return 0, "", err
		}
		n, cursor = n+len(resp.Changes), resp.Cursor
		if !resp.HasMore {
			return n, cursor, nil
		}
	}
}

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
				out = append(out, syncproto.Change{Entity: e.Entity, ID: e.ID, Op: "upsert", Data: append(json.RawMessage(nil), raw...)})
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
// through the store's Pull, over HTTP on loopback, and the raw bbolt
// reference reading the same entries and records. The first run builds
// and caches the world (several minutes).
func BenchmarkFirstSync(b *testing.B) {
	db, cache := openBenchWorld(b, world1M)
	parts := syncproto.PartitionsFor(benchOurTech, fieldsync.RoleTechnician)
	want := 5*world1M.OursVisits + len(templates.All())
	check := func(b *testing.B, n int) {
		if n != want {
			b.Fatalf("first sync brought %d changes, want %d", n, want)
		}
	}
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			n, _, err := firstSync(b.Context(), db, parts)
			if err != nil {
				b.Fatal(err)
			}
			check(b, n)
		}
		b.ReportMetric(float64(want), "changes/op")
	})
	b.Run("http", func(b *testing.B) {
		s := newBenchServer(b, db, benchTechLogin, benchTechPassword, "bench-tab-1")
		for b.Loop() {
			n, _, err := firstSyncHTTP(s)
			if err != nil {
				b.Fatal(err)
			}
			check(b, n)
		}
		b.ReportMetric(float64(want), "changes/op")
	})
	b.Run("rawbolt", func(b *testing.B) {
		// The cached world itself, read-only: the store holds its copy.
		raw, err := bbolt.Open(cache, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		for b.Loop() {
			n, err := rawFirstSync(raw, benchOurTech)
			if err != nil {
				b.Fatal(err)
			}
			check(b, n)
		}
		b.ReportMetric(float64(want), "changes/op")
	})
}

// percentiles reports the p50 and p99 of the durations of each operation.
func percentiles(b *testing.B, d []time.Duration) time.Duration {
	slices.Sort(d)
	p50, p99 := d[len(d)/2], d[len(d)*99/100]
	b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
	return p50
}

// BenchmarkEmptyPull is an incremental pull with nothing new (the cursor
// at the head of the technician's feed) at 104,000 and at 1,004,000
// records, through the store and over HTTP, with the p50 and p99 of the
// operations. The 100k figure is the reference of the 1M one.
func BenchmarkEmptyPull(b *testing.B) {
	p50 := map[string]time.Duration{}
	for _, w := range []benchWorld{world100k, world1M} {
		b.Run(w.Name, func(b *testing.B) {
			db, _ := openBenchWorld(b, w)
			parts := syncproto.PartitionsFor(benchOurTech, fieldsync.RoleTechnician)
			_, head, err := firstSync(b.Context(), db, parts)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("store", func(b *testing.B) {
				var d []time.Duration
				for b.Loop() {
					start := time.Now()
					changes, _, more, err := db.Pull(b.Context(), parts, head, 500)
					d = append(d, time.Since(start))
					if err != nil || len(changes) != 0 || more {
						b.Fatalf("empty pull: %d changes, more %v, %v", len(changes), more, err)
					}
				}
				p50[w.Name+"/store"] = percentiles(b, d)
			})
			b.Run("http", func(b *testing.B) {
				s := newBenchServer(b, db, benchTechLogin, benchTechPassword, "bench-tab-1")
				var d []time.Duration
				for b.Loop() {
					start := time.Now()
					resp, err := s.pull(head, 500)
					d = append(d, time.Since(start))
					if err != nil || len(resp.Changes) != 0 || resp.HasMore {
						b.Fatalf("empty pull: %+v, %v", resp, err)
					}
				}
				p50[w.Name+"/http"] = percentiles(b, d)
			})
		})
	}
	for _, via := range []string{"store", "http"} {
		if a, z := p50["100k/"+via], p50["1M/"+via]; a > 0 && z > 0 {
			b.Logf("empty pull via %s: p50 %s at 100k, %s at 1M: 1M/100k = %.2f", via, a, z, float64(z)/float64(a))
		}
	}
}

// --- push -------------------------------------------------------------------

const (
	benchPushMutations = 10000
	benchPushBatch     = 500
	benchPushReports   = 1000 // ten upserts each
	benchPushDevice    = "bench-tab-1"
)

// benchAnswerSteps are the ten upserts of one report's draft, as a
// technician fills the TV checklist on site: a few answers at a time.
var benchAnswerSteps = []map[string]any{
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

// benchPushBatches are the 10,000 mutations of one device in push
// requests of 500: a report per visit of visits (in order), each created
// and then filled in ten upserts.
func benchPushBatches(visits []string) [][]syncproto.Mutation {
	clock := syncproto.NewClock(benchPushDevice, nil)
	var all []syncproto.Mutation
	for r := 0; r < benchPushReports; r++ {
		id := benchID(1<<40 + uint64(r))
		for step, answers := range benchAnswerSteps {
			fields := map[string]any{"answers": answers}
			if step == 0 {
				fields["visit_id"], fields["template_id"] = visits[r%len(visits)], "tv-v1"
			}
			if step == len(benchAnswerSteps)-1 {
				fields["findings"] = "屏线接口氧化，重新插拔后竖线消失，建议更换屏线"
			}
			m := syncproto.Mutation{Seq: int64(len(all) + 1), Entity: "report", ID: id, Op: syncproto.OpUpsert, HLC: clock.Now().String(), Fields: map[string]json.RawMessage{}}
			for k, v := range fields {
				m.Fields[k], _ = json.Marshal(v)
			}
			all = append(all, m)
		}
	}
	var batches [][]syncproto.Mutation
	for i := 0; i < len(all); i += benchPushBatch {
		batches = append(batches, all[i:i+benchPushBatch])
	}
	return batches
}

// newPushStore is a fresh store (fsync on) with the templates, a
// technician who can log in, and benchPushReports of their visits
// (5,000 records) for the reports to belong to.
func newPushStore(tb testing.TB, dir string) (*bolt.DB, []string) {
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.PublishTemplates(ctx, templates.All()); err != nil {
		tb.Fatal(err)
	}
	if err := benchUsers(ctx, db, 0); err != nil {
		tb.Fatal(err)
	}
	var visits []string
	err = db.BenchLoad(func(l bolt.BenchLoader) error {
		for v := 0; v < benchPushReports; v++ {
			if err := benchBundle(l, uint64(v)*5, benchOurTech); err != nil {
				return err
			}
			visits = append(visits, benchID(uint64(v)*5+4))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return db, visits
}

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

var benchPrincipal = syncproto.Principal{UserID: benchOurTech, Role: fieldsync.RoleTechnician, Device: benchPushDevice}

// BenchmarkPush pushes 10,000 report-draft mutations in batches of 500
// through syncproto.Engine.Push over the real store (fsync on), a fresh
// store per iteration; BenchmarkPushRawBolt is its reference.
func BenchmarkPush(b *testing.B) {
	var mutations int
	for b.Loop() {
		b.StopTimer()
		db, visits := newPushStore(b, b.TempDir())
		batches := benchPushBatches(visits)
		engine := benchEngine(db)
		b.StartTimer()
		for _, batch := range batches {
			resp, err := engine.Push(b.Context(), benchPrincipal, syncproto.PushRequest{DeviceID: benchPushDevice, Mutations: batch})
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

// BenchmarkPushHTTP is BenchmarkPush through the real server on loopback:
// 20 POST /v1/sync/push of 500 mutations.
func BenchmarkPushHTTP(b *testing.B) {
	var mutations int
	for b.Loop() {
		b.StopTimer()
		db, visits := newPushStore(b, b.TempDir())
		var bodies [][]byte
		for _, batch := range benchPushBatches(visits) {
			raw, err := json.Marshal(syncproto.PushRequest{DeviceID: benchPushDevice, Mutations: batch})
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, raw)
		}
		s := newBenchServer(b, db, benchTechLogin, benchTechPassword, benchPushDevice)
		b.StartTimer()
		for _, body := range bodies {
			var resp syncproto.PushResponse
			if err := s.do("POST", "/v1/sync/push", body, &resp); err != nil {
				b.Fatal(err)
			}
			if len(resp.Results) != benchPushBatch || resp.Results[benchPushBatch-1].Status != syncproto.Applied {
				b.Fatalf("push answered %d results, last %+v", len(resp.Results), resp.Results[len(resp.Results)-1])
			}
			mutations += benchPushBatch
		}
		b.StopTimer()
		s.Close()
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
		db, visits := newPushStore(b, b.TempDir())
		defer db.Close()
		engine := benchEngine(captureStore{db, &benchReports})
		for _, batch := range benchPushBatches(visits) {
			resp, err := engine.Push(b.Context(), benchPrincipal, syncproto.PushRequest{DeviceID: benchPushDevice, Mutations: batch})
			if err == nil {
				err = checkApplied(resp, batch)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	if len(benchReports) != benchPushMutations {
		b.Fatalf("captured %d reports, want %d", len(benchReports), benchPushMutations)
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
		for i := 0; i < len(benchReports); i += benchPushBatch {
			err := raw.Update(func(tx *bbolt.Tx) error {
				rb := tx.Bucket(bucket)
				for _, kv := range benchReports[i : i+benchPushBatch] {
					if err := rb.Put(kv.k, kv.v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			mutations += benchPushBatch
		}
		b.StopTimer()
		raw.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(mutations)/b.Elapsed().Seconds(), "mutations/s")
	b.ReportMetric(float64(size)/float64(len(benchReports)), "B/record")
}

// --- the loader is the store ------------------------------------------------

// TestBenchLoaderMatchesStore checks that the benchmarks' bulk loader
// writes what the exported Create* methods write: the same records,
// indexes, feed, feed positions, revisions and audit entries (but for
// their random ids), so the benchmarks measure the feed production writes.
func TestBenchLoaderMatchesStore(t *testing.T) {
	ctx := t.Context()
	build := func(bulk bool) *bolt.DB {
		db := dbOpen(t, dbPath(t))
		must(t, db.PublishTemplates(ctx, templates.All()))
		must(t, benchUsers(ctx, db, 2))
		techs := []string{benchOurTech, benchTechID(1), benchTechID(2), benchOurTech, benchTechID(1)}
		if bulk {
			must(t, db.BenchLoad(func(l bolt.BenchLoader) error {
				for i, tech := range techs {
					if err := benchBundle(l, uint64(i)*5, tech); err != nil {
						return err
					}
				}
				return nil
			}))
			return db
		}
		for i, tech := range techs {
			must(t, benchBundle(viaStore{ctx, db}, uint64(i)*5, tech))
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
	for _, tech := range []string{benchOurTech, benchTechID(1), benchTechID(2)} {
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
	must(t, db.BenchDump(bucket, func(k, v []byte) error {
		ks, vs := fmt.Sprintf("%q", k), string(v)
		if fn != nil {
			ks, vs = fn(k, v)
		}
		fmt.Fprintf(&sb, "%s=%s\n", ks, vs)
		return nil
	}))
	return sb.String()
}
