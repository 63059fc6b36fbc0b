package server

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
)

const principalKey = "fieldsync.principal"

// authenticate admits requests with a bearer access token that
// auth.Authenticate accepts, and stores their Principal for handlers and
// their Actor in the request's context for the store.
func authenticate(is *auth.Issuer, devices auth.SessionStore) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, raw, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
				return fieldsync.Errorf(fieldsync.EUnauthorized, "an access token is required (Authorization: Bearer …)")
			}
			p, err := auth.Authenticate(c.Request().Context(), is, devices, strings.TrimSpace(raw))
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
			ctx := fieldsync.WithActor(c.Request().Context(), fieldsync.Actor{UserID: p.UserID, DeviceID: p.Device})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// require admits only principals with one of roles (EForbidden otherwise).
// It must run after authenticate.
func require(roles ...fieldsync.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalFrom(c)
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

// principalFrom returns the authenticated principal of c, or nil.
func principalFrom(c echo.Context) *auth.Principal {
	p, _ := c.Get(principalKey).(*auth.Principal)
	return p
}
