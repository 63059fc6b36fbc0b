package auth_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/auth/authproto"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// serviceFixture is a Service over a real bbolt file with a clock the test
// moves by assigning *clock.
type serviceFixture struct {
	svc    *auth.Service
	db     *bolt.DB
	is     *auth.Issuer
	clock  *time.Time
	passwd string
}

var serviceEpoch = time.Date(2026, 4, 1, 7, 30, 0, 0, time.UTC)

func newServiceFixture(t *testing.T) *serviceFixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "fieldsync.db"))
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	clock := serviceEpoch
	is := testIssuer(t, serviceEpoch, testKey(t, serviceEpoch.Add(-time.Hour)))
	// The service copies is.Now when it is built: read the clock through
	// the pointer so that moving it later moves the service's time too.
	is.Now = func() time.Time { return clock }
	return &serviceFixture{svc: auth.NewService(db, is, nil), db: db, is: is, clock: &clock, passwd: "s3cret-passw0rd"}
}

// seedUser stores a user directly, with a cheap hash: the hash carries its
// own parameters, so logins check it fast while CreateUser's own hashing
// (DefaultArgon2) is tested separately.
func (fx *serviceFixture) seedUser(t *testing.T, login string, role fieldsync.Role) *fieldsync.User {
	t.Helper()
	u := fieldsync.User{ID: "u-" + login, Login: login, Role: role, PasswordHash: hashOf(t, fx.passwd), CreatedAt: *fx.clock}
	if err := fx.db.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", login, err)
	}
	return &u
}

func (fx *serviceFixture) creds(login, device string) auth.Credentials {
	return auth.Credentials{Login: login, Password: fx.passwd, DeviceID: device, DeviceName: "Tablet " + device, ClientAddr: "203.0.113.7"}
}

func (fx *serviceFixture) login(t *testing.T, c auth.Credentials) *authproto.Tokens {
	t.Helper()
	s, err := fx.svc.Login(context.Background(), c)
	if err != nil {
		t.Fatalf("Login(%s on %s): %v", c.Login, c.DeviceID, err)
	}
	return s
}

func (fx *serviceFixture) refresh(t *testing.T, token string) *authproto.Tokens {
	t.Helper()
	s, err := fx.svc.Refresh(context.Background(), token)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return s
}

// wantCode fails t unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := fieldsync.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func TestServiceCreateUserValidation(t *testing.T) {
	fx := newServiceFixture(t)
	const pw = "long enough"
	tests := []struct {
		name, login, userName, password string
		role                            fieldsync.Role
	}{
		{"an empty login is invalid", "", "", pw, fieldsync.RoleTechnician},
		{"a blank login is invalid", "   ", "", pw, fieldsync.RoleTechnician},
		{"a login with an inner space is invalid", "ali ce", "", pw, fieldsync.RoleTechnician},
		{"a login with a slash is invalid", "ali/ce", "", pw, fieldsync.RoleTechnician},
		{"a login longer than MaxLoginLen is invalid", strings.Repeat("a", fieldsync.MaxLoginLen+1), "", pw, fieldsync.RoleTechnician},
		{"a password shorter than MinPasswordLen is invalid", "alice", "", "short", fieldsync.RoleTechnician},
		{"an empty password is invalid", "alice", "", "", fieldsync.RoleTechnician},
		{"a password longer than MaxPasswordLen is invalid", "alice", "", strings.Repeat("p", fieldsync.MaxPasswordLen+1), fieldsync.RoleTechnician},
		{"an unknown role is invalid", "alice", "", pw, "root"},
		{"an empty role is invalid", "alice", "", pw, ""},
		{"a role in the wrong case is invalid", "alice", "", pw, "Admin"},
		{"a name longer than MaxNameLen is invalid", "alice", strings.Repeat("n", fieldsync.MaxNameLen+1), pw, fieldsync.RoleTechnician},
		{"a name that is not UTF-8 is invalid", "alice", "\xff\xfe", pw, fieldsync.RoleTechnician},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := fx.svc.CreateUser(context.Background(), tt.login, tt.userName, tt.password, tt.role)
			wantCode(t, err, fieldsync.EInvalid)
			if u != nil {
				t.Errorf("user returned with the error: %+v", u)
			}
		})
	}
	if users, err := fx.db.Users(context.Background(), ""); err != nil || len(users) != 0 {
		t.Errorf("store holds %d users (%v) after invalid creations, want 0", len(users), err)
	}
}

func TestServiceCreateUser(t *testing.T) {
	fx := newServiceFixture(t)
	ctx := context.Background()
	u, err := fx.svc.CreateUser(ctx, "  Alice.Smith@Example.com ", " Alice Smith ", "correct horse", fieldsync.RoleDispatcher)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	t.Run("the user is stored under the normalized login with a hashed password", func(t *testing.T) {
		if u.ID == "" || u.Login != "alice.smith@example.com" || u.Name != "Alice Smith" || u.Role != fieldsync.RoleDispatcher {
			t.Errorf("user = %+v", u)
		}
		if !u.CreatedAt.Equal(serviceEpoch) {
			t.Errorf("CreatedAt = %v, want the issuer's clock %v", u.CreatedAt, serviceEpoch)
		}
		stored, err := fx.db.UserByLogin(ctx, "alice.smith@example.com")
		if err != nil {
			t.Fatalf("UserByLogin: %v", err)
		}
		if stored.ID != u.ID || strings.Contains(stored.PasswordHash, "correct horse") {
			t.Errorf("stored = %+v", stored)
		}
		if ok, err := auth.CheckPassword(stored.PasswordHash, "correct horse"); !ok || err != nil {
			t.Errorf("CheckPassword(stored hash) = %v, %v", ok, err)
		}
	})
	for _, login := range []string{"alice.smith@example.com", "ALICE.SMITH@EXAMPLE.COM"} {
		t.Run("a taken login is a conflict, whatever its case/"+login, func(t *testing.T) {
			_, err := fx.svc.CreateUser(ctx, login, "", "another password", fieldsync.RoleTechnician)
			wantCode(t, err, fieldsync.EConflict)
		})
	}
}

func TestServiceLogin(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, fx *serviceFixture)
	}{
		{"the right password signs in and registers the device", func(t *testing.T, fx *serviceFixture) {
			alice := fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			s := fx.login(t, fx.creds("alice", "tab-1"))
			if s.User.ID != alice.ID || s.User.Role != fieldsync.RoleTechnician {
				t.Errorf("session user = %+v", s.User)
			}
			if s.ExpiresIn != int(auth.AccessTTL/time.Second) || !strings.HasPrefix(s.RefreshToken, "fsr_") {
				t.Errorf("expires_in %d, refresh token %q", s.ExpiresIn, s.RefreshToken)
			}
			c, err := fx.is.Verify(s.AccessToken)
			if err != nil {
				t.Fatalf("Verify(access token): %v", err)
			}
			if c.Subject != alice.ID || c.Device != "tab-1" || c.Role != fieldsync.RoleTechnician {
				t.Errorf("claims sub %q device %q role %q", c.Subject, c.Device, c.Role)
			}
			dev, err := fx.db.Device(ctx, alice.ID, "tab-1")
			if err != nil {
				t.Fatalf("Device: %v", err)
			}
			if dev.UserID != alice.ID || dev.Name != "Tablet tab-1" || dev.Revoked() || !dev.CreatedAt.Equal(serviceEpoch) {
				t.Errorf("device = %+v", dev)
			}
		}},
		{"the login is matched case-insensitively and trimmed", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			fx.login(t, fx.creds("  ALICE ", "tab-1"))
		}},
		{"signing in again on the same device keeps one device", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			fx.login(t, fx.creds("alice", "tab-1"))
			*fx.clock = serviceEpoch.Add(time.Hour)
			fx.login(t, fx.creds("alice", "tab-1"))
			devs, err := fx.db.Devices(ctx)
			if err != nil || len(devs) != 1 {
				t.Fatalf("devices = %+v, %v; want one", devs, err)
			}
			if !devs[0].CreatedAt.Equal(serviceEpoch) || !devs[0].LastSeen.Equal(serviceEpoch.Add(time.Hour)) {
				t.Errorf("device created %v, last seen %v", devs[0].CreatedAt, devs[0].LastSeen)
			}
		}},
		{"a wrong password is bad credentials", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			c := fx.creds("alice", "tab-1")
			c.Password = "wrong password"
			_, err := fx.svc.Login(ctx, c)
			wantCode(t, err, fieldsync.EBadCredentials)
			if _, err := fx.db.Device(ctx, "u-alice", "tab-1"); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
				t.Errorf("a failed login registered the device (err %v)", err)
			}
		}},
		{"an unknown login is bad credentials, like a wrong password", func(t *testing.T, fx *serviceFixture) {
			_, err := fx.svc.Login(ctx, fx.creds("nobody", "tab-1"))
			wantCode(t, err, fieldsync.EBadCredentials)
		}},
		{"a missing password is invalid", func(t *testing.T, fx *serviceFixture) {
			c := fx.creds("alice", "tab-1")
			c.Password = ""
			_, err := fx.svc.Login(ctx, c)
			wantCode(t, err, fieldsync.EInvalid)
		}},
		{"a missing device id is invalid", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			_, err := fx.svc.Login(ctx, fx.creds("alice", ""))
			wantCode(t, err, fieldsync.EInvalid)
		}},
		{"after 5 failures even the right password is throttled with RetryAfter", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			bad := fx.creds("alice", "tab-1")
			bad.Password = "wrong password"
			for i := range 5 {
				_, err := fx.svc.Login(ctx, bad)
				if fieldsync.ErrorCode(err) != fieldsync.EBadCredentials {
					t.Fatalf("failure %d: %v, want bad credentials", i+1, err)
				}
			}
			_, err := fx.svc.Login(ctx, fx.creds("alice", "tab-1"))
			wantCode(t, err, fieldsync.EThrottled)
			if e, ok := err.(*fieldsync.Error); !ok || e.RetryAfter <= 0 {
				t.Errorf("error %#v has no positive RetryAfter", err)
			}
			// The delay ends: the right password works again.
			*fx.clock = serviceEpoch.Add(time.Minute)
			fx.login(t, fx.creds("alice", "tab-1"))
		}},
		{"however long others guess, the right password gets in after a short delay", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			// Guesses from many addresses, each as soon as the login may
			// try again, so that no address lock stops them.
			bad := fx.creds("alice", "tab-1")
			bad.Password = "wrong password"
			for i := range 60 {
				bad.ClientAddr = fmt.Sprintf("198.51.100.%d", i%20)
				_, err := fx.svc.Login(ctx, bad)
				if e, ok := err.(*fieldsync.Error); ok && e.Code == fieldsync.EThrottled {
					*fx.clock = fx.clock.Add(time.Duration(e.RetryAfter) * time.Second)
					_, err = fx.svc.Login(ctx, bad)
				}
				wantCode(t, err, fieldsync.EBadCredentials)
			}
			_, err := fx.svc.Login(ctx, fx.creds("alice", "tab-1"))
			e, ok := err.(*fieldsync.Error)
			if !ok || e.Code != fieldsync.EThrottled || e.RetryAfter > 30 {
				t.Fatalf("the owner right after a guess: %v, want login_throttled with Retry-After at most 30 s", err)
			}
			*fx.clock = fx.clock.Add(time.Duration(e.RetryAfter) * time.Second)
			fx.login(t, fx.creds("alice", "tab-1"))
		}},
		{"a device id another user signed in with is another device", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			fx.seedUser(t, "bob", fieldsync.RoleCustomer)
			// Whoever signs in first with an id claims nothing of it.
			bob := fx.login(t, fx.creds("bob", "tab-1"))
			alice := fx.login(t, fx.creds("alice", "tab-1"))
			devs, err := fx.db.Devices(ctx)
			if err != nil || len(devs) != 2 {
				t.Fatalf("devices = %+v, %v; want one of each user", devs, err)
			}
			if alice.InstallID == bob.InstallID {
				t.Fatalf("two users' devices share install %s", alice.InstallID)
			}
			// Revoking needs the user, then ends that user's device only.
			_, err = fx.db.RevokeDevice(ctx, "", "tab-1", serviceEpoch)
			wantCode(t, err, fieldsync.EConflict)
			if _, err := fx.db.RevokeDevice(ctx, "u-bob", "tab-1", serviceEpoch); err != nil {
				t.Fatal(err)
			}
			_, err = fx.svc.Refresh(ctx, bob.RefreshToken)
			wantCode(t, err, fieldsync.EDeviceRevoked)
			_, err = fx.svc.Login(ctx, fx.creds("bob", "tab-1"))
			wantCode(t, err, fieldsync.EDeviceRevoked)
			fx.refresh(t, alice.RefreshToken)
			fx.login(t, fx.creds("alice", "tab-1"))
		}},
		{"a login names its install: the same again, or a new one", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			fx.seedUser(t, "bob", fieldsync.RoleTechnician)
			first := fx.login(t, fx.creds("alice", "tab-1"))
			if first.InstallID == "" {
				t.Fatal("a login answered no install")
			}
			again := fx.creds("alice", "tab-1")
			again.InstallID = first.InstallID
			if got := fx.login(t, again).InstallID; got != first.InstallID {
				t.Errorf("signing in again on the same database: install %s, want %s", got, first.InstallID)
			}
			if got := fx.login(t, fx.creds("alice", "tab-1")).InstallID; got == first.InstallID {
				t.Error("a fresh database got the old install")
			}
			for name, c := range map[string]auth.Credentials{"another user": fx.creds("bob", "tab-1"), "another device": fx.creds("alice", "tab-2"), "an unknown install": fx.creds("alice", "tab-1")} {
				c.InstallID = first.InstallID
				if name == "an unknown install" {
					c.InstallID = "no-such-install"
				}
				if got := fx.login(t, c).InstallID; got == first.InstallID || got == c.InstallID {
					t.Errorf("%s presenting the install: got %s", name, got)
				}
			}
			claims, err := fx.is.Verify(fx.refresh(t, first.RefreshToken).AccessToken)
			if err != nil || claims.Install != first.InstallID {
				t.Errorf("a refreshed token's install = %v, %v; want %s", claims, err, first.InstallID)
			}
		}},
		{"a revoked device refuses Login", func(t *testing.T, fx *serviceFixture) {
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			fx.login(t, fx.creds("alice", "tab-1"))
			if _, err := fx.db.RevokeDevice(ctx, "", "tab-1", serviceEpoch); err != nil {
				t.Fatal(err)
			}
			_, err := fx.svc.Login(ctx, fx.creds("alice", "tab-1"))
			wantCode(t, err, fieldsync.EDeviceRevoked)
			// Another device of the same user is unaffected.
			fx.login(t, fx.creds("alice", "tab-2"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newServiceFixture(t)) })
	}
}

func TestServiceRefreshAndLogout(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, fx *serviceFixture, first *authproto.Tokens)
	}{
		{"Refresh rotates the refresh token and issues a new access token", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			*fx.clock = serviceEpoch.Add(10 * time.Minute)
			next := fx.refresh(t, first.RefreshToken)
			if next.RefreshToken == first.RefreshToken || next.AccessToken == first.AccessToken {
				t.Fatal("Refresh returned the old tokens")
			}
			c, err := fx.is.Verify(next.AccessToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "u-alice" || c.Device != "tab-1" || !c.IssuedAt.Equal(*fx.clock) {
				t.Errorf("claims sub %q device %q iat %v", c.Subject, c.Device, c.IssuedAt)
			}
			fx.refresh(t, fx.refresh(t, next.RefreshToken).RefreshToken) // the chain goes on
		}},
		{"a reused refresh token revokes the family: the old is reused, the new invalid", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			next := fx.refresh(t, first.RefreshToken)
			_, err := fx.svc.Refresh(ctx, first.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshReused)
			_, err = fx.svc.Refresh(ctx, next.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshInvalid)
			_, err = fx.svc.Refresh(ctx, first.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshInvalid)
		}},
		{"reuse revokes only its own family", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			other := fx.login(t, fx.creds("alice", "tab-2"))
			fx.refresh(t, first.RefreshToken)
			_, err := fx.svc.Refresh(ctx, first.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshReused)
			fx.refresh(t, other.RefreshToken)
		}},
		{"of two concurrent refreshes of one token exactly one succeeds", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Go(func() { _, errs[i] = fx.svc.Refresh(ctx, first.RefreshToken) })
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch fieldsync.ErrorCode(err) {
				case "":
					ok++
				case fieldsync.ERefreshReused:
				default:
					t.Errorf("Refresh: %v", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d refreshes succeeded (errors %v), want 1", ok, errs)
			}
		}},
		{"Logout revokes the family and a second Logout is fine", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			next := fx.refresh(t, first.RefreshToken)
			if err := fx.svc.Logout(ctx, next.RefreshToken); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			_, err := fx.svc.Refresh(ctx, next.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshInvalid)
			_, err = fx.svc.Refresh(ctx, first.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshInvalid)
			for _, tok := range []string{next.RefreshToken, first.RefreshToken, "fsr_unknown", "", strings.Repeat("x", 300)} {
				if err := fx.svc.Logout(ctx, tok); err != nil {
					t.Errorf("Logout(%.10q) again: %v", tok, err)
				}
			}
		}},
		{"Logout leaves the user's other sessions alone", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			other := fx.login(t, fx.creds("alice", "tab-2"))
			if err := fx.svc.Logout(ctx, first.RefreshToken); err != nil {
				t.Fatal(err)
			}
			fx.refresh(t, other.RefreshToken)
		}},
		{"a revoked device refuses Refresh", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			if _, err := fx.db.RevokeDevice(ctx, "", "tab-1", serviceEpoch); err != nil {
				t.Fatal(err)
			}
			_, err := fx.svc.Refresh(ctx, first.RefreshToken)
			wantCode(t, err, fieldsync.EDeviceRevoked)
		}},
		{"a refresh token just before RefreshTTL still works", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			*fx.clock = serviceEpoch.Add(auth.RefreshTTL - time.Second)
			fx.refresh(t, first.RefreshToken)
		}},
		{"an expired refresh token is invalid", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			*fx.clock = serviceEpoch.Add(auth.RefreshTTL)
			_, err := fx.svc.Refresh(ctx, first.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshInvalid)
		}},
		{"a long expired refresh token is invalid", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			*fx.clock = serviceEpoch.Add(365 * 24 * time.Hour)
			_, err := fx.svc.Refresh(ctx, first.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshInvalid)
		}},
		{"unknown, empty and oversized refresh tokens are invalid", func(t *testing.T, fx *serviceFixture, first *authproto.Tokens) {
			for _, tok := range []string{"", "fsr_unknown", first.AccessToken, first.RefreshToken + "x", strings.Repeat("x", 257)} {
				_, err := fx.svc.Refresh(ctx, tok)
				wantCode(t, err, fieldsync.ERefreshInvalid)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newServiceFixture(t)
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			tt.run(t, fx, fx.login(t, fx.creds("alice", "tab-1")))
		})
	}
}
