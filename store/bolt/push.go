package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"maps"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Push runs one push batch in one transaction, which concurrent pushes
// share (one fsync for all of them: DB.batch). Each push is applied
// whole or not at all; fn may run more than once (when a push sharing
// its transaction fails), each time on a fresh pushTx, so it must reset
// what it collects at its start.
func (s *DB) Push(ctx context.Context, fn func(syncproto.Txn) error) error {
	return s.batch(s.pushing(fn))
}

// pushing is a push's transaction: fn on a pushTx of its own, then the
// pushTx's deferred writes.
func (s *DB) pushing(fn func(syncproto.Txn) error) func(tx *bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		p := &pushTx{db: s, tx: tx, visits: map[string]*fieldsync.Visit{}, reports: map[string]*fieldsync.Report{}, dirty: map[string]bool{}, placed: map[recordRef]*placement{}}
		if err := fn(p); err != nil {
			return err
		}
		return p.flush()
	}
}

// pushTx is the store seen from inside a push. A batch often holds many
// edits of one report (a checklist answered item by item), so records are
// decoded once per batch and a report is encoded once, when the batch
// ends; audit entries and feed positions are still written per mutation.
//
// Likewise the feed: a record changed several times in one batch takes one
// revision, its first, and one place per partition, written at the end;
// the feed holds each record once at its latest anyway.
type pushTx struct {
	db      *DB
	tx      *bbolt.Tx
	visits  map[string]*fieldsync.Visit
	reports map[string]*fieldsync.Report
	dirty   map[string]bool // reports to write at flush
	placed  map[recordRef]*placement
	order   []recordRef // placements in the order of their revisions
	now     time.Time
	// refused and assigned are filled on first use (refused.go).
	refused  map[string]*refusedUsage
	assigned map[string]bool
}

type placement struct {
	seq  uint64
	tech string
}

// publish gives a record its revision for this batch.
func (p *pushTx) publish(entity fieldsync.Entity, id, tech string, now time.Time) (int64, error) {
	ref := recordRef{entity, id}
	if pl, ok := p.placed[ref]; ok {
		pl.tech = tech
		return int64(pl.seq), nil
	}
	seq, err := p.tx.Bucket(bucketFeed).NextSequence()
	if err != nil {
		return 0, err
	}
	p.placed[ref] = &placement{seq: seq, tech: tech}
	p.order = append(p.order, ref)
	p.now = now
	return int64(seq), nil
}

func (p *pushTx) flush() error {
	// A report signed in this batch is sealed now if its photos are all
	// in: written below, once, as sealed, and placed in the feed once, at
	// the revision its sign took.
	for _, id := range slices.Sorted(maps.Keys(p.dirty)) {
		if p.reports[id].Status != fieldsync.ReportSigned {
			continue
		}
		if _, err := p.db.sealReport(p.tx, id, p.reports[id], p.now, func() error { return nil }); err != nil {
			return err
		}
	}
	for id := range p.dirty {
		if err := put(p.tx.Bucket(bucketReports), id, p.reports[id]); err != nil {
			return err
		}
	}
	for _, ref := range p.order {
		pl, ok := p.placed[ref]
		if !ok {
			continue
		}
		if err := p.tx.Bucket(bucketRevs).Put(key(string(ref.entity), ref.id), seqKey(pl.seq)); err != nil {
			return err
		}
		parts, err := p.partitions(ref, pl.tech)
		if err != nil {
			return err
		}
		for _, part := range parts {
			if err := place(p.tx, part, ref.entity, ref.id, syncproto.ChangeUpsert, pl.seq, p.now); err != nil {
				return err
			}
		}
	}
	return nil
}

// partitions lists who sees a visit or report changed in the batch: the
// dispatchers, the visit's technician and the technicians of the second
// visits that name it (followersOf).
func (p *pushTx) partitions(ref recordRef, tech string) ([]string, error) {
	parts := []string{syncproto.PartitionAll, syncproto.TechnicianPartition(tech)}
	visitID := ref.id
	if ref.entity == fieldsync.EntityReport {
		r, err := p.Report(ref.id)
		if err != nil || r == nil {
			return parts, err
		}
		visitID = r.VisitID
	}
	followers, err := followersOf(p.tx, visitID)
	for _, t := range followers {
		if t != tech {
			parts = append(parts, syncproto.TechnicianPartition(t))
		}
	}
	return parts, err
}

func (p *pushTx) DeviceSeq(install string) (int64, bool, error) {
	raw := p.tx.Bucket(bucketDeviceSeq).Get([]byte(install))
	if raw == nil {
		return 0, false, nil
	}
	return int64(binary.BigEndian.Uint64(raw)), true, nil
}

func (p *pushTx) SetDeviceSeq(install string, seq int64) error {
	return p.tx.Bucket(bucketDeviceSeq).Put([]byte(install), seqKey(uint64(seq)))
}

// Visit and Report return the batch's copy; callers change clones only.
func (p *pushTx) Visit(id string) (*fieldsync.Visit, error) {
	if v, ok := p.visits[id]; ok {
		return cloneVisit(v), nil
	}
	v, err := get[fieldsync.Visit](p.tx.Bucket(bucketVisits), id)
	if err == nil && v != nil {
		p.visits[id] = v
		v = cloneVisit(v)
	}
	return v, err
}

func cloneVisit(v *fieldsync.Visit) *fieldsync.Visit {
	c := *v
	return &c
}

func (p *pushTx) Report(id string) (*fieldsync.Report, error) {
	if r, ok := p.reports[id]; ok {
		return r, nil
	}
	r, err := get[fieldsync.Report](p.tx.Bucket(bucketReports), id)
	if err == nil && r != nil {
		p.reports[id] = r
	}
	return r, err
}

func (p *pushTx) Ticket(id string) (*fieldsync.Ticket, error) {
	return get[fieldsync.Ticket](p.tx.Bucket(bucketTickets), id)
}

func (p *pushTx) Asset(id string) (*fieldsync.Asset, error) {
	return get[fieldsync.Asset](p.tx.Bucket(bucketAssets), id)
}

func (p *pushTx) Device(userID, deviceID string) (*fieldsync.Device, error) {
	return get[fieldsync.Device](p.tx.Bucket(bucketDevices), deviceKey(userID, deviceID))
}

func (p *pushTx) Rev(entity fieldsync.Entity, id string) (int64, error) {
	if pl, ok := p.placed[recordRef{entity, id}]; ok {
		return int64(pl.seq), nil
	}
	raw := p.tx.Bucket(bucketRevs).Get(key(string(entity), id))
	if raw == nil {
		return 0, nil
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

func (p *pushTx) PutVisit(v *fieldsync.Visit, changes map[string]json.RawMessage, actor fieldsync.Actor, action string, now time.Time) (int64, error) {
	before, err := get[fieldsync.Visit](p.tx.Bucket(bucketVisits), v.ID)
	if err != nil {
		return 0, err
	}
	p.visits[v.ID] = cloneVisit(v)
	if err := put(p.tx.Bucket(bucketVisits), v.ID, v); err != nil {
		return 0, err
	}
	if err := p.db.followUpOnCompletion(p.tx, before, v, actor, now); err != nil {
		return 0, err
	}
	if err := p.db.workOrderOnCompletion(p.tx, before, v, p.Report, actor, now); err != nil {
		return 0, err
	}
	if v.Status == fieldsync.VisitCompleted && (before == nil || before.Status != fieldsync.VisitCompleted) {
		if err := p.settlePickups(v, actor, now); err != nil {
			return 0, err
		}
	}
	if before != nil {
		if err := followVisitChange(p.tx, before, v, actor, now); err != nil {
			return 0, err
		}
	}
	if err := auditKnown(p.tx, fieldsync.EntityVisit, v.ID, changes, actor, action, now); err != nil {
		return 0, err
	}
	return p.publish(fieldsync.EntityVisit, v.ID, v.TechnicianID, now)
}

func (p *pushTx) PutReport(r *fieldsync.Report, created bool, visit *fieldsync.Visit, changes map[string]json.RawMessage, actor fieldsync.Actor, action string, now time.Time) (int64, error) {
	if created {
		if err := p.tx.Bucket(indexReportsByVisit).Put(key(r.VisitID, r.ID), nil); err != nil {
			return 0, err
		}
		if err := indexSlipNo(p.tx, r); err != nil {
			return 0, err
		}
		if r.Corrects != "" {
			if err := addAddendum(p.tx, r); err != nil {
				return 0, err
			}
		}
	}
	// The engine hands over a fresh value it no longer changes; it is
	// written once when the batch ends (flush).
	p.reports[r.ID], p.dirty[r.ID] = r, true
	if signed(r) {
		if err := p.settlePickups(visit, actor, now); err != nil {
			return 0, err
		}
	}
	if err := auditKnown(p.tx, fieldsync.EntityReport, r.ID, changes, actor, action, now); err != nil {
		return 0, err
	}
	return p.publish(fieldsync.EntityReport, r.ID, visit.TechnicianID, now)
}

// DeleteReport removes a draft; its tombstone stays in the feed so that
// devices drop it too.
func (p *pushTx) DeleteReport(r *fieldsync.Report, actor fieldsync.Actor, now time.Time) (int64, error) {
	parts := []string{syncproto.PartitionAll}
	v, err := p.Visit(r.VisitID)
	if err != nil {
		return 0, err
	}
	if v != nil {
		if parts, err = p.partitions(recordRef{fieldsync.EntityReport, r.ID}, v.TechnicianID); err != nil {
			return 0, err
		}
	}
	if err := writeAudit(p.tx, fieldsync.EntityReport, r.ID, r, nil, actor, "report.delete", now); err != nil {
		return 0, err
	}
	delete(p.reports, r.ID)
	delete(p.dirty, r.ID)
	delete(p.placed, recordRef{fieldsync.EntityReport, r.ID}) // the delete is its last change
	if err := p.tx.Bucket(bucketReports).Delete([]byte(r.ID)); err != nil {
		return 0, err
	}
	if err := p.tx.Bucket(indexReportsByVisit).Delete(key(r.VisitID, r.ID)); err != nil {
		return 0, err
	}
	if r.Corrects != "" {
		if err := dropAddendum(p.tx, r); err != nil {
			return 0, err
		}
	}
	seq, err := touch(p.tx, fieldsync.EntityReport, r.ID)
	if err != nil {
		return 0, err
	}
	for _, part := range parts {
		if err := place(p.tx, part, fieldsync.EntityReport, r.ID, syncproto.ChangeDelete, seq, now); err != nil {
			return 0, err
		}
	}
	return int64(seq), nil
}

// Refuse keeps a mutation the server did not apply, by install and by
// visit, for dispatchers, within the install's bounds (makeRoom).
func (p *pushTx) Refuse(r syncproto.Refusal) error {
	k := refusedKey(r.Install, r.Mutation.Seq)
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	u, err := p.makeRoom(r.Install, len(k)+len(raw), r.At)
	if err != nil {
		return err
	}
	if err := p.tx.Bucket(bucketRefused).Put(k, raw); err != nil {
		return err
	}
	u.count++
	u.bytes += len(k) + len(raw)
	if r.VisitID == "" {
		return nil
	}
	rk := key(r.Install, string(r.Mutation.Entity), r.Mutation.ID)
	if idx := p.tx.Bucket(indexRefusedRecord); idx.Get(rk) == nil {
		if err := idx.Put(rk, []byte(r.VisitID)); err != nil {
			return err
		}
	}
	return p.tx.Bucket(indexRefusedByVisit).Put(append(key(r.VisitID, ""), k...), nil)
}

func (p *pushTx) RefusedRecord(install string, entity fieldsync.Entity, id string) (string, error) {
	return string(p.tx.Bucket(indexRefusedRecord).Get(key(install, string(entity), id))), nil
}

func (p *pushTx) Refusal(install string, seq int64) (*syncproto.Refusal, error) {
	return get[syncproto.Refusal](p.tx.Bucket(bucketRefused), string(refusedKey(install, seq)))
}

// RefusedWork lists the refused mutations that belong to a visit.
func (s *DB) RefusedWork(ctx context.Context, visitID string) ([]syncproto.Refusal, error) {
	out := []syncproto.Refusal{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		refused := tx.Bucket(bucketRefused)
		return scanPrefix(tx.Bucket(indexRefusedByVisit), key(visitID, ""), "", func(k string) (bool, error) {
			r, err := get[syncproto.Refusal](refused, k)
			if err == nil && r != nil {
				out = append(out, *r)
			}
			return true, err
		})
	})
	return out, err
}
