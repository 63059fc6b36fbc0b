package clientsdk

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
)

// slipNos returns the slip numbers of the reports on c, by report id,
// failing on one that does not parse.
func slipNos(t *testing.T, c *Client) map[string]fieldsync.SlipNo {
	t.Helper()
	out := map[string]fieldsync.SlipNo{}
	must(t, c.view(func(rd *reader) error {
		rs, err := rd.reports()
		for _, r := range rs {
			n, err := fieldsync.ParseSlipNo(r.SlipNo)
			if err != nil {
				return fmt.Errorf("report %s: %w", r.ID, err)
			}
			out[r.ID] = n
		}
		return err
	}))
	return out
}

// Tablets numbering reports offline never issue one number twice: each
// install numbers with the prefix its login answered and a counter of its
// own, and the server takes every number as the tablet issued it. A
// later login keeps the prefix and the counter goes on.
func TestE2ESlipNumbersNeverCollideAcrossTablets(t *testing.T) {
	w := newE2EWorld(t)
	visitB := w.newVisit(w.intake(), w.techB)
	tabs := []*tablet{w.tablet(t, "tab-1"), w.tablet(t, "tab-2"), w.tablet(t, "tab-1")} // the third: tech.b on a tablet of the same id
	logins := []string{e2eTechA, e2eTechA, e2eTechB}
	visits := []string{w.visit, w.visit, visitB}
	prefixes := map[string]bool{}
	for i, tb := range tabs {
		tb.login(t, logins[i])
		tb.sync(t)
		p, err := tb.c.SlipPrefix()
		must(t, err)
		if !fieldsync.ValidSlipPrefix(p) || prefixes[p] {
			t.Fatalf("tablet %d got slip prefix %q (others: %v)", i, p, prefixes)
		}
		prefixes[p] = true
	}

	const each = 4
	for _, tb := range tabs {
		tb.offline(true)
	}
	for round := 0; round < each; round++ {
		for i, tb := range tabs {
			_, err := tb.c.CreateReport(visits[i], "tv-v1")
			must(t, err)
		}
	}
	issued := map[string]string{} // slip number -> report
	for i, tb := range tabs {
		p, _ := tb.c.SlipPrefix()
		nos := slipNos(t, tb.c)
		var counters []uint64
		for id, n := range nos {
			if n.Prefix != p || n.Year != time.Now().Year() {
				t.Errorf("tablet %d (prefix %s) numbered report %s %s", i, p, id, n)
			}
			if other, ok := issued[n.String()]; ok {
				t.Fatalf("reports %s and %s are both %s", other, id, n)
			}
			issued[n.String()] = id
			counters = append(counters, n.Counter)
		}
		if slices.Sort(counters); !slices.Equal(counters, []uint64{1, 2, 3, 4}) {
			t.Errorf("tablet %d counted %v", i, counters)
		}
	}

	for _, tb := range tabs {
		tb.offline(false)
		if rep := tb.sync(t); rep.Applied != each || rep.Refused != 0 {
			t.Fatalf("%s: %+v", tb.opts.DeviceID, rep)
		}
	}
	onServer := map[string]string{}
	for _, v := range []string{w.visit, visitB} {
		for _, r := range w.dispatcherVisit(v).Reports {
			onServer[r.SlipNo] = r.ID
		}
	}
	if len(onServer) != len(issued) {
		t.Fatalf("the server holds %d numbers, the tablets issued %d", len(onServer), len(issued))
	}
	for no, id := range issued {
		if onServer[no] != id {
			t.Errorf("the server has %s on report %q, the tablet on %s", no, onServer[no], id)
		}
	}

	// Signing in again keeps the install's prefix; the counter goes on.
	before, _ := tabs[0].c.SlipPrefix()
	tabs[0].login(t, e2eTechA)
	if after, _ := tabs[0].c.SlipPrefix(); after != before {
		t.Fatalf("a later login changed the prefix from %s to %s", before, after)
	}
	id, err := tabs[0].c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	if n := slipNos(t, tabs[0].c)[id]; n.Prefix != before || n.Counter != each+1 {
		t.Fatalf("the next report is %s, want %s's number %d", n, before, each+1)
	}
	if rep := tabs[0].sync(t); rep.Applied != 1 || rep.Refused != 0 {
		t.Fatalf("%+v", rep)
	}
}

// A file that has not signed in since slip prefixes exist (its session
// goes on) makes reports without a number, which the server takes.
func TestE2EAFileWithoutSlipPrefixMakesReportsWithoutNumbers(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-old")
	tab.login(t, e2eTechA)
	tab.sync(t)
	must(t, tab.c.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keySlipPrefix) }))
	id, err := tab.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	if r, err := tab.c.Report(id); err != nil || r.SlipNo != "" {
		t.Fatalf("the report %+v, %v: want no number", r, err)
	}
	if rep := tab.sync(t); rep.Applied != 1 || rep.Refused != 0 {
		t.Fatalf("%+v", rep)
	}
}

// The switch that turns the test binary into a report maker.
const (
	envSlipDB     = "FIELDSYNC_TEST_SLIP_DB"
	envSlipDevice = "FIELDSYNC_TEST_SLIP_DEVICE"
	envSlipVisit  = "FIELDSYNC_TEST_SLIP_VISIT"
)

// TestHelperSlipWriter is not a test: run as a subprocess by
// TestKilledTabletNeverReusesASlipNumber, it makes reports offline until
// it is killed, printing "ack <counter>" once a report and its number
// are written.
func TestHelperSlipWriter(t *testing.T) {
	path := os.Getenv(envSlipDB)
	if path == "" {
		t.Skip("run as a subprocess by TestKilledTabletNeverReusesASlipNumber")
	}
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	c, err := Open(path, Options{Key: testKey, DeviceID: os.Getenv(envSlipDevice)}) // offline: no server
	if err != nil {
		fail(err)
	}
	for {
		id, err := c.CreateReport(os.Getenv(envSlipVisit), "tv-v1")
		if err != nil {
			fail(err)
		}
		r, err := c.Report(id)
		if err != nil {
			fail(err)
		}
		n, err := fieldsync.ParseSlipNo(r.SlipNo)
		if err != nil {
			fail(err)
		}
		fmt.Printf("ack %d\n", n.Counter)
	}
}

// A tablet killed while it makes reports never issues a number twice:
// every report in the file has its own number, the numbers count 1..n
// without a gap, every acknowledged one is there, and the next run goes
// on after the last. The server then takes them all.
func TestKilledTabletNeverReusesASlipNumber(t *testing.T) {
	if testing.Short() {
		t.Skip("runs subprocesses")
	}
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-slip")
	tab.login(t, e2eTechA)
	tab.sync(t)
	prefix, err := tab.c.SlipPrefix()
	must(t, err)
	must(t, tab.c.Close())

	n := 0
	for round, killAfter := range []int{1, 6, 2, 11} {
		env := []string{envSlipDB + "=" + tab.path, envSlipDevice + "=tab-slip", envSlipVisit + "=" + w.visit}
		acked := int(testenv.KillWriter(t, "TestHelperSlipWriter", env, int64(n+1), killAfter, 0))
		tab.open(t)
		nos := slipNos(t, tab.c)
		got := len(nos)
		if got < acked || got > acked+1 {
			t.Fatalf("round %d: the file holds %d reports; %d were acknowledged (and at most one more in flight)", round, got, acked)
		}
		var counters []uint64
		for id, no := range nos {
			if no.Prefix != prefix {
				t.Fatalf("report %s is %s, not of prefix %s", id, no, prefix)
			}
			counters = append(counters, no.Counter)
		}
		slices.Sort(counters)
		for i, c := range counters {
			if c != uint64(i+1) {
				t.Fatalf("round %d: the file's numbers count %v, want 1..%d each once", round, counters, got)
			}
		}
		t.Logf("round %d: %d acknowledged, %d in the file", round, acked, got)
		n = got
		must(t, tab.c.Close())
	}

	tab.open(t)
	if rep := tab.sync(t); rep.Applied != n || rep.Refused != 0 {
		t.Fatalf("the sync after the kills: %+v, want %d applied", rep, n)
	}
	seen := map[string]bool{}
	for _, r := range w.dispatcherVisit(w.visit).Reports {
		if seen[r.SlipNo] || r.SlipNo == "" {
			t.Fatalf("the server holds slip number %q twice or empty", r.SlipNo)
		}
		seen[r.SlipNo] = true
	}
	if len(seen) != n {
		t.Fatalf("the server holds %d numbers, want %d", len(seen), n)
	}
}
