package bolt_test

import (
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

type hourPromises struct{}

func (hourPromises) ComplaintDue(opened time.Time) (time.Time, time.Time, string, error) {
	return opened.Add(24 * time.Hour), opened.Add(72 * time.Hour), "", nil
}

func TestComplaintsStore(t *testing.T) {
	w := newWorld(t)
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	open := func(id string, at time.Time) *fieldsync.Complaint {
		t.Helper()
		c, err := w.db.CreateComplaint(ctx, w.ticket, admin, func(tk *fieldsync.Ticket) (*fieldsync.Complaint, error) {
			return fieldsync.OpenComplaint(id, tk, fieldsync.SourceDispatcher, "admin", "rude technician", at, hourPromises{})
		})
		must(t, err)
		return c
	}
	if _, err := w.db.CreateComplaint(ctx, "no-ticket", admin, nil); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("complaint on no ticket: %v", err)
	}
	a := open("c-a", w.now)
	b := open("c-b", w.now.Add(48*time.Hour))
	if a.CustomerID != w.cus {
		t.Fatalf("customer %q", a.CustomerID)
	}

	list := func(f fieldsync.ComplaintFilter) []string {
		t.Helper()
		cs, _, err := w.db.Complaints(ctx, f)
		must(t, err)
		ids := []string{}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return ids
	}
	at := w.now.Add(25 * time.Hour)
	if got := list(fieldsync.ComplaintFilter{Due: fieldsync.DueOverdue, Now: at}); len(got) != 1 || got[0] != "c-a" {
		t.Fatalf("overdue = %v, want [c-a]", got)
	}
	if got := list(fieldsync.ComplaintFilter{CustomerIDs: []string{w.cus}}); len(got) != 2 {
		t.Fatalf("customer's = %v", got)
	}
	if got := list(fieldsync.ComplaintFilter{CustomerIDs: []string{"other"}}); len(got) != 0 {
		t.Fatalf("another customer's = %v", got)
	}

	// The sweep escalates a once for its missed first contact, and not b.
	n, err := w.db.EscalateDue(ctx, at)
	must(t, err)
	if n != 1 {
		t.Fatalf("EscalateDue escalated %d, want 1", n)
	}
	if n, err := w.db.EscalateDue(ctx, at); err != nil || n != 0 {
		t.Fatalf("a second sweep escalated %d, %v", n, err)
	}
	got, err := w.db.Complaint(ctx, a.ID)
	must(t, err)
	if got.Level != fieldsync.LevelSupervisor || len(got.Escalations) != 1 || !got.Escalations[0].At.Equal(a.FirstContactDue) {
		t.Fatalf("after the sweep: %+v", got)
	}
	entries, _, err := w.db.Audit(ctx, fieldsync.AuditFilter{Entity: fieldsync.EntityComplaint, ID: a.ID})
	must(t, err)
	if len(entries) != 2 || entries[0].Action != "complaint.create" || entries[1].Action != "complaint.escalate" || entries[1].UserID != "system" {
		t.Fatalf("audit = %+v", entries)
	}

	// A step escalates what was missed first, then applies; a refused
	// step writes nothing.
	if _, err := w.db.UpdateComplaint(ctx, b.ID, admin, "complaint.propose", at, func(c *fieldsync.Complaint) error {
		return c.Apply(fieldsync.ComplaintPropose, "admin", "refund", at)
	}); fieldsync.ErrorCode(err) != fieldsync.EInvalidTransition {
		t.Fatalf("propose on an open complaint: %v", err)
	}
	late := w.now.Add(80 * time.Hour)
	c, err := w.db.UpdateComplaint(ctx, b.ID, admin, "complaint.contact", late, func(c *fieldsync.Complaint) error {
		return c.Apply(fieldsync.ComplaintContact, "admin", "", late)
	})
	must(t, err)
	if c.Level != fieldsync.LevelSupervisor || c.Status != fieldsync.ComplaintContacted {
		t.Fatalf("late contact: %+v", c)
	}
	if got := list(fieldsync.ComplaintFilter{Due: fieldsync.DueToday, Now: late, DueBefore: w.now.Add(121 * time.Hour)}); len(got) != 1 || got[0] != "c-b" {
		t.Fatalf("due by b's resolution = %v", got)
	}
	ofTicket, err := w.db.ComplaintsOfTicket(ctx, w.ticket)
	must(t, err)
	if len(ofTicket) != 2 {
		t.Fatalf("ticket's complaints = %d", len(ofTicket))
	}
}

// A file of the schema before complaints gains their buckets on Open.
func TestOpenMigratesToComplaints(t *testing.T) {
	path := dbPath(t)
	dbOpen(t, path).Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		for _, b := range []string{"complaints", "idx_complaints_ticket", "idx_complaints_due", "idx_complaints_escalate"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(17)) // 17 -> 18 adds them
	})
	db := dbOpen(t, path)
	if cs, _, err := db.Complaints(t.Context(), fieldsync.ComplaintFilter{Due: fieldsync.DueOverdue, Now: time.Now()}); err != nil || len(cs) != 0 {
		t.Fatalf("Complaints: %v, %v", cs, err)
	}
	if n, err := db.EscalateDue(t.Context(), time.Now()); err != nil || n != 0 {
		t.Fatalf("EscalateDue: %d, %v", n, err)
	}
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Fatalf("schema version %d", v)
	}
}
