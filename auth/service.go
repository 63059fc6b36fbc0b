package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth/authproto"
)

// Store is what the auth service needs of persistence. Each method is one
// transaction; the error codes are those documented on store/bolt.DB.
type Store interface {
	CreateUser(ctx context.Context, u fieldsync.User) error
	User(ctx context.Context, id string) (*fieldsync.User, error)
	UserByLogin(ctx context.Context, login string) (*fieldsync.User, error)
	StartSession(ctx context.Context, dev fieldsync.Device, key *fieldsync.DeviceKey, presented string, fresh fieldsync.Install, fam fieldsync.TokenFamily, tok fieldsync.RefreshToken) (*fieldsync.Install, error)
	RotateRefresh(ctx context.Context, oldHash string, next fieldsync.RefreshToken) (*fieldsync.RefreshToken, error)
	EndFamily(ctx context.Context, hash string, now time.Time) error
	AccountStore
}

// Service signs users in and keeps their sessions.
type Service struct {
	store    Store
	issuer   *Issuer
	throttle *Throttle
	argon    Argon2Params
	now      func() time.Time
	// Each argon2id check takes Memory KiB: bound how many run at once so
	// a burst of logins cannot exhaust the server's memory.
	hashing chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// NewService returns a service; throttle may be nil to use NewThrottle(),
// and issuer may be nil for a service that only manages users.
func NewService(store Store, issuer *Issuer, throttle *Throttle) *Service {
	if throttle == nil {
		throttle = NewThrottle()
	}
	now := time.Now
	if issuer != nil {
		now = issuer.Now
	}
	return &Service{
		store: store, issuer: issuer, throttle: throttle, argon: DefaultArgon2,
		now: now, hashing: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
}

// Credentials is a login attempt.
type Credentials struct {
	Login      string
	Password   string
	DeviceID   string
	InstallID  string // the install the database signing in got at its first login; "" for a fresh one
	DeviceName string
	// DeviceKey is the device's Ed25519 public key (fieldsync.ParseDeviceKey);
	// "" keeps the keys the device has.
	DeviceKey  string
	ClientAddr string // for throttling; never logged with the password
}

// CreateUser hashes the password and stores a new user. EInvalid for bad
// fields, EConflict for a taken login.
func (s *Service) CreateUser(ctx context.Context, login, name, password string, role fieldsync.Role) (*fieldsync.User, error) {
	if err := fieldsync.ValidateNewUser(login, name, password, role); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	u := fieldsync.User{ID: newID(), Login: fieldsync.NormalizeLogin(login), Name: strings.TrimSpace(name), Role: role, PasswordHash: hash, CreatedAt: s.now().UTC()}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Login checks the credentials, registers the user's device with its
// signing key (see fieldsync.Device.PresentKey) and starts a session on an
// install: the one the credentials name if it is this device's, else a new
// one (see fieldsync.Install), and answers the install's slip prefix.
// Failures: EInvalid (missing fields),
// EThrottled (with RetryAfter), EBadCredentials, EAccountDisabled (after a
// right password only), EDeviceRevoked, EDeviceKeyRetired.
func (s *Service) Login(ctx context.Context, c Credentials) (*authproto.Tokens, error) {
	login := fieldsync.NormalizeLogin(c.Login)
	if login == "" || c.Password == "" {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "login and password are required")
	}
	if len(login) > fieldsync.MaxLoginLen || len(c.Password) > fieldsync.MaxPasswordLen {
		return nil, fieldsync.Errorf(fieldsync.EBadCredentials, "wrong login or password")
	}
	if err := fieldsync.ValidateDeviceID(c.DeviceID); err != nil {
		return nil, err
	}
	if len(c.InstallID) > fieldsync.MaxDeviceIDLen {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "install_id is longer than %d bytes", fieldsync.MaxDeviceIDLen)
	}
	if err := fieldsync.CheckText("device_name", c.DeviceName, fieldsync.MaxNameLen); err != nil {
		return nil, err
	}
	var key *fieldsync.DeviceKey
	if c.DeviceKey != "" {
		var err error
		if key, err = fieldsync.ParseDeviceKey(c.DeviceKey, s.now().UTC()); err != nil {
			return nil, err
		}
	}
	user, err := s.verify(ctx, login, c.Password, c.ClientAddr)
	if err != nil {
		return nil, err
	}

	now := s.now().UTC()
	if key != nil {
		// At the second, as the server's clock reads (server.Deps.Now):
		// a signature the server receives in the login's second is the key's.
		key.AddedAt = now.Truncate(time.Second)
	}
	refresh, tok := s.newRefresh(now)
	fam := fieldsync.TokenFamily{ID: newID(), UserID: user.ID, DeviceID: c.DeviceID, CreatedAt: now}
	tok.Family, tok.UserID, tok.DeviceID = fam.ID, user.ID, c.DeviceID
	dev := fieldsync.Device{ID: c.DeviceID, UserID: user.ID, Name: c.DeviceName, CreatedAt: now, LastSeen: now}
	fresh := fieldsync.Install{ID: newID(), UserID: user.ID, DeviceID: c.DeviceID, CreatedAt: now}
	ins, err := s.store.StartSession(ctx, dev, key, c.InstallID, fresh, fam, tok)
	if err != nil {
		return nil, err
	}
	t, err := s.session(user, c.DeviceID, ins.ID, fam.ID, refresh)
	if err != nil {
		return nil, err
	}
	t.SlipPrefix = ins.SlipPrefix
	return t, nil
}

// SignIn checks a login and password as Login does (the same throttle
// and failures) without starting a device session, for the staff's
// browser sessions, which the server keeps itself.
func (s *Service) SignIn(ctx context.Context, login, password, clientAddr string) (*fieldsync.User, error) {
	login = fieldsync.NormalizeLogin(login)
	if login == "" || password == "" {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "login and password are required")
	}
	if len(login) > fieldsync.MaxLoginLen || len(password) > fieldsync.MaxPasswordLen {
		return nil, fieldsync.Errorf(fieldsync.EBadCredentials, "wrong login or password")
	}
	return s.verify(ctx, login, password, clientAddr)
}

// verify checks a normalized login's password under the throttle and
// refuses a disabled account (after the right password only).
func (s *Service) verify(ctx context.Context, login, password, clientAddr string) (*fieldsync.User, error) {
	if wait := s.throttle.Wait(login, clientAddr, s.now()); wait > 0 {
		return nil, throttled(wait)
	}
	user, err := s.store.UserByLogin(ctx, login)
	if err != nil && fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		return nil, err
	}
	ok, err := s.check(ctx, user, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.throttle.Fail(login, clientAddr, s.now())
		return nil, fieldsync.Errorf(fieldsync.EBadCredentials, "wrong login or password")
	}
	s.throttle.Succeed(login)
	if err := usable(user); err != nil {
		return nil, err
	}
	return user, nil
}

// Refresh rotates a refresh token and issues a new access token.
// Failures: ERefreshInvalid, ERefreshReused (family now revoked),
// EDeviceRevoked, EAccountDisabled.
func (s *Service) Refresh(ctx context.Context, refresh string) (*authproto.Tokens, error) {
	if refresh == "" || len(refresh) > 256 {
		return nil, fieldsync.Errorf(fieldsync.ERefreshInvalid, "refresh token is unknown or expired")
	}
	now := s.now().UTC()
	next, tok := s.newRefresh(now)
	stored, err := s.store.RotateRefresh(ctx, hashToken(refresh), tok)
	if err != nil {
		return nil, err
	}
	user, err := s.store.User(ctx, stored.UserID)
	if err != nil {
		return nil, err
	}
	if err := usable(user); err != nil {
		return nil, err
	}
	return s.session(user, stored.DeviceID, stored.InstallID, stored.Family, next)
}

// Logout ends the session family of the refresh token. It succeeds for
// unknown tokens too, so that a retried logout is harmless.
func (s *Service) Logout(ctx context.Context, refresh string) error {
	if refresh == "" || len(refresh) > 256 {
		return nil
	}
	return s.store.EndFamily(ctx, hashToken(refresh), s.now().UTC())
}

func (s *Service) session(user *fieldsync.User, device, install, family, refresh string) (*authproto.Tokens, error) {
	access, err := s.issuer.Issue(user, device, install, family)
	if err != nil {
		return nil, err
	}
	return &authproto.Tokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: int(s.issuer.TTL / time.Second), InstallID: install, User: authproto.User{ID: user.ID, Role: user.Role}}, nil
}

func (s *Service) newRefresh(now time.Time) (string, fieldsync.RefreshToken) {
	b := make([]byte, 32)
	rand.Read(b)
	raw := "fsr_" + base64.RawURLEncoding.EncodeToString(b)
	return raw, fieldsync.RefreshToken{Hash: hashToken(raw), CreatedAt: now, ExpiresAt: now.Add(RefreshTTL)}
}

// hashToken is the stored form of a refresh token. The token carries 256
// random bits, so a plain SHA-256 is as strong as a password hash here.
func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// check verifies password against user's hash. For an unknown user it
// hashes anyway, so response time does not tell which logins exist.
func (s *Service) check(ctx context.Context, user *fieldsync.User, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashing }()
	if user == nil {
		s.dummyOnce.Do(func() { s.dummy, _ = HashPassword("fieldsync-dummy-password", s.argon) })
		CheckPassword(s.dummy, password)
		return false, nil
	}
	return CheckPassword(user.PasswordHash, password)
}

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return HashPassword(password, s.argon)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func throttled(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &fieldsync.Error{Code: fieldsync.EThrottled, Detail: "too many failed logins; try again later", RetryAfter: secs}
}

// newID returns a UUIDv7: time-ordered, so bbolt keys stay in creation order.
func newID() string { return uuid.Must(uuid.NewV7()).String() }
