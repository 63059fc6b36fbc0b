package bolt

import (
	"context"
	"encoding/binary"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Push runs one push batch in one transaction (one fsync).
func (s *DB) Push(ctx context.Context, fn func(syncproto.Txn) error) error {
	return s.update(func(tx *bbolt.Tx) error { return fn(pushTx{tx}) })
}

// pushTx is the store seen from inside a push.
type pushTx struct{ tx *bbolt.Tx }

func (p pushTx) DeviceSeq(device string) (int64, error) {
	raw := p.tx.Bucket(bucketDeviceSeq).Get([]byte(device))
	if raw == nil {
		return 0, nil
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

func (p pushTx) SetDeviceSeq(device string, seq int64) error {
	return p.tx.Bucket(bucketDeviceSeq).Put([]byte(device), seqKey(uint64(seq)))
}

func (p pushTx) Visit(id string) (*fieldsync.Visit, error) {
	return get[fieldsync.Visit](p.tx.Bucket(bucketVisits), id)
}

func (p pushTx) Report(id string) (*fieldsync.Report, error) {
	return get[fieldsync.Report](p.tx.Bucket(bucketReports), id)
}

func (p pushTx) Rev(entity, id string) (int64, error) {
	raw := p.tx.Bucket(bucketRevs).Get(key(entity, id))
	if raw == nil {
		return 0, nil
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

func (p pushTx) PutVisit(v *fieldsync.Visit, actor fieldsync.Actor, action string, now time.Time) (int64, error) {
	before, err := p.Visit(v.ID)
	if err != nil {
		return 0, err
	}
	if err := audited(p.tx, bucketVisits, "visit", v.ID, before, v, actor, action, now); err != nil {
		return 0, err
	}
	return p.Rev("visit", v.ID)
}

func (p pushTx) PutReport(r *fieldsync.Report, before *fieldsync.Report, actor fieldsync.Actor, action string, now time.Time) (int64, error) {
	if before == nil {
		if err := p.tx.Bucket(indexReportsByVisit).Put(key(r.VisitID, r.ID), nil); err != nil {
			return 0, err
		}
	}
	if err := audited(p.tx, bucketReports, "report", r.ID, before, r, actor, action, now); err != nil {
		return 0, err
	}
	return p.Rev("report", r.ID)
}

// DeleteReport removes a draft; its tombstone stays in the feed so that
// devices drop it too.
func (p pushTx) DeleteReport(r *fieldsync.Report, actor fieldsync.Actor, now time.Time) (int64, error) {
	// Partitions are computed while the report still exists.
	parts, err := partitionsOf(p.tx, "report", r.ID)
	if err != nil {
		return 0, err
	}
	changes, err := fieldsync.Diff(r, nil)
	if err != nil {
		return 0, err
	}
	e := fieldsync.AuditEntry{ID: newAuditID(), At: now, UserID: actor.UserID, DeviceID: actor.DeviceID, Action: "report.delete", Entity: "report", EntityID: r.ID, Changes: changes}
	if err := put(p.tx.Bucket(bucketAudit), e.ID, e); err != nil {
		return 0, err
	}
	if err := p.tx.Bucket(indexAuditByEntity).Put(key("report", r.ID, e.ID), nil); err != nil {
		return 0, err
	}
	if err := p.tx.Bucket(bucketReports).Delete([]byte(r.ID)); err != nil {
		return 0, err
	}
	if err := p.tx.Bucket(indexReportsByVisit).Delete(key(r.VisitID, r.ID)); err != nil {
		return 0, err
	}
	seq, err := touch(p.tx, "report", r.ID)
	if err != nil {
		return 0, err
	}
	for _, part := range parts {
		if err := place(p.tx, part, "report", r.ID, syncproto.ChangeDelete, seq, now); err != nil {
			return 0, err
		}
	}
	return int64(seq), nil
}

// Refuse keeps a mutation the server did not apply, by device and by
// visit, for dispatchers.
func (p pushTx) Refuse(r syncproto.Refusal) error {
	k := append(key(r.DeviceID, ""), seqKey(uint64(r.Mutation.Seq))...)
	if err := put(p.tx.Bucket(bucketRefused), string(k), r); err != nil {
		return err
	}
	if r.VisitID == "" {
		return nil
	}
	return p.tx.Bucket(indexRefusedByVisit).Put(append(key(r.VisitID, ""), k...), nil)
}

func (p pushTx) Refusal(device string, seq int64) (*syncproto.Refusal, error) {
	k := append(key(device, ""), seqKey(uint64(seq))...)
	return get[syncproto.Refusal](p.tx.Bucket(bucketRefused), string(k))
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
