package bolt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

func key(parts ...string) []byte {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.Bytes()
}

// audited stores after under id in bucket, appends the audit entry of the
// change and publishes it to the sync feed, in the caller's transaction.
func audited(tx *bbolt.Tx, bucket []byte, entity, id string, before, after any, actor fieldsync.Actor, action string, now time.Time) error {
	if err := put(tx.Bucket(bucket), id, after); err != nil {
		return err
	}
	if err := writeAudit(tx, entity, id, before, after, actor, action, now); err != nil {
		return err
	}
	_, err := publish(tx, entity, id, syncproto.ChangeUpsert, now)
	return err
}

// auditKnown appends the audit entry of a change that is already known —
// a push knows what its mutation changed — so nothing is diffed: the entry
// holds the changed fields' new values.
func auditKnown(tx *bbolt.Tx, entity, id string, changes map[string]json.RawMessage, actor fieldsync.Actor, action string, now time.Time) error {
	e := fieldsync.AuditEntry{ID: newAuditID(), At: now, UserID: actor.UserID, DeviceID: actor.DeviceID, Action: action, Entity: entity, EntityID: id,
		Changes: make(map[string]fieldsync.Change, len(changes))}
	for k, v := range changes {
		e.Changes[k] = fieldsync.Change{To: v}
	}
	if err := put(auditBucket(tx), e.ID, e); err != nil {
		return err
	}
	return tx.Bucket(indexAuditByEntity).Put(key(entity, id, e.ID), nil)
}

// writeAudit appends the audit entry of a change.
func writeAudit(tx *bbolt.Tx, entity, id string, before, after any, actor fieldsync.Actor, action string, now time.Time) error {
	changes, err := fieldsync.Diff(before, after)
	if err != nil {
		return err
	}
	e := fieldsync.AuditEntry{
		ID: newAuditID(), At: now, UserID: actor.UserID, DeviceID: actor.DeviceID,
		Action: action, Entity: entity, EntityID: id, Changes: changes,
	}
	if err := put(auditBucket(tx), e.ID, e); err != nil {
		return err
	}
	return tx.Bucket(indexAuditByEntity).Put(key(entity, id, e.ID), nil)
}

// create stores a new record; EConflict if the id is taken.
func create(tx *bbolt.Tx, bucket []byte, entity, id string, v any, actor fieldsync.Actor, now time.Time) error {
	if id == "" {
		return fieldsync.Errorf(fieldsync.EInvalid, "%s id is required", entity)
	}
	if tx.Bucket(bucket).Get([]byte(id)) != nil {
		return fieldsync.Errorf(fieldsync.EConflict, "%s %q exists", entity, id)
	}
	return audited(tx, bucket, entity, id, nil, v, actor, entity+".create", now)
}

// must loads the record id of bucket, or ENotFound naming the field that
// referred to it.
func must[T any](tx *bbolt.Tx, bucket []byte, field, id string) (*T, error) {
	v, err := get[T](tx.Bucket(bucket), id)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "%s: no record %q", field, id)
	}
	return v, nil
}

func view[T any](s *DB, bucket []byte, kind, id string) (*T, error) {
	var v *T
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		v, err = must[T](tx, bucket, kind, id)
		return err
	})
	return v, err
}

// CreateCustomer stores a new customer. A UserID must name a user with
// the customer role (EInvalid).
func (s *DB) CreateCustomer(ctx context.Context, c *fieldsync.Customer, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error { return createCustomer(tx, c, actor) })
}

func createCustomer(tx *bbolt.Tx, c *fieldsync.Customer, actor fieldsync.Actor) error {
	if c.UserID != "" {
		u, err := must[fieldsync.User](tx, bucketUsers, "user_id", c.UserID)
		if err != nil {
			return err
		}
		if u.Role != fieldsync.RoleCustomer {
			return fieldsync.Errorf(fieldsync.EInvalid, "user_id: user %q is a %s, not a customer", c.UserID, u.Role)
		}
		if err := tx.Bucket(indexCustomersByUser).Put(key(c.UserID, c.ID), nil); err != nil {
			return err
		}
	}
	return create(tx, bucketCustomers, "customer", c.ID, c, actor, c.CreatedAt)
}

// Customer returns a customer or ENotFound.
func (s *DB) Customer(ctx context.Context, id string) (*fieldsync.Customer, error) {
	return view[fieldsync.Customer](s, bucketCustomers, "customer", id)
}

// CreateSite stores a new site of an existing customer.
func (s *DB) CreateSite(ctx context.Context, site *fieldsync.Site, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error {
		return createOwned(tx, bucketSites, "site", site.ID, site.CustomerID, site, actor, site.CreatedAt)
	})
}

// createOwned stores a new record of an existing customer.
func createOwned(tx *bbolt.Tx, bucket []byte, entity, id, customerID string, v any, actor fieldsync.Actor, at time.Time) error {
	if _, err := must[fieldsync.Customer](tx, bucketCustomers, "customer_id", customerID); err != nil {
		return err
	}
	return create(tx, bucket, entity, id, v, actor, at)
}

// Site returns a site or ENotFound.
func (s *DB) Site(ctx context.Context, id string) (*fieldsync.Site, error) {
	return view[fieldsync.Site](s, bucketSites, "site", id)
}

// CreateAsset stores a new asset of an existing customer.
func (s *DB) CreateAsset(ctx context.Context, a *fieldsync.Asset, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error {
		return createOwned(tx, bucketAssets, "asset", a.ID, a.CustomerID, a, actor, a.CreatedAt)
	})
}

// Asset returns an asset or ENotFound.
func (s *DB) Asset(ctx context.Context, id string) (*fieldsync.Asset, error) {
	return view[fieldsync.Asset](s, bucketAssets, "asset", id)
}

// CreateTicket stores a ticket whose customer, site and asset exist and
// belong together (EInvalid when the site or asset is another customer's).
func (s *DB) CreateTicket(ctx context.Context, t *fieldsync.Ticket, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error { return createTicket(tx, t, actor) })
}

func createTicket(tx *bbolt.Tx, t *fieldsync.Ticket, actor fieldsync.Actor) error {
	if _, err := must[fieldsync.Customer](tx, bucketCustomers, "customer_id", t.CustomerID); err != nil {
		return err
	}
	site, err := must[fieldsync.Site](tx, bucketSites, "site_id", t.SiteID)
	if err != nil {
		return err
	}
	asset, err := must[fieldsync.Asset](tx, bucketAssets, "asset_id", t.AssetID)
	if err != nil {
		return err
	}
	if site.CustomerID != t.CustomerID || asset.CustomerID != t.CustomerID {
		return fieldsync.Errorf(fieldsync.EInvalid, "the site and the asset must belong to customer %q", t.CustomerID)
	}
	if err := tx.Bucket(indexTicketsByCust).Put(key(t.CustomerID, t.ID), nil); err != nil {
		return err
	}
	return create(tx, bucketTickets, "ticket", t.ID, t, actor, t.CreatedAt)
}

// Ticket returns a ticket or ENotFound.
func (s *DB) Ticket(ctx context.Context, id string) (*fieldsync.Ticket, error) {
	return view[fieldsync.Ticket](s, bucketTickets, "ticket", id)
}

// UpdateTicket applies fn to the ticket in one transaction and audits the
// change under action. fn's error aborts it.
func (s *DB) UpdateTicket(ctx context.Context, id string, actor fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Ticket) error) (*fieldsync.Ticket, error) {
	var out *fieldsync.Ticket
	err := s.update(func(tx *bbolt.Tx) error {
		before, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket", id)
		if err != nil {
			return err
		}
		after := *before
		if err := fn(&after); err != nil {
			return err
		}
		out = &after
		return audited(tx, bucketTickets, "ticket", id, before, &after, actor, action, now)
	})
	return out, err
}

// TicketContext returns a ticket with its site and its visits, which a
// new visit's deadline depends on.
func (s *DB) TicketContext(ctx context.Context, id string) (*fieldsync.Ticket, *fieldsync.Site, []fieldsync.Visit, error) {
	var (
		t      *fieldsync.Ticket
		site   *fieldsync.Site
		visits []fieldsync.Visit
	)
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		if t, err = must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", id); err != nil {
			return err
		}
		if site, err = must[fieldsync.Site](tx, bucketSites, "site_id", t.SiteID); err != nil {
			return err
		}
		visits, err = children[fieldsync.Visit](tx, indexVisitsByTicket, bucketVisits, id)
		return err
	})
	return t, site, visits, err
}

// CustomerIDsOfUser returns the customer records linked to a customer's
// account.
func (s *DB) CustomerIDsOfUser(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return scanPrefix(tx.Bucket(indexCustomersByUser), key(userID, ""), "", func(child string) (bool, error) {
			ids = append(ids, child)
			return true, nil
		})
	})
	return ids, err
}

// TicketsOfCustomer lists a customer's tickets in creation order.
func (s *DB) TicketsOfCustomer(ctx context.Context, customerID string) ([]fieldsync.Ticket, error) {
	var out []fieldsync.Ticket
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		out, err = children[fieldsync.Ticket](tx, indexTicketsByCust, bucketTickets, customerID)
		return err
	})
	return out, err
}

// CreateVisit stores a visit of an existing ticket, assigned to a user
// with the technician role (EInvalid otherwise).
func (s *DB) CreateVisit(ctx context.Context, v *fieldsync.Visit, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error { return createVisit(tx, v, actor) })
}

func createVisit(tx *bbolt.Tx, v *fieldsync.Visit, actor fieldsync.Actor) error {
	if _, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", v.TicketID); err != nil {
		return err
	}
	if err := checkTechnician(tx, v.TechnicianID); err != nil {
		return err
	}
	if err := tx.Bucket(indexVisitsByTicket).Put(key(v.TicketID, v.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(indexVisitsByTech).Put(key(v.TechnicianID, v.ID), nil); err != nil {
		return err
	}
	if err := create(tx, bucketVisits, "visit", v.ID, v, actor, v.CreatedAt); err != nil {
		return err
	}
	return backfill(tx, v.TechnicianID, v.ID, v.CreatedAt)
}

func checkTechnician(tx *bbolt.Tx, id string) error {
	u, err := must[fieldsync.User](tx, bucketUsers, "technician_id", id)
	if err != nil {
		return err
	}
	if u.Role != fieldsync.RoleTechnician {
		return fieldsync.Errorf(fieldsync.EInvalid, "technician_id: user %q is a %s, not a technician", id, u.Role)
	}
	return nil
}

// UpdateVisit applies fn to the visit in one transaction and audits the
// change under action. A new technician must be one (EInvalid), and the
// technician index follows the change.
func (s *DB) UpdateVisit(ctx context.Context, id string, actor fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Visit) error) (*fieldsync.Visit, error) {
	var out *fieldsync.Visit
	err := s.update(func(tx *bbolt.Tx) error {
		before, err := must[fieldsync.Visit](tx, bucketVisits, "visit", id)
		if err != nil {
			return err
		}
		after := *before
		if err := fn(&after); err != nil {
			return err
		}
		if after.TechnicianID != before.TechnicianID {
			if err := checkTechnician(tx, after.TechnicianID); err != nil {
				return err
			}
			idx := tx.Bucket(indexVisitsByTech)
			if err := idx.Delete(key(before.TechnicianID, id)); err != nil {
				return err
			}
			if err := idx.Put(key(after.TechnicianID, id), nil); err != nil {
				return err
			}
		}
		out = &after
		if err := audited(tx, bucketVisits, "visit", id, before, &after, actor, action, now); err != nil {
			return err
		}
		if after.TechnicianID != before.TechnicianID {
			// The new technician gets the whole bundle; the old one an evict
			// of what their other visits do not need.
			if err := backfill(tx, after.TechnicianID, id, now); err != nil {
				return err
			}
			return evict(tx, before.TechnicianID, id, now)
		}
		return nil
	})
	return out, err
}

// Visit returns a visit or ENotFound.
func (s *DB) Visit(ctx context.Context, id string) (*fieldsync.Visit, error) {
	return view[fieldsync.Visit](s, bucketVisits, "visit", id)
}

// VisitBundle reads a visit with its ticket, customer, site, asset and
// reports in one consistent snapshot.
func (s *DB) VisitBundle(ctx context.Context, id string) (*fieldsync.VisitBundle, error) {
	var b fieldsync.VisitBundle
	err := s.db.View(func(tx *bbolt.Tx) error {
		v, err := must[fieldsync.Visit](tx, bucketVisits, "visit", id)
		if err != nil {
			return err
		}
		t, err := must[fieldsync.Ticket](tx, bucketTickets, "ticket_id", v.TicketID)
		if err != nil {
			return err
		}
		c, err := must[fieldsync.Customer](tx, bucketCustomers, "customer_id", t.CustomerID)
		if err != nil {
			return err
		}
		site, err := must[fieldsync.Site](tx, bucketSites, "site_id", t.SiteID)
		if err != nil {
			return err
		}
		a, err := must[fieldsync.Asset](tx, bucketAssets, "asset_id", t.AssetID)
		if err != nil {
			return err
		}
		reports, err := children[fieldsync.Report](tx, indexReportsByVisit, bucketReports, id)
		if err != nil {
			return err
		}
		if reports == nil {
			reports = []fieldsync.Report{}
		}
		b = fieldsync.VisitBundle{Visit: *v, Ticket: *t, Customer: *c, Site: *site, Asset: *a, Reports: reports}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// Visits lists visits in creation order, a page at a time. The cursor
// returned is empty on the last page. With a technician the scan reads
// only that technician's index, so it costs what they have, not the
// whole table. A malformed cursor is EInvalid.
func (s *DB) Visits(ctx context.Context, f fieldsync.VisitFilter) ([]fieldsync.Visit, string, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := clampLimit(f.Limit)
	out := []fieldsync.Visit{}
	next := ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		visits := tx.Bucket(bucketVisits)
		consider := func(id string) (bool, error) {
			if len(out) == limit {
				next = encodeCursor(out[len(out)-1].ID)
				return false, nil
			}
			v, err := get[fieldsync.Visit](visits, id)
			if err != nil || v == nil {
				return err == nil, err
			}
			if f.Status != "" && v.Status != f.Status ||
				!f.From.IsZero() && v.WindowStart.Before(f.From) ||
				!f.To.IsZero() && !v.WindowStart.Before(f.To) ||
				f.Match != nil && !f.Match(v) {
				return true, nil
			}
			out = append(out, *v)
			return true, nil
		}
		if f.TechnicianID != "" {
			return scanPrefix(tx.Bucket(indexVisitsByTech), key(f.TechnicianID, ""), after, consider)
		}
		c := visits.Cursor()
		k, _ := c.First()
		if after != "" {
			k, _ = c.Seek([]byte(after))
			if string(k) == after {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			more, err := consider(string(k))
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
	return out, next, err
}

// Audit lists audit entries oldest first, a page at a time.
func (s *DB) Audit(ctx context.Context, f fieldsync.AuditFilter) ([]fieldsync.AuditEntry, string, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := clampLimit(f.Limit)
	out := []fieldsync.AuditEntry{}
	next := ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		entries := tx.Bucket(bucketAudit)
		consider := func(id string) (bool, error) {
			if len(out) == limit {
				next = encodeCursor(out[len(out)-1].ID)
				return false, nil
			}
			e, err := get[fieldsync.AuditEntry](entries, id)
			if err != nil || e == nil {
				return err == nil, err
			}
			if f.Entity != "" && e.Entity != f.Entity {
				return true, nil
			}
			out = append(out, *e)
			return true, nil
		}
		if f.ID != "" {
			return scanPrefix(tx.Bucket(indexAuditByEntity), key(f.Entity, f.ID, ""), after, consider)
		}
		c := entries.Cursor()
		k, _ := c.First()
		if after != "" {
			k, _ = c.Seek([]byte(after))
			if string(k) == after {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			more, err := consider(string(k))
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
	return out, next, err
}

// scanPrefix calls fn with the child part of each index key under prefix,
// in order, starting after the child named after; fn returns false to stop.
func scanPrefix(idx *bbolt.Bucket, prefix []byte, after string, fn func(child string) (bool, error)) error {
	c := idx.Cursor()
	start := prefix
	if after != "" {
		start = append(append([]byte(nil), prefix...), after...)
	}
	for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		child := string(k[len(prefix):])
		if child == after {
			continue
		}
		more, err := fn(child)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// children loads the records of bucket listed under parent in idx.
func children[T any](tx *bbolt.Tx, idx, bucket []byte, parent string) ([]T, error) {
	var out []T
	b := tx.Bucket(bucket)
	err := scanPrefix(tx.Bucket(idx), key(parent, ""), "", func(id string) (bool, error) {
		v, err := get[T](b, id)
		if err == nil && v != nil {
			out = append(out, *v)
		}
		return true, err
	})
	return out, err
}

func clampLimit(n int) int {
	if n <= 0 {
		return fieldsync.DefaultLimit
	}
	return min(n, fieldsync.MaxLimit)
}

// Cursors are opaque to clients: the last id seen, base64url-encoded.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 64 || bytes.IndexByte(b, 0) >= 0 {
		return "", fieldsync.Errorf(fieldsync.EInvalid, "malformed cursor")
	}
	return string(b), nil
}

// CreateReport stores a new report of an existing visit.
func (s *DB) CreateReport(ctx context.Context, r *fieldsync.Report, actor fieldsync.Actor) error {
	return s.update(func(tx *bbolt.Tx) error {
		if _, err := must[fieldsync.Visit](tx, bucketVisits, "visit_id", r.VisitID); err != nil {
			return err
		}
		if err := tx.Bucket(indexReportsByVisit).Put(key(r.VisitID, r.ID), nil); err != nil {
			return err
		}
		return create(tx, bucketReports, "report", r.ID, r, actor, r.CreatedAt)
	})
}

func newAuditID() string { return uuid.Must(uuid.NewV7()).String() }

// auditBucket returns the audit bucket set to fill its pages: its keys are
// UUIDv7s, so entries only ever append, and bbolt's default of splitting
// pages half full would leave the largest bucket half empty.
func auditBucket(tx *bbolt.Tx) *bbolt.Bucket {
	b := tx.Bucket(bucketAudit)
	b.FillPercent = 0.95
	return b
}

// Report returns a report or ENotFound.
func (s *DB) Report(ctx context.Context, id string) (*fieldsync.Report, error) {
	return view[fieldsync.Report](s, bucketReports, "report", id)
}
