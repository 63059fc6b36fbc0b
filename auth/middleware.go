package auth

import (
	"context"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// Principal is who a request acts for, taken from its verified token.
type Principal struct {
	UserID string
	Role   fieldsync.Role
	Device string
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
	Device(ctx context.Context, id string) (*fieldsync.Device, error)
}

const principalKey = "fieldsync.principal"

// Authenticate verifies the bearer access token of each request and that
// its device is not revoked, then stores the Principal for handlers.
// Checking the device on every request is what makes a revocation take
// effect before the token's 15 minutes run out.
func Authenticate(is *Issuer, devices DeviceStore) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, raw, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
				return fieldsync.Errorf(fieldsync.EUnauthorized, "an access token is required (Authorization: Bearer …)")
			}
			claims, err := is.Verify(strings.TrimSpace(raw))
			if err != nil {
				return err
			}
			dev, err := devices.Device(c.Request().Context(), claims.Device)
			if fieldsync.ErrorCode(err) == fieldsync.ENotFound || err == nil && (dev.Revoked() || dev.UserID != claims.Subject) {
				return fieldsync.Errorf(fieldsync.EDeviceRevoked, "the device of this token was revoked")
			}
			if err != nil {
				return err
			}
			c.Set(principalKey, &Principal{UserID: claims.Subject, Role: claims.Role, Device: claims.Device})
			ctx := fieldsync.WithActor(c.Request().Context(), fieldsync.Actor{UserID: claims.Subject, DeviceID: claims.Device})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// Require admits only principals with one of roles (EForbidden otherwise).
// It must run after Authenticate.
func Require(roles ...fieldsync.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := PrincipalFrom(c)
			if p == nil {
				return fieldsync.Errorf(fieldsync.EUnauthorized, "an access token is required")
			}
			if !p.Is(roles...) {
				return fieldsync.Errorf(fieldsync.EForbidden, "role %s may not do this", p.Role)
			}
			return next(c)
		}
	}
}

// PrincipalFrom returns the authenticated principal of c, or nil.
func PrincipalFrom(c echo.Context) *Principal {
	p, _ := c.Get(principalKey).(*Principal)
	return p
}
