package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// bookVisit stores v as it is, through CreateVisit.
func bookVisit(ctx context.Context, db *bolt.DB, v *fieldsync.Visit, actor fieldsync.Actor) error {
	_, err := db.CreateVisit(ctx, v.TicketID, actor, func(*fieldsync.Ticket, *fieldsync.Site, []fieldsync.Visit) (*fieldsync.Visit, error) {
		return v, nil
	})
	return err
}

func TestCreateVisitPlansInItsTransaction(t *testing.T) {
	w := newWorld(t)
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	auditOf := func(id string) int {
		entries, _, err := w.db.Audit(ctx, fieldsync.AuditFilter{Entity: "visit", ID: id})
		must(t, err)
		return len(entries)
	}

	var seen []string
	v, err := w.db.CreateVisit(ctx, w.ticket, admin, func(tk *fieldsync.Ticket, site *fieldsync.Site, visits []fieldsync.Visit) (*fieldsync.Visit, error) {
		for _, v := range visits {
			seen = append(seen, v.ID)
		}
		if tk.ID != w.ticket || site.ID != tk.SiteID {
			t.Fatalf("plan got ticket %q and site %q", tk.ID, site.ID)
		}
		return &fieldsync.Visit{ID: "v2", TicketID: tk.ID, TechnicianID: w.techB, Status: fieldsync.VisitScheduled, CreatedAt: w.now}, nil
	})
	must(t, err)
	if v.ID != "v2" || fmt.Sprint(seen) != "[v1]" || auditOf("v2") != 1 {
		t.Fatalf("booked %+v after seeing %v, audit %d entries", v, seen, auditOf("v2"))
	}

	refused := fieldsync.Errorf(fieldsync.EConflict, "busy")
	_, err = w.db.CreateVisit(ctx, w.ticket, admin, func(*fieldsync.Ticket, *fieldsync.Site, []fieldsync.Visit) (*fieldsync.Visit, error) {
		return nil, refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("a refused plan returned %v", err)
	}
	err = bookVisit(ctx, w.db, &fieldsync.Visit{ID: "v3", TicketID: w.ticket, TechnicianID: "admin", CreatedAt: w.now}, admin)
	if fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("a visit for an unknown technician: %v", err)
	}
	if _, err := w.db.Visit(ctx, "v3"); fieldsync.ErrorCode(err) != fieldsync.ENotFound || auditOf("v3") != 0 {
		t.Fatalf("a refused booking left a visit (%v) or audit entries (%d)", err, auditOf("v3"))
	}

	planned := false
	_, err = w.db.CreateVisit(ctx, "nope", admin, func(*fieldsync.Ticket, *fieldsync.Site, []fieldsync.Visit) (*fieldsync.Visit, error) {
		planned = true
		return nil, nil
	})
	if fieldsync.ErrorCode(err) != fieldsync.ENotFound || planned {
		t.Fatalf("an unknown ticket: %v, planned %v", err, planned)
	}
}

func TestListingsPageThroughCursors(t *testing.T) {
	w := newWorld(t)
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	// v1 (tech A) exists; v2…v6 alternate between the technicians, and
	// the even ones are cancelled.
	for i := 2; i <= 6; i++ {
		tech, status := w.techA, fieldsync.VisitScheduled
		if i%2 == 1 {
			tech = w.techB
		}
		if i%2 == 0 {
			status = fieldsync.VisitCancelled
		}
		must(t, bookVisit(ctx, w.db, &fieldsync.Visit{ID: fmt.Sprintf("v%d", i), TicketID: w.ticket, TechnicianID: tech, Status: status, CreatedAt: w.now}, admin))
	}
	all := func(f fieldsync.VisitFilter) (ids []string, pages int) {
		for {
			visits, next, err := w.db.Visits(ctx, f)
			must(t, err)
			pages++
			for _, v := range visits {
				ids = append(ids, v.ID)
			}
			if next == "" {
				return ids, pages
			}
			f.Cursor = next
		}
	}
	tests := []struct {
		name  string
		f     fieldsync.VisitFilter
		want  string
		pages int
	}{
		{"every visit, two a page", fieldsync.VisitFilter{Limit: 2}, "[v1 v2 v3 v4 v5 v6]", 3},
		{"every visit on one page", fieldsync.VisitFilter{}, "[v1 v2 v3 v4 v5 v6]", 1},
		{"one technician's, through their index", fieldsync.VisitFilter{TechnicianID: "tech-a", Limit: 2}, "[v1 v2 v4 v6]", 2},
		{"a filter skips records without ending the page", fieldsync.VisitFilter{Status: fieldsync.VisitCancelled, Limit: 2}, "[v2 v4 v6]", 2},
		{"a page that takes the last records has no next cursor", fieldsync.VisitFilter{TechnicianID: "tech-b", Limit: 2}, "[v3 v5]", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, pages := all(tt.f)
			if fmt.Sprint(ids) != tt.want || pages != tt.pages {
				t.Fatalf("listed %v in %d pages, want %s in %d", ids, pages, tt.want, tt.pages)
			}
		})
	}
	if _, _, err := w.db.Visits(ctx, fieldsync.VisitFilter{Cursor: "!!"}); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Fatalf("a malformed cursor: %v", err)
	}

	entries, next, err := w.db.Audit(ctx, fieldsync.AuditFilter{Entity: "visit", ID: "v3"})
	must(t, err)
	if len(entries) != 1 || entries[0].Action != "visit.create" || next != "" {
		t.Fatalf("audit of v3: %+v, next %q", entries, next)
	}
	entries, _, err = w.db.Audit(ctx, fieldsync.AuditFilter{Entity: "visit"})
	must(t, err)
	if len(entries) != 6 {
		t.Fatalf("audit of visits: %d entries, want 6", len(entries))
	}
}
