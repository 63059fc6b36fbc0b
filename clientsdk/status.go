package clientsdk

import (
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
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
	InstallID     string        // the install the server gave this database; "" before its first login
	SignedIn      bool          // a session is kept and syncing is not stopped

	// Photos (see Photos for each one): waiting for an upload, with an
	// upload under way, refused for good (refused work beside Refused,
	// listed by RefusedPhotos). PhotoBytesPending is what is left to send
	// of the first two.
	PhotosQueued      int
	PhotosUploading   int
	PhotosFailed      int
	PhotoBytesPending int64
	// PhotoError is why the last photo round stopped (the network, the
	// server's photo storage…); "" when it went through. Photos are tried
	// again on the next round; the text records never wait for them.
	PhotoError string
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
		oldest, err := queued(tx, 1, 0)
		if err != nil {
			return err
		}
		if len(oldest) > 0 {
			if at := hlcTime(oldest[0].HLC); !at.IsZero() {
				s.OldestPending = max(c.opts.Now().Sub(at), 0)
			}
		}
		s.Refused = tx.Bucket(bucketRefused).Stats().KeyN
		meta := tx.Bucket(bucketMeta)
		if ms := getU64(meta, keyLastSync); ms > 0 {
			s.LastSync = time.UnixMilli(int64(ms)).UTC()
		}
		s.Pulled = int64(getU64(meta, keyPulledTotal))
		if s.UserID, err = getSecret(tx, keyUserID); err != nil {
			return err
		}
		s.InstallID = string(meta.Get(keyInstall))
		s.SignedIn = meta.Get(keyRefresh) != nil && meta.Get(keyStopped) == nil
		return eachPhoto(tx, func(_ int64, e *photoEntry) error {
			switch e.State {
			case PhotoQueued:
				s.PhotosQueued++
			case PhotoUploading:
				s.PhotosUploading++
			case PhotoFailed:
				s.PhotosFailed++
			}
			if !e.done() {
				s.PhotoBytesPending += e.Size - e.Sent
			}
			return nil
		})
	})
	s.LastError, s.PhotoError = c.notices.errors()
	s.Running = c.loop.isRunning()
	return s, err
}

// EventKind names what happened.
type EventKind string

const (
	EventSynced  EventKind = "synced"  // a round succeeded; Report says what it did
	EventRefused EventKind = "refused" // the server refused a mutation; see Refusal
	EventError   EventKind = "error"   // a round failed; see Err

	// Photos: each carries Photo, the photo's state after the step.
	EventPhotoProgress EventKind = "photo_progress" // the server acknowledged a chunk: Photo.Sent of Photo.Size
	EventPhotoVerified EventKind = "photo_verified" // the server verified the photo and attached it to its report
	EventPhotoFailed   EventKind = "photo_failed"   // the server refused the photo for good: Photo.Error, Photo.Detail
	// EventPhotoError: a photo round stopped (network, server); its photos
	// are tried again later. Err says why; no Photo.
	EventPhotoError EventKind = "photo_error"
)

// Event is a notice from the SDK to the app.
type Event struct {
	Kind    EventKind
	At      time.Time
	Report  SyncReport   // EventSynced, EventError (what got done before the failure)
	Refusal *Refusal     // EventRefused
	Err     error        // EventError, EventPhotoError
	Photo   *PhotoStatus // EventPhotoProgress, EventPhotoVerified, EventPhotoFailed
}

// Events delivers notices of sync rounds, refusals and photo uploads. The channel is
// buffered; when the app does not keep up, notices are dropped rather than
// holding sync back (Status and Conflicts always tell the whole story). It
// is closed by Close.
func (c *Client) Events() <-chan Event { return c.notices.events }

// notices is what the app learns of sync without asking: Events, and why
// the last rounds failed, for Status.
type notices struct {
	now    func() time.Time
	events chan Event

	mu       sync.Mutex // guards the fields below, and sending on events
	closed   bool       // events is closed
	lastErr  string     // why the last text round failed; "" after a success
	photoErr string     // why the last photo round stopped; "" when it did not
}

func newNotices(now func() time.Time) *notices {
	return &notices{now: now, events: make(chan Event, 64)}
}

// emit sends e unless the app is behind (the buffer is full) or the
// client closed.
func (n *notices) emit(e Event) {
	e.At = n.now().UTC()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	select {
	case n.events <- e:
	default:
	}
}

// setLastErr records how the last text round went; nil for a success.
func (n *notices) setLastErr(err error) {
	n.mu.Lock()
	n.lastErr = errText(err)
	n.mu.Unlock()
}

// setPhotoErr records how the last photo round went; nil for a success.
func (n *notices) setPhotoErr(err error) {
	n.mu.Lock()
	n.photoErr = errText(err)
	n.mu.Unlock()
}

func (n *notices) errors() (last, photo string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastErr, n.photoErr
}

// close closes Events; later notices are dropped.
func (n *notices) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(n.events)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
