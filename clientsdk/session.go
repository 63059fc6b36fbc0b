package clientsdk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth/authproto"
)

// session is the sign-in state kept in meta.
type session struct {
	access, refresh string
	refreshAt       time.Time // renew the access token from then on
	userID          string
	stopped         *fieldsync.Error // why syncing stopped; nil when it may run
}

// Login signs the technician in on this device. The tokens are kept in the
// database, so the session survives restarts. Errors carry the server's
// code: bad_credentials, login_throttled (with RetryAfter), device_revoked…
// Signing in as another user than the last one drops that user's server
// copy; it is refused (EConflict) while their work waits in the outbox.
func (c *Client) Login(ctx context.Context, login, password string) error {
	if c.isClosed() {
		return ErrClosed
	}
	c.authMu.Lock()
	defer c.authMu.Unlock()
	var t authproto.Tokens
	err := c.api.call(ctx, http.MethodPost, "/v1/auth/login", nil, "", c.opts.RequestTimeout,
		authproto.LoginRequest{Login: login, Password: password, DeviceID: c.opts.DeviceID, DeviceName: c.opts.DeviceName}, &t)
	if err != nil {
		return fmt.Errorf("clientsdk: login: %w", err)
	}
	if t.AccessToken == "" || t.RefreshToken == "" || t.User.ID == "" {
		return fmt.Errorf("clientsdk: login: the server's answer lacks tokens or user")
	}
	err = c.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if prev := string(meta.Get(keyUserID)); prev != "" && prev != t.User.ID {
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
		return c.putTokens(tx, t)
	})
	if err != nil {
		return fmt.Errorf("clientsdk: login: %w", err)
	}
	c.setLastErr("")
	c.log.Info("signed in", "user_id", t.User.ID)
	c.poke(c.loggedIn)
	return nil
}

func (c *Client) putTokens(tx *bbolt.Tx, t authproto.Tokens) error {
	life := time.Duration(t.ExpiresIn) * time.Second
	at := c.opts.Now().Add(life - min(30*time.Second, life/4))
	meta := tx.Bucket(bucketMeta)
	for k, v := range map[string][]byte{
		string(keyAccess): []byte(t.AccessToken), string(keyAccessUntil): u64(uint64(at.UnixMilli())),
		string(keyRefresh): []byte(t.RefreshToken), string(keyUserID): []byte(t.User.ID), string(keyRole): []byte(t.User.Role),
	} {
		if err := meta.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return meta.Delete(keyStopped)
}

func (c *Client) session() (session, error) {
	var s session
	err := c.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		s = session{
			access:    string(meta.Get(keyAccess)),
			refresh:   string(meta.Get(keyRefresh)),
			refreshAt: time.UnixMilli(int64(getU64(meta, keyAccessUntil))),
			userID:    string(meta.Get(keyUserID)),
		}
		switch string(meta.Get(keyStopped)) {
		case "":
		case ErrDeviceRevoked.Code:
			s.stopped = ErrDeviceRevoked
		default:
			s.stopped = ErrSignedOut
		}
		return nil
	})
	return s, err
}

// accessToken returns a token to send, renewing it first when it is about
// to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	s, err := c.session()
	switch {
	case err != nil:
		return "", err
	case s.stopped != nil:
		return "", s.stopped
	case s.refresh == "":
		return "", ErrSignedOut
	case s.access != "" && c.opts.Now().Before(s.refreshAt):
		return s.access, nil
	}
	return c.refresh(ctx, s.access)
}

// refresh trades the refresh token for new tokens, unless another caller
// already replaced stale meanwhile. Refreshes are serialized: presenting a
// rotated refresh token twice would revoke the whole session.
func (c *Client) refresh(ctx context.Context, stale string) (string, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	s, err := c.session()
	switch {
	case err != nil:
		return "", err
	case s.stopped != nil:
		return "", s.stopped
	case s.refresh == "":
		return "", ErrSignedOut
	case s.access != "" && s.access != stale && c.opts.Now().Before(s.refreshAt):
		return s.access, nil
	}
	var t authproto.Tokens
	err = c.api.call(ctx, http.MethodPost, "/v1/auth/refresh", nil, "", c.opts.RequestTimeout, authproto.RefreshRequest{RefreshToken: s.refresh}, &t)
	if err != nil {
		return "", c.authFailed(fmt.Errorf("refresh: %w", err))
	}
	if t.AccessToken == "" || t.RefreshToken == "" {
		return "", fmt.Errorf("refresh: the server's answer lacks tokens")
	}
	if err := c.db.Update(func(tx *bbolt.Tx) error { return c.putTokens(tx, t) }); err != nil {
		return "", err
	}
	c.log.Debug("access token renewed")
	return t.AccessToken, nil
}

// authFailed stops syncing when the server says the device or the session
// is gone for good, and passes any other error through.
func (c *Client) authFailed(err error) error {
	var reason *fieldsync.Error
	switch code(err) {
	case fieldsync.EDeviceRevoked:
		reason = ErrDeviceRevoked
	case fieldsync.ERefreshReused, fieldsync.ERefreshInvalid:
		reason = ErrSignedOut
	default:
		return err
	}
	c.log.Warn("syncing stopped", "reason", code(err))
	if uerr := c.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		for _, k := range [][]byte{keyAccess, keyAccessUntil, keyRefresh} {
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		return meta.Put(keyStopped, []byte(reason.Code))
	}); uerr != nil {
		return uerr
	}
	return reason
}

// authed sends a request with the access token, renewing it and retrying
// once when the server calls it invalid.
func (c *Client) authed(ctx context.Context, method, path string, q url.Values, timeout time.Duration, in, out any) error {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return err // refresh has dealt with a session the server ended
	}
	err = c.api.call(ctx, method, path, q, tok, timeout, in, out)
	if code(err) == fieldsync.ETokenInvalid {
		if tok, err = c.refresh(ctx, tok); err != nil {
			return err
		}
		err = c.api.call(ctx, method, path, q, tok, timeout, in, out)
	}
	return c.authFailed(err)
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
