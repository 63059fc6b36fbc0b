package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
)

// Browser sessions of staff (admins and dispatchers), for the dispatcher's
// pages. They are kept in memory only: a session lives at most
// SessionLifetime, so a restart costs staff one sign-in and no record is
// lost; the server is one process on one bbolt file, so no other process
// needs them. The account itself is read from the store on every request.
const (
	SessionCookie   = "fieldsync_session"
	SessionLifetime = 12 * time.Hour
	SessionIdle     = 30 * time.Minute
	// MaxStreamsPerUser bounds the open event streams of one user.
	MaxStreamsPerUser = 4
	// CSRFHeader carries the session's CSRF token; a form may send it as
	// the csrf_token field instead.
	CSRFHeader = "X-CSRF-Token"
	// webDevice is the Device of a browser session's principal.
	webDevice = "web"
)

type browserSession struct {
	userID  string
	csrf    string
	pwHash  [32]byte // of the password hash at sign-in: a new password ends the session
	started time.Time
	seen    time.Time
	ended   chan struct{} // closed when the session ends, so its streams close
}

type sessionTable struct {
	mu      sync.Mutex
	byID    map[string]*browserSession // by the SHA-256 of the cookie value
	streams map[string]int             // open event streams by user id
	closing chan struct{}              // closed at shutdown
	once    sync.Once
}

func newSessionTable() *sessionTable {
	return &sessionTable{byID: map[string]*browserSession{}, streams: map[string]int{}, closing: make(chan struct{})}
}

func sessionKey(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return string(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CloseStreams ends every event stream, for http.Server.RegisterOnShutdown:
// Shutdown waits for requests in flight and a stream never ends by itself.
func (s *Server) CloseStreams() {
	s.sessions.once.Do(func() { close(s.sessions.closing) })
}

// secure reports whether the client reached us over TLS: directly, or
// through a trusted proxy that says so.
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range s.deps.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// sameOrigin refuses a request another site made the browser send: its
// Origin, when present, must be this server's, and Sec-Fetch-Site, when
// present, must say same-origin (or none: the user's own navigation).
func (s *Server) sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fieldsync.Errorf(fieldsync.ECSRFFailed, "a request from another site (Sec-Fetch-Site: %s) may not change anything", site)
	}
	o := r.Header.Get(echo.HeaderOrigin)
	if o == "" {
		return nil
	}
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	u, err := url.Parse(o)
	if err != nil || !strings.EqualFold(u.Scheme, scheme) || !strings.EqualFold(u.Host, r.Host) {
		return fieldsync.Errorf(fieldsync.ECSRFFailed, "a request from another origin may not change anything")
	}
	return nil
}

func (s *Server) setCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c.Request()),
	})
}

// sessionInfo is the answer of login and GET /dispatch/session.
type sessionInfo struct {
	UserID    string         `json:"user_id"`
	Login     string         `json:"login"`
	Name      string         `json:"name,omitempty"`
	Role      fieldsync.Role `json:"role"`
	CSRFToken string         `json:"csrf_token"`
	ExpiresAt time.Time      `json:"expires_at"`
}

func info(u *fieldsync.User, bs *browserSession) sessionInfo {
	return sessionInfo{UserID: u.ID, Login: u.Login, Name: u.Name, Role: u.Role, CSRFToken: bs.csrf, ExpiresAt: bs.started.Add(SessionLifetime)}
}

// handleWebLogin signs staff in from a form (login, password) with the
// checks and throttle of /v1/auth/login, and answers the session cookie.
func (s *Server) handleWebLogin() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.sameOrigin(c.Request()); err != nil {
			return err
		}
		if ct := c.Request().Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationForm) {
			return fieldsync.Errorf(fieldsync.EUnsupported, "send the login form as %s", echo.MIMEApplicationForm)
		}
		u, err := s.deps.Auth.SignIn(c.Request().Context(), c.FormValue("login"), c.FormValue("password"), c.RealIP())
		if err != nil {
			return err
		}
		if u.Role != roleAdmin && u.Role != roleDispatcher {
			return fieldsync.Errorf(fieldsync.EForbidden, "only admins and dispatchers sign in to the dispatcher's pages")
		}
		raw := randomToken()
		now := s.deps.Now()
		bs := &browserSession{userID: u.ID, csrf: randomToken(), pwHash: sha256.Sum256([]byte(u.PasswordHash)), started: now, seen: now, ended: make(chan struct{})}
		t := s.sessions
		t.mu.Lock()
		for k, old := range t.byID { // forget the expired ones
			if now.Sub(old.started) > SessionLifetime || now.Sub(old.seen) > SessionIdle {
				close(old.ended)
				delete(t.byID, k)
			}
		}
		t.byID[sessionKey(raw)] = bs
		t.mu.Unlock()
		s.setCookie(c, raw, int(SessionLifetime/time.Second))
		noStore(c)
		return c.JSON(http.StatusOK, info(u, bs))
	}
}

const webSessionKey = "fieldsync.web_session"

// webSession admits requests whose session cookie names a live session
// of a staff account that is not disabled and whose password has not
// changed since, sets the Principal handlers use, and checks the CSRF
// token and origin of every state-changing request.
func (s *Server) webSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(SessionCookie)
		if err != nil || ck.Value == "" {
			return fieldsync.Errorf(fieldsync.EUnauthorized, "sign in at /dispatch/login first")
		}
		key := sessionKey(ck.Value)
		now := s.deps.Now()
		t := s.sessions
		t.mu.Lock()
		bs := t.byID[key]
		if bs != nil && (now.Sub(bs.started) > SessionLifetime || now.Sub(bs.seen) > SessionIdle) {
			close(bs.ended)
			delete(t.byID, key)
			bs = nil
		}
		t.mu.Unlock()
		if bs == nil {
			return fieldsync.Errorf(fieldsync.ESessionEnded, "this browser session ended: sign in again")
		}
		u, err := s.deps.Store.User(c.Request().Context(), bs.userID)
		if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
			return fieldsync.Errorf(fieldsync.ESessionEnded, "the account of this session no longer exists")
		}
		if err != nil {
			return err
		}
		if u.Disabled() {
			return fieldsync.Errorf(fieldsync.EAccountDisabled, "the account %s was disabled by an administrator", u.Login)
		}
		if sha256.Sum256([]byte(u.PasswordHash)) != bs.pwHash {
			s.endSession(key)
			return fieldsync.Errorf(fieldsync.ESessionEnded, "the password changed since this session began: sign in again")
		}
		if u.Role != roleAdmin && u.Role != roleDispatcher {
			return fieldsync.Errorf(fieldsync.EForbidden, "role %s may not use the dispatcher's pages", u.Role)
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if err := s.sameOrigin(c.Request()); err != nil {
				return err
			}
			got := c.Request().Header.Get(CSRFHeader)
			if got == "" && strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
				got = c.FormValue("csrf_token")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(bs.csrf)) != 1 {
				return fieldsync.Errorf(fieldsync.ECSRFFailed, "the session's CSRF token is missing or wrong (send it as %s or the csrf_token field)", CSRFHeader)
			}
		}
		t.mu.Lock()
		bs.seen = now
		t.mu.Unlock()
		c.Set(principalKey, &auth.Principal{UserID: u.ID, Role: u.Role, Device: webDevice})
		c.Set(webSessionKey, key)
		ctx := fieldsync.WithActor(c.Request().Context(), fieldsync.Actor{UserID: u.ID, DeviceID: webDevice})
		c.SetRequest(c.Request().WithContext(ctx))
		c.Set("fieldsync.web_user", u)
		return next(c)
	}
}

func (s *Server) endSession(key string) {
	t := s.sessions
	t.mu.Lock()
	defer t.mu.Unlock()
	if bs := t.byID[key]; bs != nil {
		close(bs.ended)
		delete(t.byID, key)
	}
}

func (s *Server) handleWebLogout() echo.HandlerFunc {
	return func(c echo.Context) error {
		key, _ := c.Get(webSessionKey).(string)
		s.endSession(key)
		s.setCookie(c, "", -1)
		return c.NoContent(http.StatusNoContent)
	}
}

func (s *Server) handleWebSession() echo.HandlerFunc {
	return func(c echo.Context) error {
		u, _ := c.Get("fieldsync.web_user").(*fieldsync.User)
		bs := s.webSessionOf(c)
		if bs == nil || u == nil {
			return fieldsync.Errorf(fieldsync.ESessionEnded, "this browser session ended: sign in again")
		}
		noStore(c)
		return c.JSON(http.StatusOK, info(u, bs))
	}
}

// webSessionOf returns the live session of c (set by webSession), or nil.
func (s *Server) webSessionOf(c echo.Context) *browserSession {
	key, _ := c.Get(webSessionKey).(string)
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	return s.sessions.byID[key]
}
