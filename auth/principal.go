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

// Authenticate returns who the access token raw acts for. The token must
// verify (ETokenInvalid otherwise) and name a device that is registered to
// the token's user and not revoked (EDeviceRevoked otherwise). Checking the
// device on every request is what makes a revocation take effect before
// the token's 15 minutes run out.
func Authenticate(ctx context.Context, is *Issuer, devices DeviceStore, raw string) (*Principal, error) {
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
	return &Principal{UserID: claims.Subject, Role: claims.Role, Device: claims.Device, Install: claims.Install}, nil
}
