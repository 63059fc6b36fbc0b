package clientsdk

import (
	"encoding/json"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// The overlay: what the app reads is the server's last state with the
// device's pending mutations laid over it in seq order. It is computed at
// read time, so a pull rebases it for free, and a mutation leaving the
// outbox (answered or refused) leaves the overlay with it.

// overlayVisit returns the visit as the technician sees it, nil when the
// device has no such visit.
func overlayVisit(s *stored, pending []syncproto.Mutation) (*fieldsync.Visit, error) {
	if s == nil {
		return nil, nil // a device cannot create visits
	}
	var v fieldsync.Visit
	if err := json.Unmarshal(s.Data, &v); err != nil {
		return nil, err
	}
	for _, m := range pending {
		applyVisit(&v, m)
	}
	return &v, nil
}

// applyVisit lays one mutation over a visit. A step the state machine
// refuses from the current state is skipped: the server will answer it
// with a conflict, and the device will show it as refused.
func applyVisit(v *fieldsync.Visit, m syncproto.Mutation) {
	if m.Op == syncproto.OpAction {
		// The stamp's wall time is when it happened on the device: an
		// arrival logged offline keeps its real time.
		action := fieldsync.VisitAction(m.Action)
		if v.Apply(action, hlcTime(m.HLC), "") == nil {
			if m.Fields["end_reason"] != nil {
				_ = json.Unmarshal(m.Fields["end_reason"], &v.EndReason)
			}
			if action == fieldsync.ActionNeedSecondVisit {
				v.SecondVisit, _ = fieldsync.ParseSecondVisit(m.Fields, nil)
			}
		}
	}
}

// overlayReport returns the report as the technician sees it, nil when
// neither the server nor a pending creation knows it, or a pending delete
// discards it.
func overlayReport(s *stored, pending []syncproto.Mutation) (*fieldsync.Report, error) {
	var r fieldsync.Report
	switch {
	case s != nil:
		if err := json.Unmarshal(s.Data, &r); err != nil {
			return nil, err
		}
	case createsReport(pending):
		r.Status = fieldsync.ReportDraft
	default:
		return nil, nil
	}
	for _, m := range pending {
		if m.Op == syncproto.OpDelete {
			return nil, nil
		}
		applyReport(&r, m)
	}
	return &r, nil
}

// createsReport reports whether a pending upsert creates the report: only
// a creation names the visit.
func createsReport(pending []syncproto.Mutation) bool {
	for _, m := range pending {
		if m.Op == syncproto.OpUpsert && m.Fields["visit_id"] != nil {
			return true
		}
	}
	return false
}

// applyReport lays one mutation over a report: upserts set the fields of
// a draft (fieldsync.Report.SetFields) in the order the device made them,
// "sign" signs a draft. A mutation the domain refuses is skipped, as the
// server will refuse it; answers are not checked against a template here,
// since the device checked them before queueing when it had one.
func applyReport(r *fieldsync.Report, m syncproto.Mutation) {
	at := hlcTime(m.HLC)
	switch m.Op {
	case syncproto.OpUpsert:
		if r.ID == "" {
			r.ID, r.CreatedAt = m.ID, at
		}
		if _, err := r.SetFields(m.Fields, nil, inOrder); err == nil {
			r.UpdatedAt = at
		}
	case syncproto.OpAction:
		if m.Action == "sign" && r.Sign(at) == nil { // a report signed already stays as it is; the server answers report_sealed
			// The photos and signature the device sent: the server is the
			// judge of them, so a malformed one is left out here.
			_ = json.Unmarshal(m.Fields["photos"], &r.SignedPhotos)
			r.Signature = signatureOf(m)
		}
	}
}

// inOrder takes every pending edit: they are replayed in the order made,
// each newer than what it is laid over.
func inOrder(string) bool { return true }

// hlcTime is the wall time of a stamp; zero for a malformed one.
func hlcTime(s string) time.Time {
	h, err := syncproto.ParseHLC(s)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(h.Wall).UTC()
}

// reader reads overlaid records inside one transaction. Reads of one
// record use the outbox index; reads of many group the whole outbox once.
type reader struct {
	tx   *bbolt.Tx
	all  map[string][]syncproto.Mutation // by record key, once loaded
	refs *refCache                       // may be nil
}

// refCache keeps reference records (templates, policies, the calendar)
// decoded, by entity and id, for as long as their revision holds: they
// change rarely, every answer is checked against its template, and
// decoding one costs more than the rest of the write.
type refCache struct {
	mu sync.Mutex
	m  map[string]cachedRef
}

type cachedRef struct {
	rev int64
	v   any // callers only read it
}

// cached returns the reference record entity/id decoded by parse, from
// the cache while its revision holds; false when the device lacks it.
func cached[T any](rd *reader, entity fieldsync.Entity, id string, parse func([]byte) (T, error)) (T, bool, error) {
	var zero T
	s, err := getRecord(rd.tx, entity, id)
	if err != nil || s == nil {
		return zero, false, err
	}
	k := string(entity) + "/" + id
	if c := rd.refs; c != nil {
		c.mu.Lock()
		hit, ok := c.m[k]
		c.mu.Unlock()
		if ok && hit.rev == s.Rev {
			return hit.v.(T), true, nil
		}
	}
	v, err := parse(s.Data)
	if err != nil {
		return zero, false, err
	}
	if c := rd.refs; c != nil {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]cachedRef{}
		}
		c.m[k] = cachedRef{rev: s.Rev, v: v}
		c.mu.Unlock()
	}
	return v, true, nil
}

func (rd *reader) pending(entity fieldsync.Entity, id string) ([]syncproto.Mutation, error) {
	if rd.all != nil {
		return rd.all[string(recordKey(entity, id))], nil
	}
	return pendingFor(rd.tx, entity, id)
}

// loadAll groups the whole outbox, for reads that walk many records.
func (rd *reader) loadAll() error {
	if rd.all != nil {
		return nil
	}
	all, err := pendingByRecord(rd.tx)
	rd.all = all
	return err
}

func (rd *reader) visit(id string) (*fieldsync.Visit, error) {
	s, err := getRecord(rd.tx, fieldsync.EntityVisit, id)
	if err != nil {
		return nil, err
	}
	pending, err := rd.pending(fieldsync.EntityVisit, id)
	if err != nil {
		return nil, err
	}
	v, err := overlayVisit(s, pending)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no visit %q on this device", id)
	}
	return v, nil
}

func (rd *reader) report(id string) (*fieldsync.Report, error) {
	s, err := getRecord(rd.tx, fieldsync.EntityReport, id)
	if err != nil {
		return nil, err
	}
	pending, err := rd.pending(fieldsync.EntityReport, id)
	if err != nil {
		return nil, err
	}
	r, err := overlayReport(s, pending)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no report %q on this device", id)
	}
	return r, nil
}

// reports returns every report on the device, the server's and those
// created here and not yet answered.
func (rd *reader) reports() ([]fieldsync.Report, error) {
	if err := rd.loadAll(); err != nil {
		return nil, err
	}
	var out []fieldsync.Report
	seen := map[string]bool{}
	err := eachRecord(rd.tx, fieldsync.EntityReport, func(id string, s *stored) error {
		seen[id] = true
		r, err := overlayReport(s, rd.all[string(recordKey(fieldsync.EntityReport, id))])
		if err != nil || r == nil {
			return err
		}
		out = append(out, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for key, muts := range rd.all {
		entity, id := splitKey([]byte(key))
		if entity != fieldsync.EntityReport || seen[id] {
			continue
		}
		// Without a stored record there is nothing to decode, so no error.
		if r, _ := overlayReport(nil, muts); r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}

// template returns a pulled template, nil when the device has none by id.
func (rd *reader) template(id string) (*fieldsync.Template, error) {
	t, ok, err := cached(rd, fieldsync.EntityTemplate, id, func(b []byte) (fieldsync.Template, error) {
		var t fieldsync.Template
		return t, json.Unmarshal(b, &t)
	})
	if err != nil || !ok {
		return nil, err
	}
	return &t, nil // a copy: the cache stays as it was
}

// get decodes a plain record (no overlay: the device does not edit it);
// false when absent.
func get[T any](tx *bbolt.Tx, entity fieldsync.Entity, id string) (T, bool, error) {
	var v T
	s, err := getRecord(tx, entity, id)
	if err != nil || s == nil {
		return v, false, err
	}
	return v, true, json.Unmarshal(s.Data, &v)
}
