package server

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

const (
	envSealWriter = "FIELDSYNC_TEST_SEAL_WRITER" // the data directory
	envSealVisit  = "FIELDSYNC_TEST_SEAL_VISIT"
	envSealFrom   = "FIELDSYNC_TEST_SEAL_FROM"
)

func sealReportID(i int64) string { return fmt.Sprintf("0190f000-0000-7000-8000-%012d", i) }

// sealWorld is the server of the crash test on its data directory, on a
// clock that stands at the start of the day.
func sealWorld(t *testing.T, dir string) *dispatchWorld {
	t.Helper()
	keys, err := auth.LoadKeySet(filepath.Join(dir, "keys"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClock(date(2026, 3, 10, 9))
	return &dispatchWorld{testServer: newTestServerOn(t, filepath.Join(dir, "fieldsync.db"), keys, func(d *Deps) { onClock(d, c) }), clock: c}
}

// TestHelperSealWriter is not a test: run as a subprocess by
// TestKilledSealerLosesNoSeal, it drafts and signs report after report
// (each sealed in its sign's push: it names no photo) over real HTTP until
// it is killed, printing "ack <i>" once the sign of report i is applied.
func TestHelperSealWriter(t *testing.T) {
	dir := os.Getenv(envSealWriter)
	if dir == "" {
		t.Skip("run as a subprocess by TestKilledSealerLosesNoSeal")
	}
	from, err := strconv.ParseInt(os.Getenv(envSealFrom), 10, 64)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	w := sealWorld(t, dir)
	w.disp = w.login(t, "disp", "d-disp").AccessToken
	mw := &mediaWorld{dispatchWorld: w, visit: os.Getenv(envSealVisit)}
	tab := w.device(t, "tech.a", "tab-crash")
	for i := from; ; i++ {
		mw.draft(t, tab, sealReportID(i))
		if rs := tab.push(t, tab.sign(t, sealReportID(i), signing{})); rs[0].Status != syncproto.Applied {
			fmt.Printf("error: sign %d: %s %s\n", i, statuses(rs), rs[0].Detail)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
	}
}

// A server killed while it signs and seals loses no acknowledged seal:
// after each kill, reopened and swept as `fieldsync serve` starts, every
// acknowledged report is sealed, the log is whole, holds one record per
// sealed report, and each seal's statement is the record at its index.
func TestKilledSealerLosesNoSeal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	w := sealWorld(t, dir)
	setup := worldOn(t, w.testServer, w.clock)
	visit := setup.visit(t, setup.intake(t, "", fieldsync.ZoneCity).ticket, setup.techAID).ID
	pub := w.keys.Signing().Public()
	w.Close()
	noErr(t, w.store.Close())

	var acked []string
	for round, killAfter := range []int{4, 11, 7} {
		from := int64(round) * 1000
		last := testenv.KillWriter(t, "TestHelperSealWriter",
			[]string{envSealWriter + "=" + dir, envSealVisit + "=" + visit, envSealFrom + "=" + strconv.FormatInt(from, 10)},
			from, killAfter, 20*time.Millisecond)
		for i := from; i <= last; i++ {
			acked = append(acked, sealReportID(i))
		}
		store, err := bolt.Open(filepath.Join(dir, "fieldsync.db"))
		noErr(t, err)
		keys, err := auth.LoadKeySet(filepath.Join(dir, "keys"), time.Now())
		noErr(t, err)
		store.SetSealKey(func() seal.Key { return seal.Key{ID: keys.Signing().Kid, Private: keys.Signing().Private} }, nil)
		_, err = store.SealWaiting(t.Context(), time.Now())
		noErr(t, err)
		checkStoredSeals(t, store, visit, acked, pub)
		noErr(t, store.Close())
	}
}

// checkStoredSeals checks the seals of the visit's reports against the
// store's log, and that each report of want is sealed.
func checkStoredSeals(t *testing.T, store *bolt.DB, visit string, want []string, pub ed25519.PublicKey) {
	t.Helper()
	b, err := store.VisitBundle(t.Context(), visit)
	noErr(t, err)
	sealed := map[string]*fieldsync.Seal{}
	for _, r := range b.Reports {
		if r.Status == fieldsync.ReportSealed {
			sealed[r.ID] = r.Seal
		}
	}
	for _, id := range want {
		if sealed[id] == nil {
			t.Fatalf("acknowledged report %s is not sealed", id)
		}
	}
	noErr(t, store.ViewLog(t.Context(), func(r translog.Reader) error {
		if err := translog.Audit(r); err != nil {
			return err
		}
		n, err := r.Size()
		if err != nil {
			return err
		}
		if n != int64(len(sealed)) {
			return fmt.Errorf("log size %d, %d sealed reports", n, len(sealed))
		}
		for id, s := range sealed {
			rec, err := translog.ReadRecord(r, s.LogIndex)
			if err != nil {
				return err
			}
			stmt, err := seal.Statement(*s)
			if err != nil {
				return err
			}
			if string(rec) != string(stmt) {
				return fmt.Errorf("report %s: record %d is %s, not its statement %s", id, s.LogIndex, rec, stmt)
			}
			if err := seal.Verify(*s, pub); err != nil {
				return err
			}
		}
		return nil
	}))
}
