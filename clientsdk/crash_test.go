package clientsdk

// A tablet's app can be killed at any instant (the OS reclaims it, the
// battery dies). These tests kill a real process that is writing to the
// SDK's file with SIGKILL, many times, and check after each kill that the
// outbox and the local data still agree.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync/internal/testenv"
)

// The switch that turns the test binary into the writer.
const (
	envWriterDB     = "FIELDSYNC_TEST_WRITER_DB"
	envWriterDevice = "FIELDSYNC_TEST_WRITER_DEVICE"
	envWriterReport = "FIELDSYNC_TEST_WRITER_REPORT"
	envWriterFrom   = "FIELDSYNC_TEST_WRITER_FROM"
)

// crashWrite is write number i (from 1) of the writer's stream: it cycles
// over an answer, the findings and the cause, each carrying its number.
func crashWrite(c *Client, report string, i int) error {
	v := "w" + strconv.Itoa(i)
	switch i % 3 {
	case 0:
		return c.SetAnswer(report, "fault_description", v)
	case 1:
		return c.SetReport(report, ReportFields{Findings: &v})
	default:
		return c.SetReport(report, ReportFields{Cause: &v})
	}
}

// crashField names the field write i sets, as a mutation carries it.
func crashField(i int) string {
	return [...]string{"answers", "findings", "cause"}[i%3]
}

// TestHelperWriter is not a test: run as a subprocess by
// TestKilledWriterKeepsOutboxAndDataInAgreement, it opens the SDK's file
// and writes until it is killed, printing "ack <i>" once write i returned.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(envWriterDB)
	if path == "" {
		t.Skip("run as a subprocess by TestKilledWriterKeepsOutboxAndDataInAgreement")
	}
	from, err := strconv.Atoi(os.Getenv(envWriterFrom))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	c, err := Open(path, Options{Key: testKey, DeviceID: os.Getenv(envWriterDevice)}) // offline: no server
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	report := os.Getenv(envWriterReport)
	for i := from; ; i++ {
		if err := crashWrite(c, report, i); err != nil {
			fmt.Printf("error: write %d: %v\n", i, err)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
	}
}

// runWriter starts the writer on path from write number from, kills it
// with SIGKILL once it has acknowledged killAfter writes, and returns the
// last write it acknowledged.
func runWriter(t *testing.T, path, device, report string, from, killAfter int) int {
	t.Helper()
	env := []string{envWriterDB + "=" + path, envWriterDevice + "=" + device, envWriterReport + "=" + report, envWriterFrom + "=" + strconv.Itoa(from)}
	// Killed at once: the writer is most likely inside write i+1.
	return int(testenv.KillWriter(t, "TestHelperWriter", env, int64(from), killAfter, 0))
}

// checkAgreement checks a reopened file that holds writes 1..n of the
// stream and no other pending work: its outbox, the outbox index, the seq
// counter and what the overlay shows must all say n. It returns n.
func checkAgreement(t *testing.T, c *Client, report string, firstSeq int64) int {
	t.Helper()
	if err := c.db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() { // drained: Check's goroutine sends them all
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}); err != nil {
		t.Fatalf("the file is inconsistent after the kill: %v", err)
	}
	box := outboxOf(t, c)
	n := len(box)
	if s := status(t, c); s.Pending != n {
		t.Fatalf("Status().Pending = %d, the outbox holds %d", s.Pending, n)
	}
	// Every outbox entry is the write of its rank, in seq order, with its
	// index entry; and the seq counter is past the last one.
	for j, m := range box {
		i := j + 1
		wantSeq := firstSeq + int64(j)
		var v string
		raw := m.Fields[crashField(i)]
		if crashField(i) == "answers" {
			var a map[string]string
			_ = json.Unmarshal(raw, &a)
			v = a["fault_description"]
		} else {
			_ = json.Unmarshal(raw, &v)
		}
		if m.Seq != wantSeq || m.Entity != "report" || m.ID != report || v != "w"+strconv.Itoa(i) {
			t.Fatalf("outbox entry %d is seq %d %s %v, want seq %d of write %d", j, m.Seq, m.Entity, m.Fields, wantSeq, i)
		}
	}
	var indexed int
	var next uint64
	must(t, c.db.View(func(tx *bbolt.Tx) error {
		indexed = tx.Bucket(bucketPending).Stats().KeyN
		next = getU64(tx.Bucket(bucketMeta), keyNextSeq)
		return nil
	}))
	if indexed != n {
		t.Fatalf("the outbox index holds %d entries, the outbox %d", indexed, n)
	}
	if want := uint64(firstSeq) + uint64(n); next != want {
		t.Fatalf("next seq %d, want %d after %d writes", next, want, n)
	}
	// What the app reads is exactly writes 1..n: each field shows the last
	// write of it among them.
	r, err := c.Report(report)
	must(t, err)
	got := map[string]string{"findings": r.Findings, "cause": r.Cause}
	if raw := r.Answers["fault_description"]; raw != nil {
		var s string
		must(t, json.Unmarshal(raw, &s))
		got["answers"] = s
	} else {
		got["answers"] = ""
	}
	for field := range got {
		want := ""
		for i := n; i >= 1; i-- {
			if crashField(i) == field {
				want = "w" + strconv.Itoa(i)
				break
			}
		}
		if got[field] != want {
			t.Fatalf("after %d writes the overlay shows %s = %q, want %q", n, field, got[field], want)
		}
	}
	return n
}

// A writer killed between (or inside) writes leaves a file where the
// outbox and the local data agree: every acknowledged write is visible,
// at most the one in flight besides, each visible write has its outbox
// entry and each outbox entry its write. After all the kills, one sync
// delivers exactly the writes the file holds.
func TestKilledWriterKeepsOutboxAndDataInAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs subprocesses")
	}
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-crash")
	tab.login(t, e2eTechA)
	tab.sync(t)
	report, err := tab.c.CreateReport(w.visit, "tv-v1")
	must(t, err)
	tab.sync(t)
	firstSeq := int64(outboxSeqNext(t, tab.c))
	must(t, tab.c.Close())

	n := 0
	for round, killAfter := range []int{1, 7, 23, 3, 41} {
		acked := runWriter(t, tab.path, "tab-crash", report, n+1, killAfter)
		tab.open(t)
		got := checkAgreement(t, tab.c, report, firstSeq)
		if got < acked || got > acked+1 {
			t.Fatalf("round %d: the file holds %d writes; %d were acknowledged (and at most one more in flight)", round, got, acked)
		}
		t.Logf("round %d: %d acknowledged, %d in the file", round, acked, got)
		n = got
		must(t, tab.c.Close())
	}

	tab.open(t)
	local, err := tab.c.Report(report)
	must(t, err)
	rep := tab.sync(t)
	if rep.Applied != n || rep.Refused != 0 {
		t.Fatalf("the sync after the kills: %+v, want %d applied", rep, n)
	}
	srv := w.dispatcherVisit(w.visit).Reports
	if len(srv) != 1 {
		t.Fatalf("reports %+v", srv)
	}
	if srv[0].Findings != local.Findings || srv[0].Cause != local.Cause || string(srv[0].Answers["fault_description"]) != string(local.Answers["fault_description"]) {
		t.Fatalf("the server has %+v, the tablet showed %+v", srv[0], local)
	}
	if s := status(t, tab.c); s.Pending != 0 {
		t.Fatalf("status %+v", s)
	}
}

func outboxSeqNext(t *testing.T, c *Client) uint64 {
	t.Helper()
	var next uint64
	must(t, c.db.View(func(tx *bbolt.Tx) error {
		next = getU64(tx.Bucket(bucketMeta), keyNextSeq)
		return nil
	}))
	if len(outboxOf(t, c)) != 0 {
		t.Fatal("the outbox is not empty before the writer runs")
	}
	return next
}
