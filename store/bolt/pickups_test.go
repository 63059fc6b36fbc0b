package bolt_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/seal"
)

// decision is a warranty decision of outcome with the given options.
func decision(cracked bool, outcome string, options ...string) *fieldsync.ReportWarranty {
	q, _ := json.Marshal(map[string]any{"failed_part": "unit", "checks": map[string]bool{"cracked_on_unboxing": cracked}})
	d, _ := json.Marshal(map[string]any{"outcome": outcome, "options": options, "explanation": []map[string]any{{"rule": "r"}}})
	return &fieldsync.ReportWarranty{Question: q, VisitDate: "2026-04-02", Decision: d}
}

// slip is a pick-up slip missing the remote, collected at at.
func slip(kind fieldsync.PickupKind, at time.Time) *fieldsync.ReportPickup {
	return &fieldsync.ReportPickup{Kind: kind, Category: "tv", PriceListVersion: "2026-01",
		Accessories: []fieldsync.PickupCheck{{Accessory: "remote"}, {Accessory: "stand", Present: true}},
		Deductions:  []fieldsync.PickupDeduction{{Accessory: "remote", Fen: 5000}}, TotalFen: 5000,
		CollectedAt: at.UTC().Truncate(time.Second)}
}

// signedReport pushes report id of visit, signed at at, with what edit
// sets on it.
func signedReport(id, visit string, at time.Time, edit func(*fieldsync.Report)) func(syncproto.Txn) error {
	return func(tx syncproto.Txn) error {
		v, err := tx.Visit(visit)
		if err != nil {
			return err
		}
		r := fieldsync.Report{ID: id, VisitID: visit, Status: fieldsync.ReportSigned, SignedAt: &at, CreatedAt: at, UpdatedAt: at,
			Signature: &fieldsync.Signature{SignedAt: at, DeviceID: "tab", KeyID: "k", Hash: "00", Value: "v"}}
		edit(&r)
		_, err = tx.PutReport(&r, true, v, nil, fieldsync.Actor{UserID: "tech-a", DeviceID: "tab"}, "report.sign", at)
		return err
	}
}

func pickups(t *testing.T, db *bolt.DB, f fieldsync.PickupFilter) []fieldsync.Pickup {
	t.Helper()
	got, next, err := db.Pickups(t.Context(), f)
	must(t, err)
	if next != "" {
		t.Fatalf("a second page of pick-ups: %q", next)
	}
	return got
}

func auditActions(t *testing.T, db *bolt.DB, id string) []string {
	t.Helper()
	entries, _, err := db.Audit(t.Context(), fieldsync.AuditFilter{Entity: fieldsync.EntityPickup, ID: id})
	must(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

// A visit settling on a return makes one pick-up when it completes, due 3
// working days later on the business calendar (Qingming, 4–6 April,
// pushes it out a day); a retried completion makes no second one; the
// slip signed at a later pick-up visit marks it done with its deductions.
func TestPickupMadeOnCompletionDoneByLaterSlip(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.onSite(t, "v-decide")
	thursday := time.Date(2026, 4, 2, 17, 0, 0, 0, cst)
	must(t, w.db.Push(ctx, signedReport("r-decide", "v-decide", thursday, func(r *fieldsync.Report) {
		r.Warranty = decision(false, "return", "return", "exchange")
	})))
	if got := pickups(t, w.db, fieldsync.PickupFilter{}); len(got) != 0 {
		t.Fatalf("a pick-up before the visit completed: %+v", got)
	}
	must(t, w.db.Push(ctx, finish("v-decide", fieldsync.ActionComplete, thursday)))
	must(t, w.db.Push(ctx, func(tx syncproto.Txn) error { // the completion again
		v, err := tx.Visit("v-decide")
		if err != nil {
			return err
		}
		_, err = tx.PutVisit(v, nil, fieldsync.Actor{UserID: "tech-a"}, "visit.complete", thursday)
		return err
	}))
	got := pickups(t, w.db, fieldsync.PickupFilter{})
	if len(got) != 1 {
		t.Fatalf("%d pick-ups after the completion, want 1: %+v", len(got), got)
	}
	p := got[0]
	due := time.Date(2026, 4, 9, 0, 0, 0, 0, cst) // 3 April, then 7 and 8 April
	if p.Kind != fieldsync.PickupRecordReturn || !p.Due.Equal(due) || p.TicketID != w.ticket || p.CustomerID != w.cus || p.VisitID != "v-decide" || p.DoneAt != nil {
		t.Fatalf("pick-up %+v, want an open return of %s due %s", p, w.ticket, due)
	}
	if s := p.State(time.Date(2026, 4, 8, 12, 0, 0, 0, cst)); s != fieldsync.PickupDue {
		t.Fatalf("on 8 April the pick-up is %s, want due (the holiday is no working day)", s)
	}
	if s := p.State(time.Date(2026, 4, 9, 1, 0, 0, 0, cst)); s != fieldsync.PickupOverdue {
		t.Fatalf("on 9 April the pick-up is %s, want overdue", s)
	}
	late := time.Date(2026, 4, 9, 1, 0, 0, 0, cst)
	if n := len(pickups(t, w.db, fieldsync.PickupFilter{State: fieldsync.PickupOverdue, Now: late})); n != 1 {
		t.Fatalf("%d overdue pick-ups on 9 April, want 1", n)
	}

	w.onSite(t, "v-collect")
	must(t, w.db.Push(ctx, signedReport("r-collect", "v-collect", late, func(r *fieldsync.Report) {
		r.Pickup = slip(fieldsync.PickupReturn, late)
	})))
	must(t, w.db.Push(ctx, finish("v-collect", fieldsync.ActionComplete, late)))
	done, err := w.db.Pickup(ctx, p.ID)
	must(t, err)
	if done.DoneAt == nil || !done.DoneAt.Equal(late) || done.DoneReportID != "r-collect" || done.TotalFen != 5000 || len(done.Deductions) != 1 || done.Deductions[0].Accessory != "remote" {
		t.Fatalf("pick-up after the slip: %+v", done)
	}
	if got := pickups(t, w.db, fieldsync.PickupFilter{State: fieldsync.PickupDone, Now: late, TicketID: w.ticket}); len(got) != 1 || got[0].ID != p.ID {
		t.Fatalf("done pick-ups of the ticket: %+v", got)
	}
	if got := auditActions(t, w.db, p.ID); len(got) != 2 || got[0] != "pickup.create" || got[1] != "pickup.collect" {
		t.Fatalf("audit of the pick-up: %v", got)
	}
}

// The usual case: the slip is made at the visit that decides, before it
// completes; the pick-up is made done. The decision's outcome is an
// exchange, but the customer chose a return among its options: the slip
// names the kind.
func TestPickupDoneBySlipBeforeCompletion(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.onSite(t, "v-one")
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, cst)
	must(t, w.db.Push(ctx, signedReport("r-one", "v-one", at, func(r *fieldsync.Report) {
		r.Warranty = decision(false, "exchange", "exchange", "return")
		r.Pickup = slip(fieldsync.PickupReturn, at)
	})))
	must(t, w.db.Push(ctx, finish("v-one", fieldsync.ActionComplete, at)))
	got := pickups(t, w.db, fieldsync.PickupFilter{})
	if len(got) != 1 || got[0].Kind != fieldsync.PickupRecordReturn || got[0].DoneAt == nil || got[0].DoneReportID != "r-one" || got[0].TotalFen != 5000 {
		t.Fatalf("pick-ups after a completion with its slip: %+v", got)
	}
	if a := auditActions(t, w.db, got[0].ID); len(a) != 2 {
		t.Fatalf("audit: %v", a)
	}
}

// A visit whose decision is a repair makes no pick-up.
func TestNoPickupForARepair(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.onSite(t, "v-fix")
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, cst)
	must(t, w.db.Push(ctx, signedReport("r-fix", "v-fix", at, func(r *fieldsync.Report) {
		r.Warranty = decision(false, "free_repair", "free_repair")
	})))
	must(t, w.db.Push(ctx, finish("v-fix", fieldsync.ActionComplete, at)))
	if got := pickups(t, w.db, fieldsync.PickupFilter{}); len(got) != 0 {
		t.Fatalf("pick-ups of a repair: %+v", got)
	}
}

// A signed report that finds the screen cracked on unboxing starts the
// appraisal-slip clock, 2 working days from the report's creation; the
// clock is met when the report is sealed.
func TestAppraisalSlipMetAtSeal(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.onSite(t, "v-crack")
	friday := time.Date(2026, 3, 13, 15, 0, 0, 0, cst)
	must(t, w.db.Push(ctx, signedReport("r-crack", "v-crack", friday, func(r *fieldsync.Report) {
		r.Warranty = decision(true, "exchange", "exchange")
	})))
	got := pickups(t, w.db, fieldsync.PickupFilter{Kind: fieldsync.PickupRecordAppraisalSlip})
	if len(got) != 1 {
		t.Fatalf("%d appraisal clocks, want 1", len(got))
	}
	a := got[0]
	if due := time.Date(2026, 3, 18, 0, 0, 0, 0, cst); !a.Due.Equal(due) || a.ReportID != "r-crack" || a.DoneAt != nil {
		t.Fatalf("appraisal clock %+v, want open, due %s", a, due)
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	w.db.SetSealKey(func() seal.Key { return seal.Key{ID: "k", Private: priv} }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sealedAt := friday.Add(time.Hour)
	n, err := w.db.SealWaiting(ctx, sealedAt)
	must(t, err)
	if n != 1 {
		t.Fatalf("%d reports sealed, want 1", n)
	}
	met, err := w.db.Pickup(ctx, a.ID)
	must(t, err)
	if met.DoneAt == nil || !met.DoneAt.Equal(sealedAt) || met.DoneReportID != "r-crack" {
		t.Fatalf("appraisal clock after the seal: %+v", met)
	}
	if got := auditActions(t, w.db, a.ID); len(got) != 2 || got[1] != "pickup.appraisal_sealed" {
		t.Fatalf("audit: %v", got)
	}
}

// A file of the schema before pick-ups gains their buckets on Open, and a
// completion then makes its pick-up.
func TestOpenMigratesToPickups(t *testing.T) {
	path := dbPath(t)
	dbOpen(t, path).Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		for _, b := range []string{"pickups", "idx_pickups_source", "idx_pickups_ticket"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(20)) // 20 -> 21 adds them
	})
	db := dbOpen(t, path)
	if got, _, err := db.Pickups(t.Context(), fieldsync.PickupFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("pick-ups after the migration: %v, %v", got, err)
	}
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Fatalf("schema version %d", v)
	}
}

// A batch that completes the visit before it signs the report with the
// slip makes the same done pick-up as the other order.
func TestPickupCompletionBeforeSignatureInOneBatch(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.onSite(t, "v-one")
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, cst)
	sign := signedReport("r-one", "v-one", at, func(r *fieldsync.Report) {
		r.Warranty = decision(false, "exchange", "exchange")
		r.Pickup = slip(fieldsync.PickupExchange, at)
	})
	must(t, w.db.Push(ctx, func(tx syncproto.Txn) error {
		if err := finish("v-one", fieldsync.ActionComplete, at)(tx); err != nil {
			return err
		}
		return sign(tx)
	}))
	got := pickups(t, w.db, fieldsync.PickupFilter{State: fieldsync.PickupDone, Now: at})
	if len(got) != 1 || got[0].Kind != fieldsync.PickupRecordExchange || got[0].DoneReportID != "r-one" || got[0].VisitID != "v-one" {
		t.Fatalf("pick-ups: %+v", got)
	}
}
