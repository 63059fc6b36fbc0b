package clientsdk

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
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
	// DeviceID names this tablet to the server, among the devices of the
	// user who signs in. It is stored on first open; opening the file
	// later with another id fails. A reinstalled app may use the id of
	// the one it replaces: the server gives each file an install of its
	// own at its first login, and counts push seqs per install.
	DeviceID   string
	DeviceName string
	// Key seals the file's values at rest (XChaCha20-Poly1305; see
	// vault.go for what is sealed): KeySize random bytes, required. An app
	// makes it once and keeps it in the platform's keystore (Android
	// Keystore, iOS Keychain), never beside the file; without it the file
	// cannot be read. Opening a file with another key fails with
	// ErrWrongKey. A file of an SDK that kept values in clear is sealed
	// on its first open with a key.
	Key []byte

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
	// (refresh token reused or expired, logout, a password change or
	// reset, the account disabled). Login again to resume.
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
	clock *syncproto.Clock
	log   *slog.Logger
	refs  refCache

	closed  atomic.Bool
	changed chan struct{} // a local write happened (capacity 1): wakes Start's loop

	session *session    // tokens: login, renewal, the end of a session
	records *recordSync // the text round: the outbox pushed, the server's changes pulled
	files   *photoFiles // the device's copies of photos
	uploads *uploader   // the photo round, by tus
	notices *notices    // Events, and the last errors Status shows
	loop    *loop       // Start's goroutines and what wakes them
}

// Open opens (creating if missing) the SDK's database at path.
func Open(path string, opts Options) (*Client, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	sealer, err := newVault(opts.Key)
	if err != nil {
		return nil, err
	}
	db, err := openFile(path, sealer)
	if err != nil {
		return nil, fmt.Errorf("clientsdk: open %s: %w", path, err)
	}
	last, err := migrate(db, opts.DeviceID)
	if err == nil {
		db, err = compactIfAsked(db, path, sealer)
	}
	photoDir := path + ".photos"
	if err == nil {
		err = preparePhotoDir(db, photoDir)
	}
	if err != nil {
		if db != nil {
			closeFile(db)
		}
		return nil, fmt.Errorf("clientsdk: open %s: %w", path, err)
	}
	clock := syncproto.NewClock(opts.DeviceID, opts.Now)
	clock.Observe(last) // stamps stay monotonic across restarts, whatever the wall clock does
	c := &Client{
		db:      db,
		opts:    opts,
		clock:   clock,
		log:     opts.Logger.With("device_id", opts.DeviceID),
		changed: make(chan struct{}, 1),
		notices: newNotices(opts.Now),
	}
	web := &api{base: opts.ServerURL, t: opts.Transport, timeout: opts.RequestTimeout}
	c.session = &session{
		db: db, api: web, log: c.log, now: opts.Now,
		deviceID: opts.DeviceID, deviceName: opts.DeviceName, timeout: opts.RequestTimeout,
		revoked: c.forget,
	}
	c.records = &recordSync{
		db: db, notices: c.notices, log: c.log, now: opts.Now,
		out: &outbox{
			db: db, session: c.session, notices: c.notices, log: c.log, now: opts.Now,
			deviceID: opts.DeviceID, timeout: opts.RequestTimeout,
		},
		in: &puller{
			db: db, session: c.session, clock: clock, log: c.log,
			timeout: opts.RequestTimeout, pollWait: opts.PollWait,
		},
	}
	c.files = &photoFiles{dir: photoDir, db: db, refs: &c.refs}
	c.uploads = &uploader{
		db: db, files: c.files, notices: c.notices, log: c.log, now: opts.Now,
		chunk: opts.PhotoChunkSize, online: opts.ServerURL != "",
		sem: make(chan struct{}, 1),
		tus: &tusClient{
			api: web, session: c.session, base: opts.ServerURL,
			timeout: opts.RequestTimeout, chunkTimeout: photoRequestTimeout(opts),
		},
	}
	retry := backoff{min: opts.MinBackoff, max: opts.MaxBackoff}
	photosDue := make(chan struct{}, 1)
	c.loop = &loop{
		records: recordLoop{
			round: c.records.round, poll: c.records.in.poll,
			pollWait: opts.PollWait, debounce: opts.Debounce, backoff: retry,
			changed: c.changed, loggedIn: make(chan struct{}, 1), photosDue: photosDue,
		},
		photos: photoLoop{round: c.uploads.round, due: photosDue, backoff: retry},
	}
	if st, err := c.session.state(); err == nil && st.stopped != nil {
		c.notices.setLastErr(st.stopped)
	}
	return c, nil
}

func withDefaults(o Options) (Options, error) {
	if o.DeviceID == "" || len(o.DeviceID) > fieldsync.MaxDeviceIDLen {
		return o, fieldsync.Errorf(fieldsync.EInvalid, "clientsdk: DeviceID is required (at most %d bytes)", fieldsync.MaxDeviceIDLen)
	}
	if len(o.Key) != KeySize {
		// No default: an app must not ship a file in clear by accident.
		return o, fieldsync.Errorf(fieldsync.EInvalid, "clientsdk: Key is required: %d random bytes kept in the platform's keystore (got %d)", KeySize, len(o.Key))
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
	if c.closed.Swap(true) {
		return nil
	}
	c.notices.close()
	c.loop.close()
	return closeFile(c.db)
}

func (c *Client) isClosed() bool { return c.closed.Load() }

// poke tells Start's loop that local work is waiting.
func (c *Client) poke(ch chan struct{}) { wake(ch) }
