package clientsdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Codes of the protocol the SDK acts on (docs/sync.md).
const (
	codeSeqGap      = syncproto.CodeSeqGap
	codeCursorReset = fieldsync.ECursorReset
)

// SyncReport says what one sync round did. (Not "Report": in this package
// a report is the inspection report.)
type SyncReport struct {
	Pushed     int  // mutations the server answered
	Applied    int  // of which applied
	Duplicates int  // of which seen before (applied by an earlier, unanswered push)
	Refused    int  // of which refused: conflicts and rejections, now in Conflicts
	Pulled     int  // changes applied from the server
	Reset      bool // the server asked the device to drop its copy and pull from the start
}

// errStaleCursor: another pull advanced the cursor while this one was on
// the network; its page is dropped and the next pull fetches it again.
var errStaleCursor = errors.New("cursor moved meanwhile")

// Sync runs one round: push the outbox, oldest first, in batches of
// syncproto.MaxBatch, then pull until the server has nothing more, then
// upload the photo queue (upload.go). A failed push leaves the outbox as
// it was; pushing again is safe, the server dedupes by seq. Errors:
// ErrDeviceRevoked and ErrSignedOut stop syncing until the next Login;
// anything else is worth retrying later.
//
// The result and the error are the text records' alone: photos never fail
// a round. How they went is told by Photos, Status (PhotoError) and the
// photo events; those not sent wait for the next round.
func (c *Client) Sync(ctx context.Context) (SyncReport, error) {
	rep, err := c.syncRecords(ctx)
	if err == nil || !stopsSync(err) && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
		// Even after a failed text round: photos of reports the server has
		// need nothing else, and a dead network costs one request.
		_ = c.syncPhotos(ctx)
	}
	return rep, err
}

// syncRecords is the text part of a round: push, then pull.
func (c *Client) syncRecords(ctx context.Context) (SyncReport, error) {
	if c.isClosed() {
		return SyncReport{}, ErrClosed
	}
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var rep SyncReport
	err := c.push(ctx, &rep)
	if err == nil {
		err = c.pull(ctx, &rep)
	}
	if err != nil {
		c.setLastErr(err.Error())
		c.log.Warn("sync failed", "err", err, "pushed", rep.Pushed, "pulled", rep.Pulled)
		c.emit(Event{Kind: EventError, Err: err, Report: rep})
		return rep, fmt.Errorf("clientsdk: sync: %w", err)
	}
	if err := c.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyLastSync, u64(uint64(c.opts.Now().UnixMilli())))
	}); err != nil {
		return rep, err
	}
	c.setLastErr("")
	c.log.Debug("synced", "pushed", rep.Pushed, "refused", rep.Refused, "pulled", rep.Pulled, "reset", rep.Reset)
	c.emit(Event{Kind: EventSynced, Report: rep})
	return rep, nil
}

// maxPushBytes bounds the JSON of one push, well under the server's
// default body limit (1 MiB): 500 mutations of long findings would exceed
// it, and a push the server cannot take would block the outbox.
const maxPushBytes = 512 << 10

func (c *Client) push(ctx context.Context, rep *SyncReport) error {
	limit, budget := syncproto.MaxBatch, maxPushBytes
	for {
		var batch []syncproto.Mutation
		err := c.db.View(func(tx *bbolt.Tx) (err error) {
			batch, err = outbox(tx, limit, budget)
			return err
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		var resp syncproto.PushResponse
		req := syncproto.PushRequest{DeviceID: c.opts.DeviceID, Mutations: batch}
		err = c.authed(ctx, http.MethodPost, "/v1/sync/push", nil, c.opts.RequestTimeout, req, &resp)
		if code(err) == fieldsync.ETooLarge && len(batch) > 1 {
			// A server with a smaller body limit: halve the batch and go on.
			limit, budget = len(batch)/2, budget/2
			c.log.Warn("push too large for the server: halving the batch", "mutations", limit)
			continue
		}
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		refused, err := c.settle(batch, resp.Results, rep)
		for i := range refused {
			c.emit(Event{Kind: EventRefused, Refusal: &refused[i]})
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
func (c *Client) settle(batch []syncproto.Mutation, results []syncproto.Result, rep *SyncReport) ([]Refusal, error) {
	sent := make(map[int64]syncproto.Mutation, len(batch))
	for _, m := range batch {
		sent[m.Seq] = m
	}
	var (
		refused []Refusal
		problem error
		counts  SyncReport
	)
	err := c.db.Update(func(tx *bbolt.Tx) error {
		ref := tx.Bucket(bucketRefused)
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
			case r.Code == codeSeqGap:
				// The device numbers its outbox without holes, so the server
				// lost track of it (a restored server?). Nothing is dropped:
				// the entry stays for a later round.
				c.log.Error("push refused with seq_gap", "seq", r.Seq, "detail", r.Detail)
				problem = fieldsync.Errorf(codeSeqGap, "the server expected another seq than %d: %s", r.Seq, r.Detail)
				break results
			case r.Status == syncproto.Conflict || r.Status == syncproto.Rejected:
				counts.Refused++
				f := Refusal{Mutation: m, Status: r.Status, Code: r.Code, Detail: r.Detail, At: c.opts.Now().UTC()}
				raw, err := json.Marshal(f)
				if err != nil {
					return err
				}
				if err := ref.Put(seqKey(m.Seq), raw); err != nil {
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
		c.log.Info("mutation refused", "seq", f.Mutation.Seq, "entity", f.Mutation.Entity, "id", f.Mutation.ID, "status", f.Status, "code", f.Code)
	}
	return refused, problem
}

// fold lays an applied mutation into the device's copy of the record at
// the revision the server gave it, so the change stays visible between
// this push and the pull that brings the server's own copy (which then
// replaces it). A copy already at that revision or later includes it.
func fold(tx *bbolt.Tx, m syncproto.Mutation, rev int64) error {
	s, err := getRecord(tx, m.Entity, m.ID)
	if err != nil || rev <= 0 || s != nil && s.Rev >= rev {
		return err
	}
	var data any
	switch m.Entity {
	case "visit":
		if s == nil {
			return nil
		}
		v, err := overlayVisit(s, []syncproto.Mutation{m})
		if err != nil {
			return err
		}
		data = v
	case "report":
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

// pull fetches pages until has_more is false. A cursor_reset drops the
// server copy (never the outbox or refused work) and starts again from
// nothing, once per round.
func (c *Client) pull(ctx context.Context, rep *SyncReport) error {
	for {
		cursor, err := c.cursor()
		if err != nil {
			return err
		}
		page, err := c.fetch(ctx, cursor, 0)
		if code(err) == codeCursorReset {
			if rep.Reset {
				return fmt.Errorf("pull: reset twice in one round: %w", err)
			}
			c.log.Warn("the server reset the cursor: pulling everything again")
			rep.Reset = true
			if err := c.db.Update(func(tx *bbolt.Tx) error {
				if err := recreate(tx, bucketRecords); err != nil {
					return err
				}
				return tx.Bucket(bucketMeta).Delete(keyCursor)
			}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("pull: %w", err)
		}
		n, err := c.applyPage(cursor, page)
		if errors.Is(err, errStaleCursor) {
			continue
		}
		if err != nil {
			return fmt.Errorf("pull: %w", err)
		}
		rep.Pulled += n
		if !page.HasMore {
			return nil
		}
		if page.Cursor == cursor {
			return fmt.Errorf("pull: the server has more but did not move the cursor")
		}
	}
}

func (c *Client) fetch(ctx context.Context, cursor string, wait time.Duration) (*syncproto.PullResponse, error) {
	q := url.Values{"limit": {strconv.Itoa(syncproto.DefaultPullSize)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	var page syncproto.PullResponse
	if err := c.authed(ctx, http.MethodGet, "/v1/sync/pull", q, c.opts.RequestTimeout+wait, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

func (c *Client) cursor() (string, error) {
	var cur string
	err := c.db.View(func(tx *bbolt.Tx) error {
		cur = string(tx.Bucket(bucketMeta).Get(keyCursor))
		return nil
	})
	return cur, err
}

// applyPage stores a page and its cursor in one transaction, provided the
// cursor is still the one the page was asked from. It returns how many
// changes it applied.
func (c *Client) applyPage(from string, page *syncproto.PullResponse) (int, error) {
	n := 0
	err := c.db.Update(func(tx *bbolt.Tx) error {
		n = 0
		meta, records := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords)
		if string(meta.Get(keyCursor)) != from {
			return errStaleCursor
		}
		for _, ch := range page.Changes {
			if ch.Entity == "" || ch.ID == "" {
				c.log.Warn("pull: change without entity or id skipped", "entity", ch.Entity, "id", ch.ID)
				continue
			}
			key := recordKey(ch.Entity, ch.ID)
			switch ch.Op {
			case syncproto.ChangeUpsert:
				if !json.Valid(ch.Data) {
					c.log.Warn("pull: change with malformed data skipped", "entity", ch.Entity, "id", ch.ID)
					continue
				}
				old, err := getRecord(tx, ch.Entity, ch.ID)
				if err != nil {
					return err
				}
				if old != nil && ch.Rev < old.Rev {
					continue // the device already holds a later state
				}
				if err := putRecord(tx, key, &stored{Rev: ch.Rev, Data: ch.Data}); err != nil {
					return err
				}
				if err := c.observeStamps(meta, ch.Entity, ch.Data); err != nil {
					return err
				}
			case syncproto.ChangeDelete:
				if err := records.Delete(key); err != nil {
					return err
				}
			case syncproto.ChangeEvict:
				if !hasPending(tx, ch.Entity, ch.ID) {
					if err := records.Delete(key); err != nil {
						return err
					}
					break
				}
				// The device's own unsynced work stays, with what it was done on,
				// until the server has answered it.
				s, err := getRecord(tx, ch.Entity, ch.ID)
				if err != nil || s == nil {
					return err
				}
				s.Evicted = true
				if err := putRecord(tx, key, s); err != nil {
					return err
				}
			default:
				c.log.Warn("pull: unknown change op skipped", "op", ch.Op, "entity", ch.Entity, "id", ch.ID)
				continue
			}
			n++
		}
		if err := meta.Put(keyCursor, []byte(page.Cursor)); err != nil {
			return err
		}
		return meta.Put(keyPulledTotal, u64(getU64(meta, keyPulledTotal)+uint64(n)))
	})
	return n, err
}

// observeStamps moves the device's clock past the stamps a pulled record
// carries (a report's per-field clocks), and keeps the greatest for
// restarts: an edit made after reading another tablet's edit is then
// stamped later and wins, even when this tablet's wall clock is behind.
func (c *Client) observeStamps(meta *bbolt.Bucket, entity string, data json.RawMessage) error {
	if entity != "report" {
		return nil
	}
	var r struct {
		Clocks map[string]string `json:"clocks"`
	}
	if json.Unmarshal(data, &r) != nil {
		return nil
	}
	last, _ := syncproto.ParseHLC(string(meta.Get(keyLastHLC)))
	seen := last
	for _, s := range r.Clocks {
		if h, err := syncproto.ParseHLC(s); err == nil && h.Compare(seen) > 0 {
			seen = h
		}
	}
	if seen == last {
		return nil
	}
	c.clock.Observe(seen)
	return meta.Put(keyLastHLC, []byte(seen.String()))
}

// poll waits (long-polls) for changes after the current cursor and applies
// what comes. It reports whether a round should follow: something came,
// more waits, or the server reset the cursor.
func (c *Client) poll(ctx context.Context) (bool, error) {
	cursor, err := c.cursor()
	if err != nil {
		return false, err
	}
	start := time.Now()
	page, err := c.fetch(ctx, cursor, c.opts.PollWait)
	switch {
	case code(err) == codeCursorReset:
		return true, nil // the round deals with it
	case err != nil:
		return false, err
	}
	n, err := c.applyPage(cursor, page)
	switch {
	case errors.Is(err, errStaleCursor):
		return true, nil
	case err != nil:
		return false, err
	case n > 0 || page.HasMore:
		return true, nil
	}
	// A server (or proxy) that does not hold the request would make this a
	// busy loop: wait out the rest of the poll here, still cancellable.
	if rest := c.opts.PollWait - time.Since(start); rest > c.opts.PollWait/2 {
		t := time.NewTimer(rest)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return false, nil
}
