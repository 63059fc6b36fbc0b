package clientsdk

import (
	"encoding/json"
	"time"

	bbolt "go.etcd.io/bbolt"

	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Status is what the app shows about sync: how much work waits, since
// when, and how the last attempt went.
type Status struct {
	Pending       int           // mutations in the outbox
	OldestPending time.Duration // age of the oldest of them; 0 when none
	LastSync      time.Time     // end of the last successful round; zero if none yet
	Pulled        int64         // changes applied from the server, in all
	Refused       int           // refusals listed by Conflicts
	LastError     string        // why the last round failed; "" after a success
	Running       bool          // Start's loop is running
	UserID        string        // who signed in last; "" if nobody yet
	SignedIn      bool          // a session is kept and syncing is not stopped
}

// Status reads the sync state.
func (c *Client) Status() (Status, error) {
	if c.isClosed() {
		return Status{}, ErrClosed
	}
	var s Status
	err := c.db.View(func(tx *bbolt.Tx) error {
		out := tx.Bucket(bucketOutbox)
		s.Pending = out.Stats().KeyN
		if _, v := out.Cursor().First(); v != nil {
			var m syncproto.Mutation
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			if at := hlcTime(m.HLC); !at.IsZero() {
				s.OldestPending = max(c.opts.Now().Sub(at), 0)
			}
		}
		s.Refused = tx.Bucket(bucketRefused).Stats().KeyN
		meta := tx.Bucket(bucketMeta)
		if ms := getU64(meta, keyLastSync); ms > 0 {
			s.LastSync = time.UnixMilli(int64(ms)).UTC()
		}
		s.Pulled = int64(getU64(meta, keyPulledTotal))
		s.UserID = string(meta.Get(keyUserID))
		s.SignedIn = meta.Get(keyRefresh) != nil && meta.Get(keyStopped) == nil
		return nil
	})
	c.mu.Lock()
	s.LastError, s.Running = c.lastErr, c.running
	c.mu.Unlock()
	return s, err
}

func (c *Client) setLastErr(s string) {
	c.mu.Lock()
	c.lastErr = s
	c.mu.Unlock()
}

// EventKind names what happened.
type EventKind string

const (
	EventSynced  EventKind = "synced"  // a round succeeded; Report says what it did
	EventRefused EventKind = "refused" // the server refused a mutation; see Refusal
	EventError   EventKind = "error"   // a round failed; see Err
)

// Event is a notice from the SDK to the app.
type Event struct {
	Kind    EventKind
	At      time.Time
	Report  SyncReport // EventSynced, EventError (what got done before the failure)
	Refusal *Refusal   // EventRefused
	Err     error      // EventError
}

// Events delivers notices of sync rounds and refusals. The channel is
// buffered; when the app does not keep up, notices are dropped rather than
// holding sync back (Status and Conflicts always tell the whole story). It
// is closed by Close.
func (c *Client) Events() <-chan Event { return c.events }

func (c *Client) emit(e Event) {
	e.At = c.opts.Now().UTC()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.events <- e:
	default:
	}
}
