package bolt_test

import (
	"encoding/json"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

// A second visit's technician receives the visit that asked for it, its
// report and photos, when the visit is booked or assigned to them, and
// the later changes of those; a reassignment takes them away; nothing of
// the ticket's other visits nor of other tickets reaches them.
func TestSecondVisitCarriesThePreviousVisitsReport(t *testing.T) {
	w := newWorld(t)
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	must(t, w.db.PublishTemplates(ctx, templates.All()))
	must(t, w.db.CreateUser(ctx, fieldsync.User{ID: "tech-c", Login: "tech-c", Role: fieldsync.RoleTechnician, CreatedAt: w.now}))
	// Another ticket of the same customer, with technician A's report.
	must(t, w.db.CreateTicket(ctx, &fieldsync.Ticket{ID: "t2", CustomerID: w.cus, SiteID: "s1", AssetID: "a1", Channel: fieldsync.ChannelWeb, Kind: fieldsync.KindRepair, Description: "d", CreatedAt: w.now}, admin))
	must(t, bookVisit(ctx, w.db, &fieldsync.Visit{ID: "v-other", TicketID: "t2", TechnicianID: w.techA, Status: fieldsync.VisitScheduled, CreatedAt: w.now}, admin))
	must(t, w.db.CreateReport(ctx, &fieldsync.Report{ID: "r-other", VisitID: "v-other", TemplateID: "tv-v1", Status: fieldsync.ReportDraft, CreatedAt: w.now}, fieldsync.Actor{UserID: w.techA}))

	w.onSite(t, "v-first")
	must(t, w.db.CreateReport(ctx, &fieldsync.Report{ID: "r1", VisitID: "v-first", TemplateID: "tv-v1", Status: fieldsync.ReportDraft, CreatedAt: w.now}, fieldsync.Actor{UserID: w.techA}))
	w.addPhoto(t, w.photoOn(shaA, "r1", "fault", true))
	must(t, w.db.Push(ctx, finish("v-first", fieldsync.ActionNeedSecondVisit, w.now)))

	if err := bookVisit(ctx, w.db, &fieldsync.Visit{ID: "v-bad", TicketID: w.ticket, TechnicianID: w.techB, Status: fieldsync.VisitScheduled, PreviousVisitID: "v-other", CreatedAt: w.now}, admin); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Fatalf("a second visit naming another ticket's visit: %v", err)
	}
	must(t, bookVisit(ctx, w.db, &fieldsync.Visit{ID: "v-second", TicketID: w.ticket, TechnicianID: w.techB, Status: fieldsync.VisitScheduled, PreviousVisitID: "v-first", CreatedAt: w.now}, admin))
	photo := "photo/r1:fault:" + shaA
	got, cursorB := w.pull(t, w.techB, "")
	for _, want := range []string{"visit/v-second", "ticket/t1", "asset/a1", "visit/v-first", "report/r1", photo} {
		if got[want] != syncproto.ChangeUpsert {
			t.Fatalf("B after booking lacks %s: %v", want, got)
		}
	}
	for _, never := range []string{"visit/" + w.visit, "visit/v-other", "ticket/t2", "report/r-other", "visit/v-bad"} {
		if _, ok := got[never]; ok {
			t.Fatalf("B received %s, not theirs: %v", never, got)
		}
	}

	// Later changes of the first visit's report reach B: an edit pushed
	// by A, and a photo added.
	must(t, w.db.Push(ctx, func(tx syncproto.Txn) error {
		r, err := tx.Report("r1")
		if err != nil {
			return err
		}
		v, err := tx.Visit("v-first")
		if err != nil {
			return err
		}
		r.Findings = "capacitor"
		_, err = tx.PutReport(r, false, v, map[string]json.RawMessage{"findings": json.RawMessage(`"capacitor"`)}, fieldsync.Actor{UserID: w.techA, DeviceID: "tab"}, "report.edit", w.now)
		return err
	}))
	w.addPhoto(t, w.photoOn(shaB, "r1", "serial_plate", true))
	must(t, w.db.CreateReport(ctx, &fieldsync.Report{ID: "r-other2", VisitID: "v-other", TemplateID: "tv-v1", Status: fieldsync.ReportDraft, CreatedAt: w.now}, fieldsync.Actor{UserID: w.techA}))
	got, _ = w.pull(t, w.techB, cursorB)
	if len(got) != 2 || got["report/r1"] != syncproto.ChangeUpsert || got["photo/r1:serial_plate:"+shaB] != syncproto.ChangeUpsert {
		t.Fatalf("B after A's changes: %v", got)
	}

	// Reassigned to C: B loses the first visit with the second, C gets both.
	_, err := w.db.UpdateVisit(ctx, "v-second", fieldsync.Actor{UserID: "disp"}, "visit.assign", w.now, func(v *fieldsync.Visit) error {
		return v.Assign("tech-c", w.now)
	})
	must(t, err)
	got, _ = w.pull(t, w.techB, cursorB)
	for _, gone := range []string{"visit/v-second", "visit/v-first", "report/r1", photo} {
		if got[gone] != syncproto.ChangeEvict {
			t.Fatalf("B after reassignment: %s is %q: %v", gone, got[gone], got)
		}
	}
	got, _ = w.pull(t, "tech-c", "")
	if got["visit/v-first"] != syncproto.ChangeUpsert || got["report/r1"] != syncproto.ChangeUpsert || got[photo] != syncproto.ChangeUpsert || got["report/r-other"] != "" {
		t.Fatalf("C after reassignment: %v", got)
	}
	// A keeps the first visit: it is their own.
	if got, _ := w.pull(t, w.techA, ""); got["visit/v-first"] != syncproto.ChangeUpsert || got["report/r1"] != syncproto.ChangeUpsert {
		t.Fatalf("A lost their own visit: %v", got)
	}
}

// A file of the schema before the previous-visit index gains it on Open,
// filled from the visits stored: a second visit booked before still
// receives the later changes of its previous visit.
func TestOpenMigratesToThePreviousVisitIndex(t *testing.T) {
	path := dbPath(t)
	w := newWorldAt(t, path)
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	w.onSite(t, "v-first")
	must(t, w.db.Push(ctx, finish("v-first", fieldsync.ActionNeedSecondVisit, w.now)))
	must(t, bookVisit(ctx, w.db, &fieldsync.Visit{ID: "v-second", TicketID: w.ticket, TechnicianID: w.techB, Status: fieldsync.VisitScheduled, PreviousVisitID: "v-first", CreatedAt: w.now}, admin))
	w.db.Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket([]byte("idx_visits_previous")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(21)) // 21 -> 22 adds it
	})
	w.db = dbOpen(t, path)
	_, cursor := w.pull(t, w.techB, "")
	must(t, w.db.CreateReport(ctx, &fieldsync.Report{ID: "r-late", VisitID: "v-first", TemplateID: "tv-v1", Status: fieldsync.ReportDraft, CreatedAt: w.now}, fieldsync.Actor{UserID: w.techA}))
	if got, _ := w.pull(t, w.techB, cursor); got["report/r-late"] != syncproto.ChangeUpsert {
		t.Fatalf("B after the migration: %v", got)
	}
	w.db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Fatalf("schema version %d", v)
	}
}
