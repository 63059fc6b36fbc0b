package bolt_test

// Benchmarks of sealing: tablets pushing reports made and signed on the
// device (each report's answers and its sign action, with a real device
// signature, in one push; benchworld.SignedTablet), through the engine
// over the store (fsync on), with sealing on (the store has a seal key:
// every report is sealed and its statement logged in its push's
// transaction) and off (no key: the reports stay signed, in the index of
// reports waiting for their seal). BENCHMARKS.md ("Concurrent pushes and
// seals") has the commands and the figures; the same pushes over HTTP
// are the server's BenchmarkSealOverheadHTTP.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/benchworld"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// setSealing gives db a seal key (on) or none (off); the warning that
// signed reports wait goes nowhere.
func setSealing(b *testing.B, db *bolt.DB, on bool) {
	b.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if !on {
		db.SetSealKey(nil, quiet)
		return
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	k := seal.Key{ID: "bench-seal-key", Private: priv}
	db.SetSealKey(func() seal.Key { return k }, quiet)
}

// signedTablets returns n tablets of the technician under test, each a
// device registered in db with a key of its own (a login's session),
// working on visits[i] and pushing reports signed reports a push.
func signedTablets(b *testing.B, db *bolt.DB, visits []string, n, reports int) []*benchworld.SignedTablet {
	b.Helper()
	ctx := context.Background()
	// Registered an hour ago: the key is valid whenever a push arrives.
	at := time.Now().Add(-time.Hour)
	tablets := make([]*benchworld.SignedTablet, n)
	for i := range tablets {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		t, err := benchworld.NewSignedTablet(ctx, db, i, visits[i], key, reports)
		if err != nil {
			b.Fatal(err)
		}
		pub := key.Public().(ed25519.PublicKey)
		dk := &fieldsync.DeviceKey{ID: fieldsync.DeviceKeyID(pub), PublicKey: base64.RawURLEncoding.EncodeToString(pub), AddedAt: at}
		fam := "bench-fam-" + t.Device
		ins, err := db.StartSession(ctx, fieldsync.Device{ID: t.Device, UserID: benchworld.OurTech, CreatedAt: at, LastSeen: at}, dk, "",
			fieldsync.Install{ID: t.Device, UserID: benchworld.OurTech, DeviceID: t.Device, CreatedAt: at},
			fieldsync.TokenFamily{ID: fam, UserID: benchworld.OurTech, DeviceID: t.Device, CreatedAt: at},
			fieldsync.RefreshToken{Hash: fam, Family: fam, UserID: benchworld.OurTech, DeviceID: t.Device, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		t.Install = ins.ID
		tablets[i] = t
	}
	return tablets
}

// pushSigned is a signed tablet's push through engine: its next prepared
// reports, every mutation applied.
func pushSigned(engine *syncproto.Engine) func(*benchworld.SignedTablet) error {
	return func(t *benchworld.SignedTablet) error {
		batch, err := t.NextSigned()
		if err != nil {
			return err
		}
		resp, err := engine.Push(context.Background(), t.Principal(), t.Request(batch))
		if err == nil {
			err = checkApplied(resp, batch)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", t.Device, err)
		}
		return nil
	}
}

// runSigned runs b.N signed pushes from tablets at once (benchworld.RunEach),
// each tablet's reports made and signed before the clock starts, and
// returns how many reports were pushed.
func runSigned(b *testing.B, engine *syncproto.Engine, tablets []*benchworld.SignedTablet) int64 {
	pushes := benchworld.RunEach(b, tablets, (*benchworld.SignedTablet).Prepare, pushSigned(engine))
	return pushes * int64(tablets[0].Reports)
}

// checkSealed fails unless the log holds exactly n seals and the last
// report of tablet t is sealed (n > 0) or still signed (n == 0). A tablet
// that pushed nothing (its benchmark filtered out) passes.
func checkSealed(b *testing.B, db *bolt.DB, t *benchworld.SignedTablet, n int64) {
	b.Helper()
	if t.LastReport() == "" {
		return
	}
	checkLogSize(b, db, n)
	r, err := db.Report(context.Background(), t.LastReport())
	if err != nil {
		b.Fatal(err)
	}
	want := fieldsync.ReportSealed
	if n == 0 {
		want = fieldsync.ReportSigned
	}
	if r == nil || r.Status != want {
		b.Fatalf("report %s: %+v, want it %s", t.LastReport(), r, want)
	}
}

// BenchmarkSealOverhead: one tablet pushing alone, then 32 at once, each
// push one report made and signed on the tablet (its answers and its
// sign action), with sealing off (the reference: no seal key, reports
// stay signed) and on, alternately, each on a fresh store. It logs
// sealing's cost: the share of push throughput it takes.
func BenchmarkSealOverhead(b *testing.B) {
	for _, n := range []int{1, benchTablets} {
		rate := map[bool]float64{}
		for _, on := range []bool{false, true} {
			name := fmt.Sprintf("tablets=%d/sealing=off", n)
			if on {
				name = fmt.Sprintf("tablets=%d/sealing=on", n)
			}
			db, visits := benchworld.PushStore(b, b.TempDir(), bolt.Open)
			setSealing(b, db, on)
			tablets := signedTablets(b, db, visits, n, 1)
			engine := benchEngine(db)
			var seals int64
			b.Run(name, func(b *testing.B) {
				seals += runSigned(b, engine, tablets)
				rate[on] = float64(b.N) / b.Elapsed().Seconds()
			})
			if !on {
				seals = 0
			}
			checkSealed(b, db, tablets[0], seals)
			db.Close()
		}
		if rate[false] > 0 && rate[true] > 0 {
			b.Logf("%d tablets: %.0f pushes/s with sealing, %.0f without: sealing costs %.1f%% of throughput", n, rate[true], rate[false], 100*(1-rate[true]/rate[false]))
		}
	}
}

// checkLogSize fails unless the log holds exactly n records: each push
// appended its seal once, however often its closure ran.
func checkLogSize(b *testing.B, db *bolt.DB, n int64) {
	b.Helper()
	if err := db.ViewLog(b.Context(), func(r translog.Reader) error {
		size, err := r.Size()
		if err == nil && size != n {
			err = fmt.Errorf("the log holds %d records after %d seals", size, n)
		}
		return err
	}); err != nil {
		b.Fatal(err)
	}
}
