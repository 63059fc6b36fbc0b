package server

// The sync benchmarks over HTTP (BENCHMARKS.md): the store's sync paths
// (store/bolt's benchmarks, on the same worlds of internal/benchworld)
// through the real server on loopback. They run only with -bench:
//
//	go test -run XXX -bench 'FirstSync|EmptyPull|PushHTTP|SealOverheadHTTP' -benchtime 3s -v -timeout 60m ./server/ ./store/bolt/

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/internal/benchworld"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// benchSyncServer is the real server on loopback over db, with the
// technician under test logged in from a tablet.
type benchSyncServer struct {
	*httptest.Server
	svc     *auth.Service
	token   string
	install string
}

func newBenchSyncServer(b *testing.B, db *bolt.DB, device string) *benchSyncServer {
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
	ts := httptest.NewServer(New(Deps{
		Store: db, Auth: svc, Issuer: issuer, Version: "bench",
		// The production logger writes a JSON line per request; here to
		// nowhere, but the line is still made.
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}))
	b.Cleanup(ts.Close)
	s := &benchSyncServer{Server: ts, svc: svc}
	s.token, s.install = s.login(b, device)
	return s
}

// login signs the technician under test in from device and returns its
// access token and install.
func (s *benchSyncServer) login(b *testing.B, device string) (token, install string) {
	b.Helper()
	sess, err := s.svc.Login(b.Context(), auth.Credentials{Login: benchworld.TechLogin, Password: benchworld.TechPassword, DeviceID: device, DeviceName: "Tablet " + device})
	if err != nil {
		b.Fatal(err)
	}
	return sess.AccessToken, sess.InstallID
}

// do sends a request and decodes the 200 answer into out. The client
// asks for gzip, as Go's transport (and the tablets) do.
func (s *benchSyncServer) do(method, path string, body []byte, out any) error {
	return s.doAs(s.token, method, path, body, out)
}

// doAs is do with another device's access token.
func (s *benchSyncServer) doAs(token, method, path string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
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

// pull is GET /v1/sync/pull, decoded as a device does.
func (s *benchSyncServer) pull(cursor string, limit int) (int, string, bool, error) {
	var resp syncproto.PullResponse
	err := s.do("GET", "/v1/sync/pull?limit="+fmt.Sprint(limit)+"&cursor="+url.QueryEscape(cursor), nil, &resp)
	return len(resp.Changes), resp.Cursor, resp.HasMore, err
}

// BenchmarkFirstSync is store/bolt's BenchmarkFirstSync over HTTP on
// loopback: GET /v1/sync/pull pages of 500 from the 1M world, gzip
// included and every page's JSON decoded, with the store's Pull of the
// same pages as its reference.
func BenchmarkFirstSync(b *testing.B) {
	db, _ := benchworld.Open(b, benchworld.World1M, bolt.SchemaVersion(), bolt.Open)
	b.Run("http", func(b *testing.B) {
		s := newBenchSyncServer(b, db, "bench-tab-1")
		benchworld.TimeFirstSync(b, func() (int, error) {
			n, _, err := benchworld.FirstSync(s.pull)
			return n, err
		})
	})
	b.Run("store", func(b *testing.B) {
		pull := benchworld.StorePull(b.Context(), db, benchworld.OurTech)
		benchworld.TimeFirstSync(b, func() (int, error) {
			n, _, err := benchworld.FirstSync(pull)
			return n, err
		})
	})
}

// BenchmarkEmptyPull is an incremental pull with nothing new over HTTP on
// loopback, at 104,000 and at 1,004,000 records.
func BenchmarkEmptyPull(b *testing.B) {
	benchworld.TimeEmptyPulls(b, "http", func(b *testing.B, w benchworld.World) benchworld.Puller {
		db, _ := benchworld.Open(b, w, bolt.SchemaVersion(), bolt.Open)
		return newBenchSyncServer(b, db, "bench-tab-1").pull
	})
}

// BenchmarkPushHTTP is store/bolt's BenchmarkPush through the real server
// on loopback: 20 POST /v1/sync/push of 500 mutations, a fresh store per
// iteration (fsync on).
func BenchmarkPushHTTP(b *testing.B) {
	var mutations int
	for b.Loop() {
		b.StopTimer()
		db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
		s := newBenchSyncServer(b, db, benchworld.PushDevice)
		var bodies [][]byte
		for _, batch := range benchworld.PushBatches(visits) {
			raw, err := json.Marshal(syncproto.PushRequest{DeviceID: benchworld.PushDevice, InstallID: s.install, Mutations: batch})
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, raw)
		}
		b.StartTimer()
		for _, body := range bodies {
			var resp syncproto.PushResponse
			if err := s.do("POST", pushPath, body, &resp); err != nil {
				b.Fatal(err)
			}
			if len(resp.Results) != benchworld.PushBatch || resp.Results[benchworld.PushBatch-1].Status != syncproto.Applied {
				b.Fatalf("push answered %d results, last %+v", len(resp.Results), resp.Results[len(resp.Results)-1])
			}
			mutations += benchworld.PushBatch
		}
		b.StopTimer()
		s.Close()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(mutations)/b.Elapsed().Seconds(), "mutations/s")
}

// BenchmarkConcurrentPushHTTP is store/bolt's BenchmarkConcurrentPush
// through the real server on loopback: 32 tablets, each logged in with a
// token of its own, POST /v1/sync/push a small batch each, at once; the
// production store shares their transactions. "one-tablet" is the
// reference: the same pushes from one tablet, one after another.
func BenchmarkConcurrentPushHTTP(b *testing.B) {
	const tablets = 32
	for _, n := range []int{1, tablets} {
		name := "one-tablet"
		if n > 1 {
			name = fmt.Sprintf("tablets=%d", n)
		}
		db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
		s := newBenchSyncServer(b, db, benchworld.PushDevice)
		type tablet struct {
			*benchworld.Tablet
			token string
		}
		pool := make(chan tablet, n)
		push := func(t tablet) error { return s.postPush(t.token, t.Tablet, t.Next()) }
		for i := range n {
			t := tablet{Tablet: benchworld.NewTablet(i, visits[i])}
			t.token, t.Install = s.login(b, t.Device)
			if err := push(t); err != nil { // creates its report
				b.Fatal(err)
			}
			pool <- t
		}
		b.Run(name, func(b *testing.B) { benchworld.RunTablets(b, n, pool, push) })
		s.Close()
		db.Close()
	}
}

// BenchmarkSealOverheadHTTP is store/bolt's BenchmarkSealOverhead through
// the real server on loopback: one tablet, then 32 at once, each logged
// in with a device key of its own, POST /v1/sync/push one report made
// and signed on the tablet a push (its answers and its sign action),
// with sealing off (the reference: the store has no seal key, reports
// stay signed) and on (the server's key seals), alternately, each on a
// fresh store. "reports=20" pushes 20 such reports a push. It logs
// sealing's cost: the share of push throughput it takes.
func BenchmarkSealOverheadHTTP(b *testing.B) {
	for _, c := range []struct{ tablets, reports int }{{1, 1}, {32, 1}, {32, 20}} {
		rate := map[bool]float64{}
		for _, on := range []bool{false, true} {
			name := fmt.Sprintf("tablets=%d/sealing=off", c.tablets)
			if on {
				name = fmt.Sprintf("tablets=%d/sealing=on", c.tablets)
			}
			if c.reports > 1 {
				name = fmt.Sprintf("tablets=%d/reports=%d/sealing=%s", c.tablets, c.reports, map[bool]string{false: "off", true: "on"}[on])
			}
			db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
			s := newBenchSyncServer(b, db, benchworld.PushDevice)
			if !on {
				db.SetSealKey(nil, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			}
			tablets := make([]*signedHTTPTablet, c.tablets)
			for i := range tablets {
				_, key, err := ed25519.GenerateKey(rand.Reader)
				if err != nil {
					b.Fatal(err)
				}
				t, err := benchworld.NewSignedTablet(b.Context(), db, i, visits[i], key, c.reports)
				if err != nil {
					b.Fatal(err)
				}
				sess, err := s.svc.Login(b.Context(), auth.Credentials{Login: benchworld.TechLogin, Password: benchworld.TechPassword, DeviceID: t.Device,
					DeviceName: "Tablet " + t.Device, DeviceKey: base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey))})
				if err != nil {
					b.Fatal(err)
				}
				t.Install = sess.InstallID
				tablets[i] = &signedHTTPTablet{SignedTablet: t, token: sess.AccessToken}
			}
			var reports int64
			b.Run(name, func(b *testing.B) {
				n := benchworld.RunEach(b, tablets, func(t *signedHTTPTablet, pushes int) error { return t.Prepare(pushes) }, s.pushSigned)
				reports += n * int64(c.reports)
				rate[on] = float64(n) / b.Elapsed().Seconds()
				b.ReportMetric(float64(n*int64(c.reports))/b.Elapsed().Seconds(), "reports/s")
			})
			if tablets[0].LastReport() == "" { // filtered out
				s.Close()
				db.Close()
				continue
			}
			r, err := db.Report(b.Context(), tablets[0].LastReport())
			if err != nil || r == nil || (r.Status == fieldsync.ReportSealed) != on {
				b.Fatalf("report %s after the run: %+v, %v (sealing on: %v)", tablets[0].LastReport(), r, err, on)
			}
			if on {
				if err := db.ViewLog(b.Context(), func(l translog.Reader) error {
					size, err := l.Size()
					if err == nil && size != reports {
						err = fmt.Errorf("the log holds %d seals after %d signed reports", size, reports)
					}
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			db.Close()
		}
		if rate[false] > 0 && rate[true] > 0 {
			b.Logf("%d tablets, %d reports a push: %.0f pushes/s with sealing, %.0f without: sealing costs %.1f%% of throughput",
				c.tablets, c.reports, rate[true], rate[false], 100*(1-rate[true]/rate[false]))
		}
	}
}

// signedHTTPTablet is a signed tablet logged in over HTTP.
type signedHTTPTablet struct {
	*benchworld.SignedTablet
	token string
}

// pushSigned POSTs the tablet's next signed reports (postPush).
func (s *benchSyncServer) pushSigned(t *signedHTTPTablet) error {
	batch, err := t.NextSigned()
	if err != nil {
		return err
	}
	return s.postPush(t.token, t.Tablet, batch)
}

// postPush POSTs batch from tablet t with token to /v1/sync/push and
// checks that every mutation applied.
func (s *benchSyncServer) postPush(token string, t *benchworld.Tablet, batch []syncproto.Mutation) error {
	raw, err := json.Marshal(t.Request(batch))
	if err != nil {
		return err
	}
	var resp syncproto.PushResponse
	if err := s.doAs(token, "POST", pushPath, raw, &resp); err != nil {
		return err
	}
	if len(resp.Results) != len(batch) {
		return fmt.Errorf("%s: %d results for %d mutations", t.Device, len(resp.Results), len(batch))
	}
	for i, r := range resp.Results {
		if r.Status != syncproto.Applied || r.Seq != batch[i].Seq {
			return fmt.Errorf("%s: result %d is %+v", t.Device, i, r)
		}
	}
	return nil
}
