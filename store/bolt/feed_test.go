package bolt_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// world is one ticket with a visit, straight on the store.
type world struct {
	db                 *bolt.DB
	techA, techB       string
	visit, ticket, cus string
	now                time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldAt(t, dbPath(t))
}

// newWorldAt makes the world in the file at path.
func newWorldAt(t *testing.T, path string) *world {
	t.Helper()
	db := dbOpen(t, path)
	now := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	w := &world{db: db, techA: "tech-a", techB: "tech-b", now: now}
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	for _, id := range []string{w.techA, w.techB} {
		if err := db.CreateUser(ctx, fieldsync.User{ID: id, Login: id, Role: fieldsync.RoleTechnician, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	w.cus = "c1"
	must(t, db.CreateCustomer(ctx, &fieldsync.Customer{ID: w.cus, Name: "n", Phone: "1", CreatedAt: now}, admin))
	must(t, db.CreateSite(ctx, &fieldsync.Site{ID: "s1", CustomerID: w.cus, Address: "a", Zone: fieldsync.ZoneCity, CreatedAt: now}, admin))
	must(t, db.CreateAsset(ctx, &fieldsync.Asset{ID: "a1", CustomerID: w.cus, Category: fieldsync.CategoryTV, Model: "m", Serial: "s", CreatedAt: now}, admin))
	w.ticket = "t1"
	must(t, db.CreateTicket(ctx, &fieldsync.Ticket{ID: w.ticket, CustomerID: w.cus, SiteID: "s1", AssetID: "a1", Channel: fieldsync.ChannelWeb, Kind: fieldsync.KindRepair, Description: "d", CreatedAt: now}, admin))
	w.visit = "v1"
	must(t, bookVisit(ctx, db, &fieldsync.Visit{ID: w.visit, TicketID: w.ticket, TechnicianID: w.techA, Status: fieldsync.VisitScheduled, CreatedAt: now}, admin))
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) pull(t *testing.T, tech, cursor string) (map[string]string, string) {
	t.Helper()
	changes, next, more, err := w.db.Pull(t.Context(), syncproto.PartitionsFor(tech, fieldsync.RoleTechnician), cursor, 1000)
	must(t, err)
	if more {
		t.Fatal("unexpected has_more")
	}
	got := map[string]string{}
	for _, c := range changes {
		if c.Entity != "template" {
			got[string(c.Entity)+"/"+c.ID] = c.Op
		}
	}
	return got, next
}

func TestPartitionsAndTombstoneHorizon(t *testing.T) {
	w := newWorld(t)
	got, cursorA := w.pull(t, w.techA, "")
	if len(got) != 5 || got["visit/v1"] != "upsert" || got["customer/c1"] != "upsert" {
		t.Fatalf("A's bootstrap: %v", got)
	}
	if got, _ := w.pull(t, w.techB, ""); len(got) != 0 {
		t.Fatalf("B sees another technician's bundle: %v", got)
	}

	_, err := w.db.UpdateVisit(t.Context(), w.visit, fieldsync.Actor{UserID: "disp"}, "visit.assign", w.now, func(v *fieldsync.Visit) error {
		return v.Assign(w.techB, w.now)
	})
	must(t, err)
	if got, _ := w.pull(t, w.techA, cursorA); len(got) != 5 || got["visit/v1"] != "evict" || got["asset/a1"] != "evict" {
		t.Fatalf("A after reassignment: %v", got)
	}
	if got, _ := w.pull(t, w.techB, ""); len(got) != 5 || got["visit/v1"] != "upsert" {
		t.Fatalf("B after reassignment: %v", got)
	}

	// Past the horizon the evictions are pruned: A's old cursor must reset,
	// and A's fresh bootstrap holds nothing of the visit.
	n, err := w.db.PruneFeed(t.Context(), time.Now().Add(time.Hour))
	must(t, err)
	if n != 5 {
		t.Fatalf("pruned %d tombstones, want 5", n)
	}
	_, _, _, err = w.db.Pull(t.Context(), syncproto.PartitionsFor(w.techA, fieldsync.RoleTechnician), cursorA, 100)
	if fieldsync.ErrorCode(err) != fieldsync.ECursorReset {
		t.Fatalf("a cursor from before the horizon: %v", err)
	}
	if got, _ := w.pull(t, w.techA, ""); len(got) != 0 {
		t.Fatalf("A's bootstrap after pruning: %v", got)
	}
	if got, _ := w.pull(t, w.techB, ""); len(got) != 5 {
		t.Fatalf("pruning touched live records: %v", got)
	}
}

func TestPullMeetsEachRecordOnceAtItsLatest(t *testing.T) {
	w := newWorld(t)
	_, cursor := w.pull(t, w.techA, "")
	for _, a := range []fieldsync.VisitAction{fieldsync.ActionDepart, fieldsync.ActionArrive, fieldsync.ActionComplete} {
		_, err := w.db.UpdateVisit(t.Context(), w.visit, fieldsync.Actor{UserID: w.techA}, "visit."+string(a), w.now, func(v *fieldsync.Visit) error {
			return v.Apply(a, w.now, "")
		})
		must(t, err)
	}
	changes, _, _, err := w.db.Pull(t.Context(), syncproto.PartitionsFor(w.techA, fieldsync.RoleTechnician), cursor, 100)
	must(t, err)
	// The ticket follows the visit (in progress, then resolved): it too
	// is met once, after it.
	if len(changes) != 2 || changes[0].ID != w.visit || changes[0].Op != syncproto.ChangeUpsert || changes[1].ID != w.ticket {
		t.Fatalf("three changes of one visit pulled as %+v, want it once and its ticket once", changes)
	}
	if want := `"status":"completed"`; !strings.Contains(string(changes[0].Data), want) {
		t.Fatalf("pulled %s, want the latest state", changes[0].Data)
	}
}

func TestReferenceDataReachesEveryDeviceOnceAndOnChange(t *testing.T) {
	w := newWorld(t)
	refs := []bolt.Reference{
		{Entity: "calendar", ID: "cn-2026", Data: []byte(`{"year": 2026}`)},
		{Entity: "policy", ID: "default", Data: []byte(`{"at_risk":"4h"}`)},
	}
	must(t, w.db.PublishReference(t.Context(), refs))
	refsOf := func(tech, cursor string) (map[string]bool, string) {
		changes, next, _, err := w.db.Pull(t.Context(), syncproto.PartitionsFor(tech, fieldsync.RoleTechnician), cursor, 1000)
		must(t, err)
		got := map[string]bool{}
		for _, c := range changes {
			if c.Entity == "calendar" || c.Entity == "policy" {
				got[string(c.Entity)+"/"+c.ID] = true
			}
		}
		return got, next
	}
	got, cursor := refsOf(w.techB, "")
	if !got["calendar/cn-2026"] || !got["policy/default"] {
		t.Fatalf("a technician without visits lacks the reference data: %v", got)
	}
	must(t, w.db.PublishReference(t.Context(), refs)) // unchanged: nothing new
	if got, _ := refsOf(w.techB, cursor); len(got) != 0 {
		t.Fatalf("republishing unchanged data sent %v", got)
	}
	refs[1].Data = []byte(`{"at_risk":"2h"}`)
	must(t, w.db.PublishReference(t.Context(), refs))
	if got, _ := refsOf(w.techB, cursor); len(got) != 1 || !got["policy/default"] {
		t.Fatalf("a changed policy sent %v", got)
	}
	if err := w.db.PublishReference(t.Context(), []bolt.Reference{{Entity: "visit", ID: "x", Data: []byte(`{}`)}}); err == nil {
		t.Fatal("a visit was accepted as reference data")
	}
}
