package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// logRecord is the record of append i: a seal-sized value carrying i.
func logRecord(i int64) []byte {
	return fmt.Appendf(nil, `{"report":"r-%08d","hash":"%064x","sealed_at":"2026-05-04T12:00:00Z","index":%d}`, i, i, i)
}

const envLogWriter = "FIELDSYNC_TEST_LOG_WRITER"

// TestHelperLogWriter is not a test: run as a subprocess by
// TestKilledAppenderLeavesLogWhole, it appends to the log of the file
// named by the environment until it is killed, printing "ack <i>" once
// append i has committed.
func TestHelperLogWriter(t *testing.T) {
	path := os.Getenv(envLogWriter)
	if path == "" {
		t.Skip("run as a subprocess by TestKilledAppenderLeavesLogWhole")
	}
	db, err := bolt.Open(path)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	var next int64
	db.ViewLog(context.Background(), func(r translog.Reader) error { next, err = r.Size(); return err })
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	for i := next; ; i++ {
		got, err := db.AppendLog(logRecord(i))
		if err != nil || got != i {
			fmt.Printf("error: append %d: index %d, %v\n", i, got, err)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
	}
}

// runLogWriter starts the writer on path, kills it with SIGKILL once it
// has acknowledged killAfter appends, and returns the last index it
// acknowledged (-1: none).
func runLogWriter(t *testing.T, path string, killAfter int) int64 {
	t.Helper()
	// Killed a moment after the ack, so that the kill lands at any point
	// of an append, not always just after an ack was written.
	return testenv.KillWriter(t, "TestHelperLogWriter", []string{envLogWriter + "=" + path}, -1, killAfter, 3*time.Millisecond)
}

// A process killed while appending leaves a log whose size, stored
// hashes and records agree, that holds every acknowledged append, and
// whose every tree extends the trees seen before the kill.
func TestKilledAppenderLeavesLogWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := dbPath(t)
	db, err := bolt.Open(path)
	must(t, err)
	db.Close()

	var heads []tlog.Tree // one per round, each read after a kill
	for round, killAfter := range []int{1, 17, 40, 64, 9, 3, 25, 12, 50, 5, 33, 8} {
		last := runLogWriter(t, path, killAfter)

		dbRaw(t, path, false, func(tx *bbolt.Tx) error {
			var errs []error
			for err := range tx.Check() {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		})
		db, err := bolt.Open(path)
		must(t, err)
		err = db.ViewLog(context.Background(), func(r translog.Reader) error {
			n, err := r.Size()
			if err != nil {
				return err
			}
			// Every acknowledged append is there; at most the one in
			// flight when the kill landed committed besides.
			if n < last+1 || n > last+2 {
				return fmt.Errorf("round %d: log size %d after acks up to index %d", round, n, last)
			}
			if err := translog.Audit(r); err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
			head, err := translog.Head(r, n)
			if err != nil {
				return err
			}
			for i := range n {
				rec, err := r.Record(i)
				if err != nil {
					return err
				}
				if string(rec) != string(logRecord(i)) {
					return fmt.Errorf("round %d: record %d is %q", round, i, rec)
				}
				p, err := translog.ProveInclusion(r, i, n)
				if err != nil {
					return err
				}
				if err := translog.VerifyInclusion(p, i, rec, head); err != nil {
					return fmt.Errorf("round %d: %w", round, err)
				}
			}
			for _, old := range heads {
				p, err := translog.ProveConsistency(r, old.N, n)
				if err != nil {
					return err
				}
				if err := translog.VerifyConsistency(p, old, head); err != nil {
					return fmt.Errorf("round %d: %w", round, err)
				}
			}
			heads = append(heads, head)
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A file of the schema before the log gains it, empty, on Open.
func TestOpenMigratesToAnEmptyLog(t *testing.T) {
	path := dbPath(t)
	dbWriteSchemaVersion(t, path, be64(10)) // the version before the log
	db := dbOpen(t, path)
	must(t, db.ViewLog(context.Background(), func(r translog.Reader) error {
		n, err := r.Size()
		if err != nil || n != 0 {
			return fmt.Errorf("migrated log has size %d, %v; want 0", n, err)
		}
		return nil
	}))
	for i := range int64(3) {
		if got, err := db.AppendLog(logRecord(i)); err != nil || got != i {
			t.Fatalf("AppendLog = %d, %v; want %d", got, err, i)
		}
	}
	must(t, db.ViewLog(context.Background(), translog.Audit))
}
