package bolt

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// writeAudit appends the audit entry of a change from before to after
// (either nil for a creation or a deletion).
func writeAudit(tx *bbolt.Tx, entity fieldsync.Entity, id string, before, after any, actor fieldsync.Actor, action string, now time.Time) error {
	changes, err := fieldsync.Diff(before, after)
	if err != nil {
		return err
	}
	return appendAudit(tx, entity, id, changes, actor, action, now)
}

// auditKnown appends the audit entry of a change that is already known —
// a push knows what its mutation changed — so nothing is diffed: the entry
// holds the changed fields' new values.
func auditKnown(tx *bbolt.Tx, entity fieldsync.Entity, id string, fields map[string]json.RawMessage, actor fieldsync.Actor, action string, now time.Time) error {
	changes := make(map[string]fieldsync.Change, len(fields))
	for k, v := range fields {
		changes[k] = fieldsync.Change{To: v}
	}
	return appendAudit(tx, entity, id, changes, actor, action, now)
}

// appendAudit writes an audit entry and its index entry by record.
func appendAudit(tx *bbolt.Tx, entity fieldsync.Entity, id string, changes map[string]fieldsync.Change, actor fieldsync.Actor, action string, now time.Time) error {
	e := fieldsync.AuditEntry{
		ID: uuid.Must(uuid.NewV7()).String(), At: now, UserID: actor.UserID, DeviceID: actor.DeviceID,
		Action: action, Entity: entity, EntityID: id, Changes: changes,
	}
	// The keys are UUIDv7s, so entries only ever append, and bbolt's
	// default of splitting pages half full would leave the largest bucket
	// half empty.
	b := tx.Bucket(bucketAudit)
	b.FillPercent = 0.95
	if err := put(b, e.ID, e); err != nil {
		return err
	}
	return tx.Bucket(indexAuditByEntity).Put(key(string(entity), id, e.ID), nil)
}

// Audit lists audit entries oldest first, a page at a time: all of them,
// or with f.ID those of one record.
func (s *DB) Audit(ctx context.Context, f fieldsync.AuditFilter) ([]fieldsync.AuditEntry, string, error) {
	l := listing{records: bucketAudit}
	if f.ID != "" {
		l.index, l.prefix = indexAuditByEntity, key(string(f.Entity), f.ID, "")
	}
	return page(s, l, f.Cursor, f.Limit, func(e *fieldsync.AuditEntry) bool {
		return f.Entity == "" || e.Entity == f.Entity
	})
}
