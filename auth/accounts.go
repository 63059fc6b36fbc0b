package auth

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync"
)

// AccountStore is what the account operations need of persistence. Each
// method is one transaction that also writes the audit entry; the error
// codes are those documented on store/bolt.DB.
type AccountStore interface {
	// DisableUser marks the user disabled and ends every sign-in of theirs.
	DisableUser(ctx context.Context, id string, now time.Time) (*fieldsync.User, error)
	EnableUser(ctx context.Context, id string, now time.Time) (*fieldsync.User, error)
	// SetPassword stores hash and ends every sign-in of the user but the
	// family keep ("" ends them all); action names it in the audit trail.
	SetPassword(ctx context.Context, id, hash, keep, action string, now time.Time) (*fieldsync.User, error)
}

// usable refuses a disabled account.
func usable(u *fieldsync.User) error {
	if u.Disabled() {
		return fieldsync.Errorf(fieldsync.EAccountDisabled, "the account %s was disabled by an administrator", u.Login)
	}
	return nil
}

// DisableUser disables the account id: it is refused at login, at refresh
// and on every request, and its sign-ins on every device end. Its devices
// stay registered, so enabling the account lets it sign in on them again.
// ENotFound for an unknown user; EConflict for the acting user's own
// account, so that an admin cannot lock themselves out.
func (s *Service) DisableUser(ctx context.Context, id string) (*fieldsync.User, error) {
	if id == fieldsync.ActorFrom(ctx).UserID {
		return nil, fieldsync.Errorf(fieldsync.EConflict, "an admin may not disable their own account")
	}
	return s.store.DisableUser(ctx, id, s.now().UTC())
}

// EnableUser lifts DisableUser; the user signs in again. ENotFound for an
// unknown user.
func (s *Service) EnableUser(ctx context.Context, id string) (*fieldsync.User, error) {
	return s.store.EnableUser(ctx, id, s.now().UTC())
}

// ChangePassword sets the password of p's user, who proves the current
// one. Every other sign-in of the user ends; p's own goes on. Failures:
// EInvalid (new_password breaks the rules or equals the current one),
// EBadCredentials (current_password wrong; counted by the throttle as a
// failed login), EThrottled.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next, clientAddr string) error {
	if current == "" {
		return fieldsync.Errorf(fieldsync.EInvalid, "current_password is required")
	}
	if err := fieldsync.ValidatePassword("new_password", next); err != nil {
		return err
	}
	if next == current {
		return fieldsync.Errorf(fieldsync.EInvalid, "new_password must differ from current_password")
	}
	user, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return err
	}
	if wait := s.throttle.Wait(user.Login, clientAddr, s.now()); wait > 0 {
		return throttled(wait)
	}
	ok := false
	if len(current) <= fieldsync.MaxPasswordLen {
		if ok, err = s.check(ctx, user, current); err != nil {
			return err
		}
	}
	if !ok {
		s.throttle.Fail(user.Login, clientAddr, s.now())
		return fieldsync.Errorf(fieldsync.EBadCredentials, "current_password is wrong")
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	_, err = s.store.SetPassword(ctx, user.ID, hash, p.Family, "user.password_change", s.now().UTC())
	return err
}

// ResetPassword sets the password of user id, as an admin does for someone
// who forgot theirs, and ends every sign-in of that user. EInvalid for a
// password that breaks the rules of CreateUser, ENotFound for an unknown
// user.
func (s *Service) ResetPassword(ctx context.Context, id, password string) (*fieldsync.User, error) {
	if err := fieldsync.ValidatePassword("password", password); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	return s.store.SetPassword(ctx, id, hash, "", "user.password_reset", s.now().UTC())
}
