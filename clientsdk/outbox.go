package clientsdk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// maxPushBytes bounds the JSON of one push, well under the server's
// default body limit (1 MiB): 500 mutations of long findings would exceed
// it, and a push the server cannot take would block the outbox.
const maxPushBytes = 512 << 10

// outbox sends the device's pending work to the server and settles its
// answers. (app.go queues the work; the overlay reads it.)
type outbox struct {
	db       *bbolt.DB
	session  *session
	notices  *notices
	log      *slog.Logger
	now      func() time.Time
	deviceID string
	timeout  time.Duration // of one request
}

// push sends the outbox, oldest first, in batches, until it is empty.
func (o *outbox) push(ctx context.Context, rep *SyncReport) error {
	limit, budget := syncproto.MaxBatch, maxPushBytes
	for {
		var (
			batch   []syncproto.Mutation
			install string
		)
		err := o.db.View(func(tx *bbolt.Tx) (err error) {
			install = string(tx.Bucket(bucketMeta).Get(keyInstall))
			batch, err = queued(tx, limit, budget)
			return err
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		var resp syncproto.PushResponse
		req := syncproto.PushRequest{DeviceID: o.deviceID, InstallID: install, Mutations: batch}
		err = o.session.call(ctx, http.MethodPost, "/v1/sync/push", nil, o.timeout, req, &resp)
		if code(err) == fieldsync.ETooLarge && len(batch) > 1 {
			// A server with a smaller body limit: halve the batch and go on.
			limit, budget = len(batch)/2, budget/2
			o.log.Warn("push too large for the server: halving the batch", "mutations", limit)
			continue
		}
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		refused, err := o.settle(batch, resp.Results, rep)
		for i := range refused {
			o.notices.emit(Event{Kind: EventRefused, Refusal: &refused[i]})
		}
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
	}
}

// settle records the server's answers in one transaction: applied and
// duplicate mutations leave the outbox, refused ones move to refused. It
// commits whatever it could settle even when it returns an error, because
// the server has consumed those seqs: asking again would only get
// "duplicate", and a refusal would be lost.
func (o *outbox) settle(batch []syncproto.Mutation, results []syncproto.Result, rep *SyncReport) ([]Refusal, error) {
	sent := make(map[int64]syncproto.Mutation, len(batch))
	for _, m := range batch {
		sent[m.Seq] = m
	}
	var (
		refused []Refusal
		problem error
		counts  SyncReport
	)
	err := o.db.Update(func(tx *bbolt.Tx) error {
		touched := map[string]bool{}
	results:
		for _, r := range results {
			m, ok := sent[r.Seq]
			if !ok {
				problem = fmt.Errorf("the server answered seq %d, which was not sent", r.Seq)
				break results
			}
			delete(sent, r.Seq)
			switch {
			case r.Status == syncproto.Applied:
				counts.Applied++
				if err := fold(tx, m, r.Rev); err != nil {
					return err
				}
			case r.Status == syncproto.Duplicate:
				counts.Duplicates++
			case r.Code == syncproto.CodeSeqGap:
				// The device numbers its outbox without holes, so the server
				// lost track of it (a restored server?). Nothing is dropped:
				// the entry stays for a later round.
				o.log.Error("push refused with seq_gap", "seq", r.Seq, "detail", r.Detail)
				problem = fieldsync.Errorf(syncproto.CodeSeqGap, "the server expected another seq than %d: %s", r.Seq, r.Detail)
				break results
			case r.Status == syncproto.Conflict || r.Status == syncproto.Rejected:
				counts.Refused++
				f := Refusal{Mutation: m, Status: r.Status, Code: r.Code, Detail: r.Detail, At: o.now().UTC()}
				if err := putJSON(tx, bucketRefused, seqKey(m.Seq), f); err != nil {
					return err
				}
				refused = append(refused, f)
			default:
				problem = fmt.Errorf("seq %d: unknown result status %q", r.Seq, r.Status)
				break results
			}
			counts.Pushed++
			touched[string(recordKey(m.Entity, m.ID))] = true
			if err := dequeue(tx, m); err != nil {
				return err
			}
		}
		if problem == nil && len(sent) > 0 {
			problem = fmt.Errorf("the server answered %d of %d mutations", len(results), len(batch))
		}
		return dropSettledEvictions(tx, touched)
	})
	if err != nil {
		return nil, err
	}
	rep.Pushed += counts.Pushed
	rep.Applied += counts.Applied
	rep.Duplicates += counts.Duplicates
	rep.Refused += counts.Refused
	for _, f := range refused {
		o.log.Info("mutation refused", "seq", f.Mutation.Seq, "entity", f.Mutation.Entity, "id", f.Mutation.ID, "status", f.Status, "code", f.Code)
	}
	return refused, problem
}

// fold lays an applied mutation into the device's copy of the record at
// the revision the server gave it, so the change stays visible between
// this push and the pull that brings the server's own copy (which then
// replaces it). A copy already at that revision or later includes it.
func fold(tx *bbolt.Tx, m syncproto.Mutation, rev int64) error {
	if m.Op == syncproto.OpDelete && rev > 0 { // gone on the server: gone here, ahead of its tombstone
		return tx.Bucket(bucketRecords).Delete(recordKey(m.Entity, m.ID))
	}
	s, err := getRecord(tx, m.Entity, m.ID)
	if err != nil || rev <= 0 || s != nil && s.Rev >= rev {
		return err
	}
	var data any
	switch m.Entity {
	case fieldsync.EntityVisit:
		if s == nil {
			return nil
		}
		v, err := overlayVisit(s, []syncproto.Mutation{m})
		if err != nil {
			return err
		}
		data = v
	case fieldsync.EntityReport:
		r, err := overlayReport(s, []syncproto.Mutation{m})
		if err != nil || r == nil {
			return err
		}
		data = r
	default:
		return nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	next := &stored{Rev: rev, Data: raw}
	if s != nil {
		next.Evicted = s.Evicted
	}
	return putRecord(tx, recordKey(m.Entity, m.ID), next)
}

// dropSettledEvictions removes the records kept after an eviction only
// for the device's own unsynced work, once that work is answered.
func dropSettledEvictions(tx *bbolt.Tx, keys map[string]bool) error {
	for k := range keys {
		entity, id := splitKey([]byte(k))
		if hasPending(tx, entity, id) {
			continue
		}
		s, err := getRecord(tx, entity, id)
		if err != nil {
			return err
		}
		if s != nil && s.Evicted {
			if err := tx.Bucket(bucketRecords).Delete([]byte(k)); err != nil {
				return err
			}
		}
	}
	return nil
}
