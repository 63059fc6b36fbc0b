package bolt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

type feedEntry struct {
	Entity fieldsync.Entity `json:"e"`
	ID     string           `json:"i"`
	Op     string           `json:"o"`
	At     time.Time        `json:"t"`
}

// bucketOf names the bucket each synced entity lives in.
var bucketOf = map[fieldsync.Entity][]byte{
	fieldsync.EntityCustomer: bucketCustomers, fieldsync.EntitySite: bucketSites, fieldsync.EntityAsset: bucketAssets, fieldsync.EntityTicket: bucketTickets,
	fieldsync.EntityVisit: bucketVisits, fieldsync.EntityReport: bucketReports, fieldsync.EntityPhoto: bucketAttachments,
	fieldsync.EntityTemplate: bucketTemplates, fieldsync.EntityCalendar: bucketCalendars, fieldsync.EntityPolicy: bucketPolicies,
	fieldsync.EntityWarrantyPolicy: bucketWarranty, fieldsync.EntityPriceList: bucketPriceLists,
	fieldsync.EntityCertificate: bucketCertificates,
}

// referenceEntities are shared with every device.
var referenceEntities = map[fieldsync.Entity]bool{fieldsync.EntityTemplate: true, fieldsync.EntityCalendar: true, fieldsync.EntityPolicy: true, fieldsync.EntityWarrantyPolicy: true, fieldsync.EntityPriceList: true}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// touch gives a record a new revision: the next sequence of the feed.
func touch(tx *bbolt.Tx, entity fieldsync.Entity, id string) (uint64, error) {
	seq, err := tx.Bucket(bucketFeed).NextSequence()
	if err != nil {
		return 0, err
	}
	return seq, tx.Bucket(bucketRevs).Put(key(string(entity), id), seqKey(seq))
}

// place puts a record at position seq of partition part, removing its
// older position there, so a pull meets each record once, at its latest.
func place(tx *bbolt.Tx, part string, entity fieldsync.Entity, id, op string, seq uint64, now time.Time) error {
	feed, pos := tx.Bucket(bucketFeed), tx.Bucket(bucketFeedPos)
	pk := key(part, string(entity), id)
	if old := pos.Get(pk); old != nil {
		if err := feed.Delete(append(key(part, ""), old...)); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(feedEntry{Entity: entity, ID: id, Op: op, At: now})
	if err != nil {
		return err
	}
	fk := append(key(part, ""), seqKey(seq)...)
	if err := feed.Put(fk, raw); err != nil {
		return err
	}
	if op != syncproto.ChangeUpsert {
		// Tombstones are kept for the horizon, then pruned (PruneFeed).
		stamp, _ := now.MarshalBinary()
		if err := tx.Bucket(bucketTombstones).Put(append(append(seqKey(seq), 0), fk...), stamp); err != nil {
			return err
		}
	}
	return pos.Put(pk, seqKey(seq))
}

// TombstoneHorizon is how long deletes and evictions stay in the feed. A
// device whose cursor is older must bootstrap again (cursor_reset).
const TombstoneHorizon = 30 * 24 * time.Hour

// PruneFeed drops tombstones placed before cutoff and moves the horizon
// past them. It returns how many it dropped.
func (s *DB) PruneFeed(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		feed, pos, stones := tx.Bucket(bucketFeed), tx.Bucket(bucketFeedPos), tx.Bucket(bucketTombstones)
		var done [][]byte
		horizon := uint64(0)
		c := stones.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var at time.Time
			if err := at.UnmarshalBinary(v); err != nil {
				return err
			}
			if !at.Before(cutoff) {
				break // keys are in seq order, and seq follows time
			}
			done = append(done, append([]byte(nil), k...))
			horizon = binary.BigEndian.Uint64(k[:8])
		}
		for _, k := range done {
			fk := k[9:]
			if raw := feed.Get(fk); raw != nil {
				var e feedEntry
				if err := json.Unmarshal(raw, &e); err != nil {
					return err
				}
				part := string(fk[:bytes.IndexByte(fk, 0)])
				pk := key(part, string(e.Entity), e.ID)
				if bytes.Equal(pos.Get(pk), fk[len(part)+1:]) {
					if err := pos.Delete(pk); err != nil {
						return err
					}
				}
				if err := feed.Delete(fk); err != nil {
					return err
				}
			}
			if err := stones.Delete(k); err != nil {
				return err
			}
		}
		n = len(done)
		if horizon == 0 {
			return nil
		}
		return tx.Bucket(bucketMeta).Put(keyHorizon, seqKey(horizon))
	})
	return n, err
}

// publish records a change of a record and places it in every partition
// that sees it. It returns the record's new revision.
func publish(tx *bbolt.Tx, entity fieldsync.Entity, id, op string, now time.Time) (uint64, error) {
	parts, err := partitionsOf(tx, entity, id)
	if err != nil {
		return 0, err
	}
	return publishTo(tx, entity, id, op, parts, now)
}

// publishTo records a change and places it in the partitions given.
func publishTo(tx *bbolt.Tx, entity fieldsync.Entity, id, op string, parts []string, now time.Time) (uint64, error) {
	seq, err := touch(tx, entity, id)
	if err != nil {
		return 0, err
	}
	for _, p := range parts {
		if err := place(tx, p, entity, id, op, seq, now); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// partitionsOf lists who sees a record: everyone for templates, else the
// dispatchers and the technicians of the visits it belongs to.
func partitionsOf(tx *bbolt.Tx, entity fieldsync.Entity, id string) ([]string, error) {
	if referenceEntities[entity] {
		return []string{syncproto.PartitionShared}, nil
	}
	techs := map[string]bool{}
	addVisit := func(visitID string) error {
		v, err := get[fieldsync.Visit](tx.Bucket(bucketVisits), visitID)
		if err != nil || v == nil {
			return err
		}
		techs[v.TechnicianID] = true
		// The technicians of the second visits that name it see it too.
		followers, err := followersOf(tx, visitID)
		for _, t := range followers {
			techs[t] = true
		}
		return err
	}
	addTicket := func(ticketID string) error {
		return scanPrefix(tx.Bucket(indexVisitsByTicket), key(ticketID, ""), "", func(visitID string) (bool, error) {
			return true, addVisit(visitID)
		})
	}
	var err error
	switch entity {
	case fieldsync.EntityVisit:
		err = addVisit(id)
	case fieldsync.EntityReport, fieldsync.EntityPhoto:
		reportID := id
		if entity == fieldsync.EntityPhoto {
			reportID, _, _ = strings.Cut(id, ":")
		}
		var r *fieldsync.Report
		if r, err = get[fieldsync.Report](tx.Bucket(bucketReports), reportID); r != nil {
			err = addVisit(r.VisitID)
		}
	case fieldsync.EntityTicket:
		err = addTicket(id)
	case fieldsync.EntityCustomer, fieldsync.EntitySite, fieldsync.EntityAsset:
		err = ticketsTouching(tx, entity, id, addTicket)
	case fieldsync.EntityCertificate:
		var c *fieldsync.Certificate
		if c, err = get[fieldsync.Certificate](tx.Bucket(bucketCertificates), id); c != nil {
			err = ticketsTouching(tx, fieldsync.EntityAsset, c.AssetID, addTicket)
		}
	}
	parts := []string{syncproto.PartitionAll}
	for t := range techs {
		parts = append(parts, syncproto.TechnicianPartition(t))
	}
	return parts, err
}

// ticketsTouching calls fn with each ticket that refers to a customer,
// site or asset, through the customer's ticket index.
func ticketsTouching(tx *bbolt.Tx, entity fieldsync.Entity, id string, fn func(ticketID string) error) error {
	customer := id
	if entity != fieldsync.EntityCustomer {
		var owner struct {
			CustomerID string `json:"customer_id"`
		}
		raw := tx.Bucket(bucketOf[entity]).Get([]byte(id))
		if raw == nil {
			return nil
		}
		if err := json.Unmarshal(raw, &owner); err != nil {
			return err
		}
		customer = owner.CustomerID
	}
	tickets := tx.Bucket(bucketTickets)
	return scanPrefix(tx.Bucket(indexTicketsByCust), key(customer, ""), "", func(ticketID string) (bool, error) {
		t, err := get[fieldsync.Ticket](tickets, ticketID)
		if err != nil || t == nil {
			return err == nil, err
		}
		if entity == fieldsync.EntityCustomer || entity == fieldsync.EntitySite && t.SiteID == id || entity == fieldsync.EntityAsset && t.AssetID == id {
			return true, fn(ticketID)
		}
		return true, nil
	})
}

type recordRef struct {
	entity fieldsync.Entity
	id     string
}

// bundleOf lists the records a technician needs for a visit.
func bundleOf(tx *bbolt.Tx, visitID string) ([]recordRef, error) {
	v, err := get[fieldsync.Visit](tx.Bucket(bucketVisits), visitID)
	if err != nil || v == nil {
		return nil, err
	}
	refs := []recordRef{{fieldsync.EntityVisit, v.ID}}
	t, err := get[fieldsync.Ticket](tx.Bucket(bucketTickets), v.TicketID)
	if err != nil {
		return nil, err
	}
	if t != nil {
		refs = append(refs, recordRef{fieldsync.EntityTicket, t.ID}, recordRef{fieldsync.EntityCustomer, t.CustomerID}, recordRef{fieldsync.EntitySite, t.SiteID}, recordRef{fieldsync.EntityAsset, t.AssetID})
		// The certificates of the asset's repaired parts, which the
		// warranty decision on the tablet counts.
		if err := scanPrefix(tx.Bucket(indexCertificatesByAsset), key(t.AssetID, ""), "", func(certID string) (bool, error) {
			refs = append(refs, recordRef{fieldsync.EntityCertificate, certID})
			return true, nil
		}); err != nil {
			return nil, err
		}
	}
	if refs, err = withReports(tx, refs, visitID); err != nil {
		return nil, err
	}
	// A second visit's technician gets the visit that asked for it, with
	// its reports: what was found, decided and needed.
	if v.PreviousVisitID != "" {
		prev, err := get[fieldsync.Visit](tx.Bucket(bucketVisits), v.PreviousVisitID)
		if err != nil {
			return nil, err
		}
		if prev != nil && prev.TicketID == v.TicketID {
			refs = append(refs, recordRef{fieldsync.EntityVisit, prev.ID})
			return withReports(tx, refs, prev.ID)
		}
	}
	return refs, nil
}

// withReports appends a visit's reports and their photos to refs.
func withReports(tx *bbolt.Tx, refs []recordRef, visitID string) ([]recordRef, error) {
	err := scanPrefix(tx.Bucket(indexReportsByVisit), key(visitID, ""), "", func(reportID string) (bool, error) {
		refs = append(refs, recordRef{fieldsync.EntityReport, reportID})
		return true, scanPrefix(tx.Bucket(indexReportPhotos), key(reportID, ""), "", func(rest string) (bool, error) {
			slot, sha, _ := strings.Cut(rest, "\x00")
			refs = append(refs, recordRef{fieldsync.EntityPhoto, attachmentID(reportID, slot, sha)})
			return true, nil
		})
	})
	return refs, err
}

// backfill places a visit's whole bundle in a technician's partition, old
// records included, so a reassignment brings everything to the new one.
func backfill(tx *bbolt.Tx, tech, visitID string, now time.Time) error {
	refs, err := bundleOf(tx, visitID)
	if err != nil {
		return err
	}
	for _, r := range refs {
		seq, err := tx.Bucket(bucketFeed).NextSequence()
		if err != nil {
			return err
		}
		if err := place(tx, syncproto.TechnicianPartition(tech), r.entity, r.id, syncproto.ChangeUpsert, seq, now); err != nil {
			return err
		}
	}
	return nil
}

// evict tells a technician that a visit left them: every record of its
// bundle that none of their other visits still needs.
func evict(tx *bbolt.Tx, tech, visitID string, now time.Time) error {
	keep := map[recordRef]bool{}
	err := scanPrefix(tx.Bucket(indexVisitsByTech), key(tech, ""), "", func(other string) (bool, error) {
		if other == visitID {
			return true, nil
		}
		refs, err := bundleOf(tx, other)
		for _, r := range refs {
			keep[r] = true
		}
		return true, err
	})
	if err != nil {
		return err
	}
	refs, err := bundleOf(tx, visitID)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if keep[r] {
			continue
		}
		seq, err := tx.Bucket(bucketFeed).NextSequence()
		if err != nil {
			return err
		}
		if err := place(tx, syncproto.TechnicianPartition(tech), r.entity, r.id, syncproto.ChangeEvict, seq, now); err != nil {
			return err
		}
	}
	return nil
}

// publishExisting enters every stored record into the feed (migration).
func publishExisting(tx *bbolt.Tx) error {
	now := time.Now().UTC()
	for _, entity := range []fieldsync.Entity{fieldsync.EntityCustomer, fieldsync.EntitySite, fieldsync.EntityAsset, fieldsync.EntityTicket, fieldsync.EntityVisit, fieldsync.EntityReport} {
		var ids []string
		if err := tx.Bucket(bucketOf[entity]).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := publish(tx, entity, id, syncproto.ChangeUpsert, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// Reference is a piece of reference data every device receives: a report
// template, the business calendar, the SLA policy.
type Reference struct {
	Entity fieldsync.Entity // template, calendar or policy
	ID     string
	Data   json.RawMessage
}

// PublishReference stores reference data; what changed (or is new) enters
// the shared partition, so devices learn of it at their next pull.
func (s *DB) PublishReference(ctx context.Context, refs []Reference) error {
	changed := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, r := range refs {
			if !referenceEntities[r.Entity] || r.ID == "" || !json.Valid(r.Data) {
				return fmt.Errorf("store: bad reference data %s/%q", r.Entity, r.ID)
			}
			b := tx.Bucket(bucketOf[r.Entity])
			var compact bytes.Buffer
			if err := json.Compact(&compact, r.Data); err != nil {
				return err
			}
			if bytes.Equal(b.Get([]byte(r.ID)), compact.Bytes()) {
				continue
			}
			if err := b.Put([]byte(r.ID), compact.Bytes()); err != nil {
				return err
			}
			if _, err := publish(tx, r.Entity, r.ID, syncproto.ChangeUpsert, time.Now().UTC()); err != nil {
				return err
			}
			changed = true
		}
		return nil
	})
	if changed {
		s.notify()
	}
	return err
}

// PublishTemplates publishes report templates as reference data.
func (s *DB) PublishTemplates(ctx context.Context, templates []fieldsync.Template) error {
	refs := make([]Reference, 0, len(templates))
	for _, t := range templates {
		raw, err := json.Marshal(t)
		if err != nil {
			return err
		}
		refs = append(refs, Reference{Entity: fieldsync.EntityTemplate, ID: t.ID, Data: raw})
	}
	return s.PublishReference(ctx, refs)
}

// --- pull -------------------------------------------------------------------

// Cursors carry the store's epoch and a feed position: "<epoch hex>.<seq>".
func (s *DB) encodeFeedCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s.epoch + "." + strconv.FormatUint(seq, 10)))
}

func (s *DB) decodeFeedCursor(tx *bbolt.Tx, c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	reset := fieldsync.Errorf(fieldsync.ECursorReset, "this cursor is not valid for this server; pull again from the start")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, reset
	}
	epoch, pos, ok := strings.Cut(string(raw), ".")
	if !ok || epoch != s.epoch {
		return 0, reset
	}
	seq, err := strconv.ParseUint(pos, 10, 64)
	if err != nil || seq > tx.Bucket(bucketFeed).Sequence() {
		return 0, reset
	}
	// A cursor from before the horizon may have missed pruned deletes.
	if h := tx.Bucket(bucketMeta).Get(keyHorizon); h != nil && seq < binary.BigEndian.Uint64(h) {
		return 0, fieldsync.Errorf(fieldsync.ECursorReset, "this cursor is older than the %s tombstone horizon; pull again from the start", TombstoneHorizon)
	}
	return seq, nil
}

// Pull returns up to limit changes of the partitions after cursor, in feed
// order, each record at most once, with the next cursor and whether more
// are waiting. Its cost grows with the changes in those partitions, not
// with the store. ECursorReset for a cursor of another store or epoch.
func (s *DB) Pull(ctx context.Context, parts []string, cursor string, limit int) ([]syncproto.Change, string, bool, error) {
	if limit <= 0 || limit > syncproto.MaxPullLimit {
		limit = syncproto.DefaultPullSize
	}
	var (
		changes = []syncproto.Change{}
		next    string
		more    bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		after, err := s.decodeFeedCursor(tx, cursor)
		if err != nil {
			return err
		}
		type hit struct {
			seq   uint64
			entry feedEntry
		}
		var hits []hit
		feed := tx.Bucket(bucketFeed)
		for _, p := range parts {
			prefix := key(p, "")
			c := feed.Cursor()
			n := 0
			for k, v := c.Seek(append(append([]byte(nil), prefix...), seqKey(after+1)...)); k != nil && bytes.HasPrefix(k, prefix) && n <= limit; k, v = c.Next() {
				var e feedEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return err
				}
				hits = append(hits, hit{binary.BigEndian.Uint64(k[len(prefix):]), e})
				n++
			}
		}
		sort.Slice(hits, func(i, j int) bool { return hits[i].seq < hits[j].seq })
		if len(hits) > limit {
			hits, more = hits[:limit], true
		}
		last := after
		for _, h := range hits {
			last = h.seq
			ch := syncproto.Change{Entity: h.entry.Entity, ID: h.entry.ID, Op: h.entry.Op, Rev: int64(h.seq)}
			if rev := tx.Bucket(bucketRevs).Get(key(string(h.entry.Entity), h.entry.ID)); rev != nil && h.entry.Op != syncproto.ChangeEvict {
				ch.Rev = int64(binary.BigEndian.Uint64(rev))
			}
			if h.entry.Op == syncproto.ChangeUpsert {
				raw := tx.Bucket(bucketOf[h.entry.Entity]).Get([]byte(h.entry.ID))
				if raw == nil {
					continue // deleted since; its delete entry follows
				}
				ch.Data = append(json.RawMessage(nil), raw...)
			}
			changes = append(changes, ch)
		}
		next = s.encodeFeedCursor(last)
		return nil
	})
	return changes, next, more, err
}

// Changed returns a channel closed at the next committed change, for long
// polls.
func (s *DB) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

func (s *DB) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}
