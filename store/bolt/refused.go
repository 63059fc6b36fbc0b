package bolt

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// refusedUsage is what an install's kept refusals hold, counted once per
// batch and then kept up to date by Refuse.
type refusedUsage struct{ count, bytes int }

// refusedKey is a refusal's key in bucketRefused: install \x00 seq.
func refusedKey(install string, seq int64) []byte {
	return append(key(install, ""), seqKey(uint64(seq))...)
}

// makeRoom prunes the install's oldest refusals until one more of size
// bytes fits the bounds of syncproto.MaxRefusedPerDevice and
// syncproto.MaxRefusedBytesPerDevice. The first time in a batch it also
// prunes those older than syncproto.MaxRefusedAge before now.
func (p *pushTx) makeRoom(install string, size int, now time.Time) (*refusedUsage, error) {
	u, err := p.refusedUsage(install, now)
	if err != nil {
		return nil, err
	}
	for u.count > 0 && (u.count+1 > syncproto.MaxRefusedPerDevice || u.bytes+size > syncproto.MaxRefusedBytesPerDevice) {
		if _, err := p.pruneOldest(install, u, time.Time{}); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// refusedUsage returns the install's usage, counting it (after pruning by
// age) the first time in a batch.
func (p *pushTx) refusedUsage(install string, now time.Time) (*refusedUsage, error) {
	if u, ok := p.refused[install]; ok {
		return u, nil
	}
	u := &refusedUsage{}
	prefix := key(install, "")
	c := p.tx.Bucket(bucketRefused).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		u.count++
		u.bytes += len(k) + len(v)
	}
	cutoff := now.Add(-syncproto.MaxRefusedAge)
	for u.count > 0 {
		pruned, err := p.pruneOldest(install, u, cutoff)
		if err != nil {
			return nil, err
		}
		if !pruned {
			break
		}
	}
	if p.refused == nil {
		p.refused = map[string]*refusedUsage{}
	}
	p.refused[install] = u
	return u, nil
}

// pruneOldest deletes the install's oldest refusal, with its index
// entries, if it was refused before cutoff (any, for a zero cutoff). The
// record index goes too: the oldest refusal of a record is the one that
// made its entry, so later edits of a record whose refusals are pruned are
// judged afresh.
func (p *pushTx) pruneOldest(install string, u *refusedUsage, cutoff time.Time) (bool, error) {
	prefix := key(install, "")
	refused := p.tx.Bucket(bucketRefused)
	k, v := refused.Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		u.count, u.bytes = 0, 0
		return false, nil
	}
	var r struct {
		At       time.Time `json:"at"`
		VisitID  string    `json:"visit_id"`
		Mutation struct {
			Entity fieldsync.Entity `json:"entity"`
			ID     string           `json:"id"`
		} `json:"mutation"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return false, err
	}
	if !cutoff.IsZero() && !r.At.Before(cutoff) {
		return false, nil
	}
	k = bytes.Clone(k)
	u.count--
	u.bytes -= len(k) + len(v)
	if err := refused.Delete(k); err != nil {
		return false, err
	}
	if r.VisitID != "" {
		if err := p.tx.Bucket(indexRefusedByVisit).Delete(append(key(r.VisitID, ""), k...)); err != nil {
			return false, err
		}
	}
	return true, p.tx.Bucket(indexRefusedRecord).Delete(key(install, string(r.Mutation.Entity), r.Mutation.ID))
}

// WasAssigned reads the visit's audit trail: its creation and every
// reassignment name the technicians it was given to.
func (p *pushTx) WasAssigned(visitID, technician string) (bool, error) {
	ref := visitID + "\x00" + technician
	if was, ok := p.assigned[ref]; ok {
		return was, nil
	}
	want, err := json.Marshal(technician)
	if err != nil {
		return false, err
	}
	audit := p.tx.Bucket(bucketAudit)
	was := false
	err = scanPrefix(p.tx.Bucket(indexAuditByEntity), key(string(fieldsync.EntityVisit), visitID, ""), "", func(id string) (bool, error) {
		e, err := get[fieldsync.AuditEntry](audit, id)
		if err != nil || e == nil {
			return err == nil, err
		}
		c, ok := e.Changes["technician_id"]
		was = ok && (bytes.Equal(c.From, want) || bytes.Equal(c.To, want))
		return !was, nil
	})
	if err != nil {
		return false, err
	}
	if p.assigned == nil {
		p.assigned = map[string]bool{}
	}
	p.assigned[ref] = was
	return was, nil
}
