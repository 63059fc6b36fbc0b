package bolt_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

var cst = time.FixedZone("CST", 8*3600)

// onSite books a visit of w's ticket that stands on site.
func (w *world) onSite(t *testing.T, id string) {
	t.Helper()
	arrived := w.now
	must(t, bookVisit(t.Context(), w.db, &fieldsync.Visit{ID: id, TicketID: w.ticket, TechnicianID: w.techA, Status: fieldsync.VisitOnSite, ArrivedAt: &arrived, CreatedAt: w.now}, fieldsync.Actor{UserID: "admin"}))
}

// finish is a push that moves a visit on site by action at at, as the
// engine applies a visit action.
func finish(id string, action fieldsync.VisitAction, at time.Time) func(syncproto.Txn) error {
	return func(tx syncproto.Txn) error {
		v, err := tx.Visit(id)
		if err != nil {
			return err
		}
		if err := v.ApplyAt(action, at, at, ""); err != nil {
			return err
		}
		status, _ := json.Marshal(v.Status)
		_, err = tx.PutVisit(v, map[string]json.RawMessage{"status": status}, fieldsync.Actor{UserID: "tech-a", DeviceID: "tab"}, "visit."+string(action), at)
		return err
	}
}

// followUpsOf lists the follow-ups of visit, read from the bucket itself.
func followUpsOf(t *testing.T, db *bolt.DB, visit string) []fieldsync.FollowUp {
	t.Helper()
	var out []fieldsync.FollowUp
	must(t, db.Dump("followups", func(_, v []byte) error {
		var f fieldsync.FollowUp
		if err := json.Unmarshal(v, &f); err != nil {
			return err
		}
		if f.VisitID == visit {
			out = append(out, f)
		}
		return nil
	}))
	return out
}

// A completion pushed makes one follow-up in its transaction, due 3
// working days later; the same completion written again, or any later
// change of the completed visit, makes none; a visit that needs a second
// visit makes none.
func TestCompletionMakesOneFollowUp(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.onSite(t, "v-done")
	w.onSite(t, "v-parts")
	friday := time.Date(2026, 3, 13, 17, 0, 0, 0, cst)

	must(t, w.db.Push(ctx, finish("v-done", fieldsync.ActionComplete, friday)))
	got := followUpsOf(t, w.db, "v-done")
	if len(got) != 1 {
		t.Fatalf("%d follow-ups after the completion, want 1", len(got))
	}
	f := got[0]
	if want := time.Date(2026, 3, 19, 0, 0, 0, 0, cst); !f.Due.Equal(want) || f.Status != fieldsync.FollowUpPending || f.CustomerID != w.cus || f.TicketID != w.ticket {
		t.Fatalf("follow-up %+v, want pending for %s due %s (Friday's completion skips the weekend)", f, w.cus, want)
	}
	entries, _, err := w.db.Audit(ctx, fieldsync.AuditFilter{Entity: fieldsync.EntityFollowUp, ID: f.ID})
	must(t, err)
	if len(entries) != 1 || entries[0].Action != "followup.create" || entries[0].DeviceID != "tab" {
		t.Fatalf("audit of the creation: %+v", entries)
	}

	// The completed visit written again (a retried write) and changed by
	// staff: still one.
	must(t, w.db.Push(ctx, func(tx syncproto.Txn) error {
		v, err := tx.Visit("v-done")
		if err != nil {
			return err
		}
		_, err = tx.PutVisit(v, nil, fieldsync.Actor{UserID: "tech-a"}, "visit.complete", friday)
		return err
	}))
	_, err = w.db.UpdateVisit(ctx, "v-done", fieldsync.Actor{UserID: "admin"}, "visit.assign", friday, func(v *fieldsync.Visit) error {
		v.TechnicianID = w.techB
		return nil
	})
	must(t, err)
	if n := len(followUpsOf(t, w.db, "v-done")); n != 1 {
		t.Fatalf("%d follow-ups after the completion was written again, want 1", n)
	}
	byVisit, err := w.db.FollowUpOfVisit(ctx, "v-done")
	if err != nil || byVisit.ID != f.ID {
		t.Fatalf("follow-up of the visit: %+v, %v", byVisit, err)
	}

	must(t, w.db.Push(ctx, finish("v-parts", fieldsync.ActionNeedSecondVisit, friday)))
	if n := len(followUpsOf(t, w.db, "v-parts")); n != 0 {
		t.Fatalf("a visit that needs a second visit has %d follow-ups", n)
	}
	if _, err := w.db.FollowUpOfVisit(ctx, "v-parts"); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("follow-up of a visit that needs a second one: %v", err)
	}
}

// A completion sharing its batch transaction with a failing push runs
// again in a new transaction; it still makes exactly one follow-up, with
// one audit entry.
func TestCompletionInARerunBatchMakesOneFollowUp(t *testing.T) {
	w := newWorld(t)
	errSibling := errors.New("sibling fails")
	reran := false
	for round := 0; round < 20 && !reran; round++ {
		id := fmt.Sprintf("v-%d", round)
		w.onSite(t, id)
		w.db.SetBatch(2, time.Minute) // the batch runs once both are in it
		var runs atomic.Int32
		var wg sync.WaitGroup
		var completeErr, failErr error
		// The sibling fails only after the completion ran in its
		// transaction, which is what makes the completion run again; a
		// round where the sibling ran first proves nothing and is retried.
		wg.Go(func() {
			failErr = w.db.Push(t.Context(), func(syncproto.Txn) error {
				if runs.Load() == 0 {
					return nil
				}
				return errSibling
			})
		})
		wg.Go(func() {
			fn := finish(id, fieldsync.ActionComplete, time.Date(2026, 3, 10, 15, 0, 0, 0, cst))
			completeErr = w.db.Push(t.Context(), func(tx syncproto.Txn) error { runs.Add(1); return fn(tx) })
		})
		wg.Wait()
		must(t, completeErr)
		if failErr != nil && !errors.Is(failErr, errSibling) {
			t.Fatalf("the failing push returned %v", failErr)
		}
		got := followUpsOf(t, w.db, id)
		if len(got) != 1 {
			t.Fatalf("round %d: %d follow-ups after %d runs, want 1", round, len(got), runs.Load())
		}
		entries, _, err := w.db.Audit(t.Context(), fieldsync.AuditFilter{Entity: fieldsync.EntityFollowUp, ID: got[0].ID})
		must(t, err)
		if len(entries) != 1 {
			t.Fatalf("round %d: %d audit entries of the follow-up, want 1", round, len(entries))
		}
		reran = runs.Load() > 1
	}
	if !reran {
		t.Fatal("the completion never ran again after its sibling failed")
	}
}

// The overdue are the pending ones past their due time, read from the
// due index; an answer takes a follow-up out of it, and the answer is
// audited.
func TestOverdueFollowUpsAndAnswers(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	// Completions on Tue, Wed, Thu: due at the end of Fri, Mon, Tue.
	days := []time.Time{
		time.Date(2026, 3, 10, 10, 0, 0, 0, cst),
		time.Date(2026, 3, 11, 10, 0, 0, 0, cst),
		time.Date(2026, 3, 12, 10, 0, 0, 0, cst),
	}
	ids := make([]string, len(days))
	for i, at := range days {
		v := fmt.Sprintf("v-%d", i)
		w.onSite(t, v)
		must(t, w.db.Push(ctx, finish(v, fieldsync.ActionComplete, at)))
		ids[i] = followUpsOf(t, w.db, v)[0].ID
	}
	overdue := func(at time.Time, limit int) []string {
		t.Helper()
		var out []string
		cursor := ""
		for {
			page, next, err := w.db.FollowUps(ctx, fieldsync.FollowUpFilter{OverdueAt: at, Cursor: cursor, Limit: limit})
			must(t, err)
			for _, f := range page {
				out = append(out, f.ID)
			}
			if next == "" {
				return out
			}
			cursor = next
		}
	}
	saturday := time.Date(2026, 3, 14, 0, 0, 0, 0, cst) // the end of Friday
	if got := overdue(saturday, 10); len(got) != 0 {
		t.Fatalf("overdue at the first due time itself: %v", got)
	}
	if got := fmt.Sprint(overdue(saturday.Add(time.Second), 10)); got != fmt.Sprint(ids[:1]) {
		t.Fatalf("overdue on Saturday: %v, want %v", got, ids[:1])
	}
	wednesday := time.Date(2026, 3, 18, 9, 0, 0, 0, cst)
	if got := fmt.Sprint(overdue(wednesday, 1)); got != fmt.Sprint(ids) {
		t.Fatalf("overdue on Wednesday, a page of one at a time: %v, want %v", got, ids)
	}

	customer := fieldsync.Viewer{UserID: "u-cust", Role: fieldsync.RoleCustomer, CustomerIDs: []string{w.cus}}
	answered, err := w.db.UpdateFollowUp(ctx, ids[0], fieldsync.Actor{UserID: "u-cust"}, "followup.answer", wednesday, func(f *fieldsync.FollowUp) error {
		return f.Answer(customer, fieldsync.FollowUpAnswer{Score: 4, Comment: "准时"}, wednesday)
	})
	must(t, err)
	if answered.Status != fieldsync.FollowUpAnswered {
		t.Fatalf("answered: %+v", answered)
	}
	if got := fmt.Sprint(overdue(wednesday, 10)); got != fmt.Sprint(ids[1:]) {
		t.Fatalf("overdue after an answer: %v, want %v", got, ids[1:])
	}
	_, err = w.db.UpdateFollowUp(ctx, ids[0], fieldsync.Actor{UserID: "u-cust"}, "followup.answer", wednesday, func(f *fieldsync.FollowUp) error {
		return f.Answer(customer, fieldsync.FollowUpAnswer{Score: 1}, wednesday)
	})
	if fieldsync.ErrorCode(err) != fieldsync.EConflict {
		t.Fatalf("a second answer: %v", err)
	}
	entries, _, err := w.db.Audit(ctx, fieldsync.AuditFilter{Entity: fieldsync.EntityFollowUp, ID: ids[0]})
	must(t, err)
	if len(entries) != 2 || entries[1].Action != "followup.answer" || string(entries[1].Changes["score"].To) != "4" {
		t.Fatalf("audit of the answer: %+v", entries)
	}

	// Listings by customer and status.
	pending, _, err := w.db.FollowUps(ctx, fieldsync.FollowUpFilter{CustomerIDs: []string{w.cus}, Status: fieldsync.FollowUpPending})
	must(t, err)
	if len(pending) != 2 {
		t.Fatalf("pending of the customer: %d, want 2", len(pending))
	}
	none, _, err := w.db.FollowUps(ctx, fieldsync.FollowUpFilter{CustomerIDs: []string{"someone-else"}})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("another customer's follow-ups: %+v", none)
	}
}
