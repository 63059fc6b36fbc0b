package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/auth/authproto"
)

// authenticate is auth.Authenticate over the fixture's real store.
func (fx *serviceFixture) authenticate(access string) (*auth.Principal, error) {
	return auth.Authenticate(context.Background(), fx.is, fx.db, access)
}

func (fx *serviceFixture) admitted(t *testing.T, what string, s *authproto.Tokens) *auth.Principal {
	t.Helper()
	p, err := fx.authenticate(s.AccessToken)
	if err != nil {
		t.Fatalf("%s: the access token is refused: %v", what, err)
	}
	return p
}

// asAdmin is a context whose actor is an admin other than the users seeded.
func asAdmin() context.Context {
	return fieldsync.WithActor(context.Background(), fieldsync.Actor{UserID: "u-root", DeviceID: "console"})
}

func TestAccessTokenOfEndedSignInIsRefusedAtOnce(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		end  func(t *testing.T, fx *serviceFixture, s *authproto.Tokens)
	}{
		{"after logout", func(t *testing.T, fx *serviceFixture, s *authproto.Tokens) {
			if err := fx.svc.Logout(ctx, s.RefreshToken); err != nil {
				t.Fatal(err)
			}
		}},
		{"after its refresh token was reused", func(t *testing.T, fx *serviceFixture, s *authproto.Tokens) {
			fx.refresh(t, s.RefreshToken)
			_, err := fx.svc.Refresh(ctx, s.RefreshToken)
			wantCode(t, err, fieldsync.ERefreshReused)
			if msg := err.Error(); !strings.Contains(msg, "this sign-in on device tab-1 was ended") || strings.Contains(msg, "every session") {
				t.Errorf("the reuse error does not say what was revoked: %q", msg)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newServiceFixture(t)
			fx.seedUser(t, "alice", fieldsync.RoleTechnician)
			s := fx.login(t, fx.creds("alice", "tab-1"))
			other := fx.login(t, fx.creds("alice", "tab-2"))
			fx.admitted(t, "before", s)
			tt.end(t, fx, s)
			_, err := fx.authenticate(s.AccessToken) // well inside its 15 minutes
			wantCode(t, err, fieldsync.ESessionEnded)
			fx.admitted(t, "the user's sign-in on another device", other)
		})
	}
}

func TestDisableUser(t *testing.T) {
	ctx := context.Background()
	fx := newServiceFixture(t)
	alice := fx.seedUser(t, "alice", fieldsync.RoleTechnician)
	fx.seedUser(t, "bob", fieldsync.RoleTechnician)
	tab1 := fx.login(t, fx.creds("alice", "tab-1"))
	tab2 := fx.login(t, fx.creds("alice", "tab-2"))
	bob := fx.login(t, fx.creds("bob", "tab-3"))

	u, err := fx.svc.DisableUser(asAdmin(), alice.ID)
	if err != nil {
		t.Fatalf("DisableUser: %v", err)
	}
	if !u.Disabled() || u.PasswordHash != "" {
		t.Errorf("disabled user = %+v", u)
	}

	t.Run("every request of theirs is refused", func(t *testing.T) {
		for _, s := range []*authproto.Tokens{tab1, tab2} {
			_, err := fx.authenticate(s.AccessToken)
			wantCode(t, err, fieldsync.EAccountDisabled)
		}
	})
	t.Run("refresh is refused on every device", func(t *testing.T) {
		for _, s := range []*authproto.Tokens{tab1, tab2} {
			if _, err := fx.svc.Refresh(ctx, s.RefreshToken); err == nil {
				t.Error("a disabled user's refresh token was accepted")
			}
		}
	})
	t.Run("login with the right password is refused as disabled", func(t *testing.T) {
		_, err := fx.svc.Login(ctx, fx.creds("alice", "tab-1"))
		wantCode(t, err, fieldsync.EAccountDisabled)
	})
	t.Run("a wrong password tells nothing of the disabling", func(t *testing.T) {
		c := fx.creds("alice", "tab-1")
		c.Password = "wrong password"
		_, err := fx.svc.Login(ctx, c)
		wantCode(t, err, fieldsync.EBadCredentials)
	})
	t.Run("other users go on", func(t *testing.T) {
		fx.admitted(t, "bob", bob)
		fx.refresh(t, bob.RefreshToken)
	})
	t.Run("the devices stay registered and unrevoked", func(t *testing.T) {
		for _, id := range []string{"tab-1", "tab-2"} {
			if d, err := fx.db.Device(ctx, alice.ID, id); err != nil || d.Revoked() {
				t.Errorf("device %s = %+v, %v", id, d, err)
			}
		}
	})
	t.Run("an admin may not disable themselves", func(t *testing.T) {
		_, err := fx.svc.DisableUser(fieldsync.WithActor(ctx, fieldsync.Actor{UserID: "u-bob"}), "u-bob")
		wantCode(t, err, fieldsync.EConflict)
	})
	t.Run("an unknown user is not found", func(t *testing.T) {
		_, err := fx.svc.DisableUser(asAdmin(), "u-nobody")
		wantCode(t, err, fieldsync.ENotFound)
	})
	t.Run("enabled again, the user signs in on the same device; old sessions stay ended", func(t *testing.T) {
		if u, err := fx.svc.EnableUser(asAdmin(), alice.ID); err != nil || u.Disabled() {
			t.Fatalf("EnableUser = %+v, %v", u, err)
		}
		_, err := fx.svc.Refresh(ctx, tab1.RefreshToken)
		wantCode(t, err, fieldsync.ERefreshInvalid)
		fx.admitted(t, "a new sign-in", fx.login(t, fx.creds("alice", "tab-1")))
	})
	t.Run("both changes are audited as the admin's", func(t *testing.T) {
		entries, _, err := fx.db.Audit(ctx, fieldsync.AuditFilter{Entity: fieldsync.EntityUser, ID: alice.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			if e.UserID == "u-root" {
				actions = append(actions, e.Action)
			}
		}
		if got := strings.Join(actions, ","); got != "user.disable,user.enable" {
			t.Errorf("audited actions by the admin = %q", got)
		}
		if c := entries[len(entries)-2].Changes["sessions_ended"]; string(c.To) != `"2"` {
			t.Errorf("disable audited %s sessions ended, want 2", c.To)
		}
	})
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	const next = "a brand new passphrase"
	fx := newServiceFixture(t)
	fx.seedUser(t, "alice", fieldsync.RoleTechnician)
	here := fx.login(t, fx.creds("alice", "tab-1"))
	there := fx.login(t, fx.creds("alice", "tab-2"))
	p := fx.admitted(t, "tab-1", here)

	refusals := []struct {
		name, current, next, code string
	}{
		{"a wrong current password is bad credentials", "not my password", next, fieldsync.EBadCredentials},
		{"no current password is invalid", "", next, fieldsync.EInvalid},
		{"a short new password is invalid", fx.passwd, "short", fieldsync.EInvalid},
		{"the same password again is invalid", fx.passwd, fx.passwd, fieldsync.EInvalid},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			err := fx.svc.ChangePassword(ctx, p, tt.current, tt.next, "203.0.113.7")
			wantCode(t, err, tt.code)
			fx.admitted(t, "the other sign-in after a refused change", there)
		})
	}

	if err := fx.svc.ChangePassword(ctx, p, fx.passwd, next, "203.0.113.7"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	t.Run("the other sign-in ends at once", func(t *testing.T) {
		_, err := fx.authenticate(there.AccessToken)
		wantCode(t, err, fieldsync.ESessionEnded)
		_, err = fx.svc.Refresh(ctx, there.RefreshToken)
		wantCode(t, err, fieldsync.ERefreshInvalid)
	})
	t.Run("the sign-in that changed it goes on", func(t *testing.T) {
		fx.admitted(t, "tab-1", here)
		fx.admitted(t, "tab-1 refreshed", fx.refresh(t, here.RefreshToken))
	})
	t.Run("the old password no longer signs in, the new one does", func(t *testing.T) {
		_, err := fx.svc.Login(ctx, fx.creds("alice", "tab-3"))
		wantCode(t, err, fieldsync.EBadCredentials)
		c := fx.creds("alice", "tab-3")
		c.Password = next
		fx.login(t, c)
	})
}

func TestResetPassword(t *testing.T) {
	ctx := context.Background()
	fx := newServiceFixture(t)
	alice := fx.seedUser(t, "alice", fieldsync.RoleTechnician)
	sessions := []*authproto.Tokens{fx.login(t, fx.creds("alice", "tab-1")), fx.login(t, fx.creds("alice", "tab-2"))}

	_, err := fx.svc.ResetPassword(asAdmin(), alice.ID, "short")
	wantCode(t, err, fieldsync.EInvalid)
	_, err = fx.svc.ResetPassword(asAdmin(), "u-nobody", "long enough password")
	wantCode(t, err, fieldsync.ENotFound)
	fx.admitted(t, "after refused resets", sessions[0])

	if _, err := fx.svc.ResetPassword(asAdmin(), alice.ID, "set by the admin"); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	for _, s := range sessions {
		_, err := fx.authenticate(s.AccessToken)
		wantCode(t, err, fieldsync.ESessionEnded)
	}
	c := fx.creds("alice", "tab-1")
	c.Password = "set by the admin"
	fx.login(t, c)
	entries, _, err := fx.db.Audit(ctx, fieldsync.AuditFilter{Entity: fieldsync.EntityUser, ID: alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Action != "user.password_reset" || last.UserID != "u-root" || strings.Contains(string(last.Changes["password"].To), "argon2") {
		t.Errorf("audit entry = %+v", last)
	}
}
