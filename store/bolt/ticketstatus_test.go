package bolt_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

func ticketStatus(t *testing.T, db *bolt.DB, id string) fieldsync.TicketStatus {
	t.Helper()
	tk, err := db.Ticket(t.Context(), id)
	must(t, err)
	return tk.Status
}

// A push of a visit action moves the ticket in its own transaction: a
// departure makes it in progress and reaches the technician's feed, a
// push that fails after its departure leaves it as it was, and a
// completion with nothing left open resolves it.
func TestTicketStatusFollowsPushedVisits(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if s := ticketStatus(t, w.db, w.ticket); s != fieldsync.TicketOpen {
		t.Fatalf("booked ticket is %s, want open", s)
	}
	_, cursor := w.pull(t, w.techA, "")
	at := w.now.Add(time.Hour)
	boom := errors.New("later mutation fails")
	err := w.db.Push(ctx, func(tx syncproto.Txn) error {
		if err := finish(w.visit, fieldsync.ActionDepart, at)(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("push: %v", err)
	}
	if s := ticketStatus(t, w.db, w.ticket); s != fieldsync.TicketOpen {
		t.Fatalf("after a failed push the ticket is %s, want open", s)
	}
	must(t, w.db.Push(ctx, finish(w.visit, fieldsync.ActionDepart, at)))
	if s := ticketStatus(t, w.db, w.ticket); s != fieldsync.TicketInProgress {
		t.Fatalf("after the departure the ticket is %s, want in_progress", s)
	}
	if got, _ := w.pull(t, w.techA, cursor); got["ticket/"+w.ticket] != syncproto.ChangeUpsert {
		t.Fatalf("the technician's feed after the departure: %v", got)
	}
	must(t, w.db.Push(ctx, finish(w.visit, fieldsync.ActionArrive, at.Add(time.Hour))))
	must(t, w.db.Push(ctx, finish(w.visit, fieldsync.ActionComplete, at.Add(2*time.Hour))))
	if s := ticketStatus(t, w.db, w.ticket); s != fieldsync.TicketResolved {
		t.Fatalf("after the completion the ticket is %s, want resolved", s)
	}
	entries, _, err := w.db.Audit(ctx, fieldsync.AuditFilter{Entity: fieldsync.EntityTicket, ID: w.ticket})
	must(t, err)
	var moves int
	for _, e := range entries {
		if e.Action == "ticket.status" {
			moves++
		}
	}
	if moves != 2 {
		t.Fatalf("%d ticket.status audit entries, want 2 (in_progress, resolved)", moves)
	}
}

// A completion that leaves a return's pick-up open keeps the ticket in
// progress; staff close it, and cannot cancel a closed one.
func TestTicketStatusWaitsForPickupAndStaff(t *testing.T) {
	w := newWorld(t)
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	at := time.Date(2026, 4, 2, 17, 0, 0, 0, cst)
	_, err := w.db.UpdateVisit(ctx, w.visit, admin, "visit.cancel", at, func(v *fieldsync.Visit) error {
		return v.Apply(fieldsync.ActionCancel, at, "moved")
	})
	must(t, err)
	w.onSite(t, "v-decide")
	must(t, w.db.Push(ctx, signedReport("r-decide", "v-decide", at, func(r *fieldsync.Report) {
		r.Warranty = decision(false, "return", "return")
	})))
	must(t, w.db.Push(ctx, finish("v-decide", fieldsync.ActionComplete, at)))
	if s := ticketStatus(t, w.db, w.ticket); s != fieldsync.TicketInProgress {
		t.Fatalf("with the pick-up open the ticket is %s, want in_progress", s)
	}
	tk, err := w.db.TransitionTicket(ctx, w.ticket, admin, fieldsync.TicketClose, "", at)
	must(t, err)
	if tk.Status != fieldsync.TicketClosed || ticketStatus(t, w.db, w.ticket) != fieldsync.TicketClosed {
		t.Fatalf("closed ticket: %+v", tk)
	}
	if _, err := w.db.TransitionTicket(ctx, w.ticket, admin, fieldsync.TicketCancel, "no", at); fieldsync.ErrorCode(err) != fieldsync.EInvalidTransition {
		t.Fatalf("cancel of a closed ticket: %v", err)
	}
}

// A file of the schema before ticket statuses gives each stored ticket the
// status its visits give it.
func TestOpenMigratesTicketStatuses(t *testing.T) {
	path := dbPath(t)
	db := dbOpen(t, path)
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	now := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	must(t, db.CreateUser(ctx, fieldsync.User{ID: "tech", Login: "tech", Role: fieldsync.RoleTechnician, CreatedAt: now}))
	must(t, db.CreateCustomer(ctx, &fieldsync.Customer{ID: "c", Name: "n", Phone: "1", CreatedAt: now}, admin))
	must(t, db.CreateSite(ctx, &fieldsync.Site{ID: "s", CustomerID: "c", Address: "a", Zone: fieldsync.ZoneCity, CreatedAt: now}, admin))
	must(t, db.CreateAsset(ctx, &fieldsync.Asset{ID: "a", CustomerID: "c", Category: fieldsync.CategoryTV, Model: "m", Serial: "s", CreatedAt: now}, admin))
	visits := map[string]fieldsync.VisitStatus{"t-new": "", "t-going": fieldsync.VisitOnSite, "t-done": fieldsync.VisitCompleted}
	for id, vs := range visits {
		must(t, db.CreateTicket(ctx, &fieldsync.Ticket{ID: id, CustomerID: "c", SiteID: "s", AssetID: "a", Channel: fieldsync.ChannelWeb, Kind: fieldsync.KindRepair, Description: "d", CreatedAt: now}, admin))
		if vs != "" {
			must(t, bookVisit(ctx, db, &fieldsync.Visit{ID: "v-" + id, TicketID: id, TechnicianID: "tech", Status: vs, CreatedAt: now}, admin))
		}
	}
	db.Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("tickets"))
		for id := range visits {
			var rec map[string]any
			if err := json.Unmarshal(b.Get([]byte(id)), &rec); err != nil {
				return err
			}
			delete(rec, "status")
			raw, _ := json.Marshal(rec)
			if err := b.Put([]byte(id), raw); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(24)) // 24 -> 25 gives statuses
	})
	db = dbOpen(t, path)
	defer db.Close()
	for id, want := range map[string]fieldsync.TicketStatus{"t-new": fieldsync.TicketOpen, "t-going": fieldsync.TicketInProgress, "t-done": fieldsync.TicketResolved} {
		if s := ticketStatus(t, db, id); s != want {
			t.Errorf("migrated %s is %q, want %s", id, s, want)
		}
	}
}
