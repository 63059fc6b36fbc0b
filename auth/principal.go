package auth

import (
	"context"
	"slices"

	"github.com/fieldsync/fieldsync"
)

// Principal is who a request acts for, taken from its verified token.
type Principal struct {
	UserID  string
	Role    fieldsync.Role
	Device  string // the user's device id
	Install string // the install of the app on it (fieldsync.Install)
	Family  string // the sign-in (refresh token family) of the token
}

// Is reports whether the principal has one of roles.
func (p *Principal) Is(roles ...fieldsync.Role) bool { return slices.Contains(roles, p.Role) }

// Owns reports whether the principal may act on a record owned by userID:
// its owner, or an admin or dispatcher, who act for everyone.
func (p *Principal) Owns(userID string) bool {
	return p.UserID == userID || p.Is(fieldsync.RoleAdmin, fieldsync.RoleDispatcher)
}

// DeviceStore is what Authenticate needs to refuse revoked devices.
type DeviceStore interface {
	// Device returns the device id of user, or ENotFound.
	Device(ctx context.Context, userID, id string) (*fieldsync.Device, error)
}

// SessionStore is what Authenticate needs to refuse ended sign-ins and
// disabled accounts as well as revoked devices.
type SessionStore interface {
	DeviceStore
	Family(ctx context.Context, id string) (*fieldsync.TokenFamily, error)
	User(ctx context.Context, id string) (*fieldsync.User, error)
}

// Authenticate returns who the access token raw acts for. The token must
// verify (ETokenInvalid otherwise) and name a device that is registered to
// the token's user and not revoked (EDeviceRevoked otherwise), a sign-in
// of that user and device that has not ended (ESessionEnded otherwise) and
// a user who is not disabled (EAccountDisabled otherwise). Checking them
// on every request is what makes a revocation, logout, password change or
// disabling take effect before the token's 15 minutes run out.
func Authenticate(ctx context.Context, is *Issuer, devices SessionStore, raw string) (*Principal, error) {
	claims, err := is.Verify(raw)
	if err != nil {
		return nil, err
	}
	dev, err := devices.Device(ctx, claims.Subject, claims.Device)
	if fieldsync.ErrorCode(err) == fieldsync.ENotFound || err == nil && (dev.Revoked() || dev.UserID != claims.Subject) {
		return nil, fieldsync.Errorf(fieldsync.EDeviceRevoked, "the device of this token was revoked")
	}
	if err != nil {
		return nil, err
	}
	if err := signedIn(ctx, devices, claims); err != nil {
		return nil, err
	}
	return &Principal{UserID: claims.Subject, Role: claims.Role, Device: claims.Device, Install: claims.Install, Family: claims.Family}, nil
}

// signedIn checks that the token's user may act and its sign-in goes on;
// the user first, so a disabled account is told so rather than that its
// sign-ins ended. A family that is gone (pruned once its refresh tokens
// expired) has ended.
func signedIn(ctx context.Context, store SessionStore, claims *Claims) error {
	user, err := store.User(ctx, claims.Subject)
	if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
		return fieldsync.Errorf(fieldsync.ESessionEnded, "the account of this token no longer exists")
	}
	if err != nil {
		return err
	}
	if err := usable(user); err != nil {
		return err
	}
	fam, err := store.Family(ctx, claims.Family)
	if fieldsync.ErrorCode(err) == fieldsync.ENotFound || err == nil && (fam.RevokedAt != nil || fam.UserID != claims.Subject || fam.DeviceID != claims.Device) {
		return fieldsync.Errorf(fieldsync.ESessionEnded, "this sign-in on device %s was ended (logout, password change or a reused refresh token): sign in again", claims.Device)
	}
	return err
}
