package clientsdk

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth/authproto"
)

// Login signs the technician in on this device. The tokens are kept in the
// database, so the session survives restarts. Errors carry the server's
// code: bad_credentials, login_throttled (with RetryAfter), device_revoked…
// Signing in as another user than the last one drops that user's server
// copy; it is refused (EConflict) while their work waits in the outbox.
func (c *Client) Login(ctx context.Context, login, password string) error {
	if c.isClosed() {
		return ErrClosed
	}
	if err := c.session.login(ctx, login, password); err != nil {
		return err
	}
	c.notices.setLastErr(nil)
	c.loop.loggedIn()
	return nil
}

// session signs the device in and keeps it signed in: the tokens live in
// meta, the access token is renewed before it expires, and a server that
// ends the session or revokes the device stops syncing until the next
// Login.
type session struct {
	db         *bbolt.DB
	api        *api
	log        *slog.Logger
	now        func() time.Time
	deviceID   string
	deviceName string
	timeout    time.Duration // of one request
	// revoked runs in the transaction that records a revocation, and
	// returns what to do once it has committed (see Client.forget).
	revoked func(tx *bbolt.Tx) (after func(), err error)

	mu sync.Mutex // one login or refresh at a time: a refresh token is single-use
}

// signIn is the sign-in state kept in meta.
type signIn struct {
	access, refresh string
	refreshAt       time.Time        // renew the access token from then on
	stopped         *fieldsync.Error // why syncing stopped; nil when it may run
}

// current returns the kept access token, or "" when a refresh must get
// one: it is missing, due for renewal, or stale (the one a request was
// just refused with). The error says why no refresh can help.
func (st signIn) current(stale string, now time.Time) (string, error) {
	switch {
	case st.stopped != nil:
		return "", st.stopped
	case st.refresh == "":
		return "", ErrSignedOut
	case st.access != "" && st.access != stale && now.Before(st.refreshAt):
		return st.access, nil
	}
	return "", nil
}

// login signs in and keeps the tokens. Signing in as another user than
// the last one drops that user's server copy; it is refused (EConflict)
// while their work waits in the outbox or the photo queue.
func (s *session) login(ctx context.Context, login, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	install, err := s.install()
	if err != nil {
		return fmt.Errorf("clientsdk: login: %w", err)
	}
	var (
		t   authproto.Tokens
		key string // the device key presented
	)
	send := func(pick func(tx *bbolt.Tx) (string, error)) error {
		if err := s.db.Update(func(tx *bbolt.Tx) (err error) {
			key, err = pick(tx)
			return err
		}); err != nil {
			return err
		}
		return s.api.call(ctx, http.MethodPost, "/v1/auth/login", nil, "", s.timeout,
			authproto.LoginRequest{Login: login, Password: password, DeviceID: s.deviceID, DeviceName: s.deviceName, InstallID: install, DeviceKey: key}, &t)
	}
	err = send(func(tx *bbolt.Tx) (string, error) { return loginKey(tx, false) })
	if code(err) == fieldsync.EDeviceKeyRetired {
		err = send(retiredKey)
	}
	if code(err) == fieldsync.EDeviceRevoked {
		err = s.ended(err) // a device revoked while signed out learns it here
	}
	if err != nil {
		return fmt.Errorf("clientsdk: login: %w", err)
	}
	if t.AccessToken == "" || t.RefreshToken == "" || t.User.ID == "" || t.InstallID == "" {
		return fmt.Errorf("clientsdk: login: the server's answer lacks tokens, user or install")
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		prev, err := getSecret(tx, keyUserID)
		if err != nil {
			return err
		}
		if prev != "" && prev != t.User.ID {
			if k, _ := tx.Bucket(bucketOutbox).Cursor().First(); k != nil || photosUnsent(tx) {
				return fieldsync.Errorf(fieldsync.EConflict, "this device holds unsynced work of another user; they must sign in and sync it first")
			}
			if err := recreate(tx, bucketRecords, bucketRefused); err != nil {
				return err
			}
			if err := meta.Delete(keyCursor); err != nil {
				return err
			}
		}
		// The push seqs of this file count in this install from now on.
		if err := meta.Put(keyInstall, []byte(t.InstallID)); err != nil {
			return err
		}
		if err := registered(tx, key); err != nil {
			return err
		}
		if err := keepSlipPrefix(tx, t.SlipPrefix); err != nil {
			return err
		}
		return s.putTokens(tx, t)
	})
	if err != nil {
		return fmt.Errorf("clientsdk: login: %w", err)
	}
	s.log.Info("signed in", "user_id", t.User.ID)
	return nil
}

func (s *session) putTokens(tx *bbolt.Tx, t authproto.Tokens) error {
	life := time.Duration(t.ExpiresIn) * time.Second
	at := s.now().Add(life - min(30*time.Second, life/4))
	meta := tx.Bucket(bucketMeta)
	for k, v := range map[string]string{
		string(keyAccess): t.AccessToken, string(keyRefresh): t.RefreshToken,
		string(keyUserID): t.User.ID, string(keyRole): string(t.User.Role),
	} {
		if err := putSecret(tx, []byte(k), v); err != nil {
			return err
		}
	}
	if err := meta.Put(keyAccessUntil, u64(uint64(at.UnixMilli()))); err != nil {
		return err
	}
	return meta.Delete(keyStopped)
}

// install returns the install this file signed in on last, "" before its
// first login.
func (s *session) install() (string, error) {
	var id string
	err := s.db.View(func(tx *bbolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(keyInstall))
		return nil
	})
	return id, err
}

// state reads the sign-in state.
func (s *session) state() (signIn, error) {
	var st signIn
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		meta := tx.Bucket(bucketMeta)
		st.refreshAt = time.UnixMilli(int64(getU64(meta, keyAccessUntil)))
		if st.access, err = getSecret(tx, keyAccess); err != nil {
			return err
		}
		if st.refresh, err = getSecret(tx, keyRefresh); err != nil {
			return err
		}
		switch string(meta.Get(keyStopped)) {
		case "":
		case ErrDeviceRevoked.Code:
			st.stopped = ErrDeviceRevoked
		default:
			st.stopped = ErrSignedOut
		}
		return nil
	})
	return st, err
}

// token returns an access token to send, renewing it first when it is
// about to expire.
func (s *session) token(ctx context.Context) (string, error) {
	st, err := s.state()
	if err != nil {
		return "", err
	}
	if tok, err := st.current("", s.now()); tok != "" || err != nil {
		return tok, err
	}
	return s.refresh(ctx, st.access)
}

// refresh trades the refresh token for new tokens, unless another caller
// already replaced stale meanwhile. Refreshes are serialized: presenting a
// rotated refresh token twice would revoke the whole session.
func (s *session) refresh(ctx context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.state()
	if err != nil {
		return "", err
	}
	if tok, err := st.current(stale, s.now()); tok != "" || err != nil {
		return tok, err
	}
	var t authproto.Tokens
	err = s.api.call(ctx, http.MethodPost, "/v1/auth/refresh", nil, "", s.timeout, authproto.RefreshRequest{RefreshToken: st.refresh}, &t)
	if err != nil {
		return "", s.ended(fmt.Errorf("refresh: %w", err))
	}
	if t.AccessToken == "" || t.RefreshToken == "" {
		return "", fmt.Errorf("refresh: the server's answer lacks tokens")
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error { return s.putTokens(tx, t) }); err != nil {
		return "", err
	}
	s.log.Debug("access token renewed")
	return t.AccessToken, nil
}

// ended stops syncing when the server says the device or the session is
// gone for good, returning ErrDeviceRevoked or ErrSignedOut, and passes
// any other error through.
func (s *session) ended(err error) error {
	var reason *fieldsync.Error
	switch code(err) {
	case fieldsync.EDeviceRevoked:
		reason = ErrDeviceRevoked
	case fieldsync.ERefreshReused, fieldsync.ERefreshInvalid, fieldsync.ESessionEnded, fieldsync.EAccountDisabled:
		reason = ErrSignedOut
	default:
		return err
	}
	s.log.Warn("syncing stopped", "reason", code(err))
	var after func()
	if uerr := s.db.Update(func(tx *bbolt.Tx) (err error) {
		meta := tx.Bucket(bucketMeta)
		for _, k := range [][]byte{keyAccess, keyAccessUntil, keyRefresh} {
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		if reason == ErrDeviceRevoked && s.revoked != nil {
			if after, err = s.revoked(tx); err != nil {
				return err
			}
		}
		return meta.Put(keyStopped, []byte(reason.Code))
	}); uerr != nil {
		return uerr
	}
	if after != nil {
		after()
	}
	return reason
}

// authed runs send with an access token. When send reports the token
// refused (stale), the token is renewed and send runs once more. A server
// that ends the session or revokes the device stops syncing (see ended).
func (s *session) authed(ctx context.Context, send func(token string) (stale bool, err error)) error {
	tok, err := s.token(ctx)
	if err != nil {
		return err // refresh has dealt with a session the server ended
	}
	stale, err := send(tok)
	if stale {
		if tok, err = s.refresh(ctx, tok); err != nil {
			return err
		}
		_, err = send(tok)
	}
	return s.ended(err)
}

// call is api.call with the access token, renewed and sent again when the
// server calls it invalid.
func (s *session) call(ctx context.Context, method, path string, q url.Values, timeout time.Duration, in, out any) error {
	return s.authed(ctx, func(tok string) (bool, error) {
		err := s.api.call(ctx, method, path, q, tok, timeout, in, out)
		return code(err) == fieldsync.ETokenInvalid, err
	})
}

// recreate empties buckets.
func recreate(tx *bbolt.Tx, names ...[]byte) error {
	for _, name := range names {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	return nil
}
