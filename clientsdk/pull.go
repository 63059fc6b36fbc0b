package clientsdk

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// puller brings the server's changes to the device: pages of the user's
// partition after the stored cursor, applied with the cursor in one
// transaction.
type puller struct {
	db       *bbolt.DB
	session  *session
	clock    *syncproto.Clock
	log      *slog.Logger
	timeout  time.Duration // of one request; a long poll adds its wait
	pollWait time.Duration
}

// errStaleCursor: another pull advanced the cursor while this one was on
// the network; its page is dropped and the next pull fetches it again.
var errStaleCursor = errors.New("cursor moved meanwhile")

// pull fetches pages until has_more is false. A cursor_reset drops the
// server copy (never the outbox or refused work) and starts again from
// nothing, once per round.
func (p *puller) pull(ctx context.Context, rep *SyncReport) error {
	for {
		cursor, err := p.cursor()
		if err != nil {
			return err
		}
		page, err := p.fetch(ctx, cursor, 0)
		if code(err) == fieldsync.ECursorReset {
			if rep.Reset {
				return fmt.Errorf("pull: reset twice in one round: %w", err)
			}
			p.log.Warn("the server reset the cursor: pulling everything again")
			rep.Reset = true
			if err := p.db.Update(func(tx *bbolt.Tx) error {
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
		n, err := p.applyPage(cursor, page)
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

func (p *puller) fetch(ctx context.Context, cursor string, wait time.Duration) (*syncproto.PullResponse, error) {
	q := url.Values{"limit": {strconv.Itoa(syncproto.DefaultPullSize)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	var page syncproto.PullResponse
	if err := p.session.call(ctx, http.MethodGet, "/v1/sync/pull", q, p.timeout+wait, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

func (p *puller) cursor() (string, error) {
	var cur string
	err := p.db.View(func(tx *bbolt.Tx) (err error) {
		cur, err = getSecret(tx, keyCursor)
		return err
	})
	return cur, err
}

// applyPage stores a page and its cursor in one transaction, provided the
// cursor is still the one the page was asked from. It returns how many
// changes it applied.
func (p *puller) applyPage(from string, page *syncproto.PullResponse) (int, error) {
	n := 0
	err := p.db.Update(func(tx *bbolt.Tx) error {
		n = 0
		meta, records := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords)
		if cur, err := getSecret(tx, keyCursor); err != nil || cur != from {
			return cmp.Or(err, errStaleCursor)
		}
		for _, ch := range page.Changes {
			if ch.Entity == "" || ch.ID == "" {
				p.log.Warn("pull: change without entity or id skipped", "entity", ch.Entity, "id", ch.ID)
				continue
			}
			key := recordKey(ch.Entity, ch.ID)
			switch ch.Op {
			case syncproto.ChangeUpsert:
				if !json.Valid(ch.Data) {
					p.log.Warn("pull: change with malformed data skipped", "entity", ch.Entity, "id", ch.ID)
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
				if err := p.observeStamps(meta, ch.Entity, ch.Data); err != nil {
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
				p.log.Warn("pull: unknown change op skipped", "op", ch.Op, "entity", ch.Entity, "id", ch.ID)
				continue
			}
			n++
		}
		if err := putSecret(tx, keyCursor, page.Cursor); err != nil {
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
func (p *puller) observeStamps(meta *bbolt.Bucket, entity fieldsync.Entity, data json.RawMessage) error {
	if entity != fieldsync.EntityReport {
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
	p.clock.Observe(seen)
	return meta.Put(keyLastHLC, []byte(seen.String()))
}

// poll waits (long-polls) for changes after the current cursor and applies
// what comes. It reports whether a round should follow: something came,
// more waits, or the server reset the cursor.
func (p *puller) poll(ctx context.Context) (bool, error) {
	cursor, err := p.cursor()
	if err != nil {
		return false, err
	}
	start := time.Now()
	page, err := p.fetch(ctx, cursor, p.pollWait)
	switch {
	case code(err) == fieldsync.ECursorReset:
		return true, nil // the round deals with it
	case err != nil:
		return false, err
	}
	n, err := p.applyPage(cursor, page)
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
	if rest := p.pollWait - time.Since(start); rest > p.pollWait/2 {
		t := time.NewTimer(rest)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return false, nil
}
