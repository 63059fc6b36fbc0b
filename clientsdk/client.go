package clientsdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Options configures a Client. DeviceID is required; everything else has a
// default.
type Options struct {
	// ServerURL is the server's base URL, e.g. "https://fs.example.com".
	// Without it the client works offline only and Sync fails.
	ServerURL string
	// DeviceID names this tablet to the server. It is stored on first
	// open; opening the file later with another id fails.
	DeviceID   string
	DeviceName string

	// Transport carries every request. When nil, HTTPClient is used, and
	// when that is nil too, an http.Client with connect, TLS and idle
	// timeouts. Tests and apps wrap it to cut the network.
	Transport  Transport
	HTTPClient *http.Client
	// RequestTimeout bounds each request (a long poll gets PollWait on
	// top). Default 30s.
	RequestTimeout time.Duration
	// PollWait is how long the server may hold a pull open in Start's
	// loop (the wait parameter). Default 25s; negative turns long polling
	// off, so Start syncs only on local changes and retries.
	PollWait time.Duration
	// Debounce gathers local changes made in quick succession into one
	// round. Default 500ms.
	Debounce time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed round is
	// retried. Defaults 1s and 2m.
	MinBackoff, MaxBackoff time.Duration

	// PhotoChunkSize is how many bytes of a photo one upload request (a
	// tus PATCH) carries: a connection cut mid-transfer costs at most one
	// chunk sent again, and an upload holds no more than a small buffer in
	// memory whatever the chunk. Default 1 MiB; at least 16 KiB. A chunk
	// may take RequestTimeout plus one second per 32 KiB.
	PhotoChunkSize int64

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the SDK's logs; nil discards them. Tokens and
	// passwords are never logged.
	Logger *slog.Logger
}

// Errors that stop syncing. Local data — records, the outbox and refused
// work — is kept; the app can go on reading and writing offline.
var (
	// ErrDeviceRevoked: an administrator revoked this tablet. Syncing
	// stays stopped until a successful Login (which a revoked device id
	// will not get).
	ErrDeviceRevoked = &fieldsync.Error{Code: fieldsync.EDeviceRevoked,
		Detail: "this device was revoked by an administrator; syncing stopped, local work is kept"}
	// ErrSignedOut: no session (never logged in), or the server ended it
	// (refresh token reused or expired). Login again to resume.
	ErrSignedOut = &fieldsync.Error{Code: fieldsync.EUnauthorized,
		Detail: "signed out; log in again to sync, local work is kept"}
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("clientsdk: client is closed")
)

// Client is the technician's local database and its sync with the server.
// It is safe for concurrent use. App methods work offline: they read and
// write the local file only; Sync and Start talk to the server.
type Client struct {
	db    *bbolt.DB
	opts  Options
	api   *api
	clock *syncproto.Clock
	log   *slog.Logger

	authMu sync.Mutex // one login or refresh at a time: a refresh token is single-use
	syncMu sync.Mutex // one sync round at a time

	changed  chan struct{} // a local write happened (capacity 1)
	loggedIn chan struct{} // a login succeeded (capacity 1)
	events   chan Event

	mu      sync.Mutex // guards the fields below
	lastErr string
	closed  bool
	stop    context.CancelFunc // of Start's loop
	done    chan struct{}      // closed when Start's loop has returned
	running bool

	tpls templateCache

	// Photos (photos.go, upload.go).
	photoDir     string        // <db file>.photos: the device's copies, named by SHA-256
	photoFileMu  sync.Mutex    // an attachment's file and its queue entry settle together
	photoSem     chan struct{} // one photo round at a time (capacity 1); a channel so waiting obeys ctx
	photosDue    chan struct{} // Start's photo worker has work (capacity 1)
	photoTimeout time.Duration // of one upload request
	photoErr     string        // guarded by mu: why the last photo round stopped; "" when it did not
}

// Open opens (creating if missing) the SDK's database at path.
func Open(path string, opts Options) (*Client, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("clientsdk: open %s: %w", path, err)
	}
	last, err := migrate(db, opts.DeviceID)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("clientsdk: open %s: %w", path, err)
	}
	photoDir := path + ".photos"
	if err := preparePhotoDir(db, photoDir); err != nil {
		db.Close()
		return nil, fmt.Errorf("clientsdk: open %s: %w", path, err)
	}
	clock := syncproto.NewClock(opts.DeviceID, opts.Now)
	clock.Observe(last) // stamps stay monotonic across restarts, whatever the wall clock does
	c := &Client{
		db:       db,
		opts:     opts,
		api:      &api{base: opts.ServerURL, t: opts.Transport, timeout: opts.RequestTimeout},
		clock:    clock,
		log:      opts.Logger.With("device_id", opts.DeviceID),
		changed:  make(chan struct{}, 1),
		loggedIn: make(chan struct{}, 1),
		events:   make(chan Event, 64),

		photoDir:     photoDir,
		photoSem:     make(chan struct{}, 1),
		photosDue:    make(chan struct{}, 1),
		photoTimeout: photoRequestTimeout(opts),
	}
	if s, err := c.session(); err == nil && s.stopped != nil {
		c.lastErr = s.stopped.Error()
	}
	return c, nil
}

func withDefaults(o Options) (Options, error) {
	if o.DeviceID == "" || len(o.DeviceID) > fieldsync.MaxDeviceIDLen {
		return o, fieldsync.Errorf(fieldsync.EInvalid, "clientsdk: DeviceID is required (at most %d bytes)", fieldsync.MaxDeviceIDLen)
	}
	if o.ServerURL != "" {
		u, err := url.Parse(o.ServerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, fieldsync.Errorf(fieldsync.EInvalid, "clientsdk: ServerURL %q is not an http(s) URL", o.ServerURL)
		}
		o.ServerURL = strings.TrimRight(o.ServerURL, "/")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RequestTimeout, 30*time.Second)
	def(&o.Debounce, 500*time.Millisecond)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, 2*time.Minute)
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.PollWait == 0 {
		o.PollWait = 25 * time.Second
	}
	switch {
	case o.PhotoChunkSize <= 0:
		o.PhotoChunkSize = DefaultPhotoChunkSize
	case o.PhotoChunkSize < minPhotoChunkSize:
		o.PhotoChunkSize = minPhotoChunkSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Transport == nil {
		if o.HTTPClient != nil {
			o.Transport = o.HTTPClient
		} else {
			o.Transport = defaultHTTPClient(max(o.RequestTimeout+max(o.PollWait, 0), photoRequestTimeout(o)))
		}
	}
	return o, nil
}

// defaultHTTPClient bounds each phase of a connection; the whole request
// is bounded by a context per request, and by total as a last resort.
func defaultHTTPClient(total time.Duration) *http.Client {
	return &http.Client{
		Timeout: total + 10*time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          4,
			ForceAttemptHTTP2:     true,
		},
	}
}

// Close stops Start's loop, waits for it, and closes the database. The
// Events channel is closed once nothing can send on it any more.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	stop, done := c.stop, c.done
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	err := c.db.Close()
	c.mu.Lock()
	close(c.events)
	c.mu.Unlock()
	return err
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// poke tells Start's loop that local work is waiting.
func (c *Client) poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
