package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
)

// oneDevice is a SessionStore that holds one device, its user (enabled)
// and its one live sign-in, "fam-1".
type oneDevice fieldsync.Device

func (d oneDevice) Family(_ context.Context, id string) (*fieldsync.TokenFamily, error) {
	if id != "fam-1" {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no family %s", id)
	}
	return &fieldsync.TokenFamily{ID: id, UserID: d.UserID, DeviceID: d.ID}, nil
}

func (d oneDevice) User(_ context.Context, id string) (*fieldsync.User, error) {
	if id != d.UserID {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no user %s", id)
	}
	return &fieldsync.User{ID: id, Role: fieldsync.RoleTechnician}, nil
}

func (d oneDevice) Device(_ context.Context, userID, id string) (*fieldsync.Device, error) {
	if userID != d.UserID || id != d.ID {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no device %s", id)
	}
	dev := fieldsync.Device(d)
	return &dev, nil
}

// seen is what the handler behind the middleware was given.
type seen struct {
	principal *auth.Principal
	actor     fieldsync.Actor
}

// through runs mw in front of a handler that records what it saw; it
// returns the chain's error and nil when the handler was not reached.
func through(mw []echo.MiddlewareFunc, header string, pre func(echo.Context)) (*seen, error) {
	req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	if header != "" {
		req.Header.Set(echo.HeaderAuthorization, header)
	}
	c := echo.New().NewContext(req, httptest.NewRecorder())
	if pre != nil {
		pre(c)
	}
	var got *seen
	h := func(c echo.Context) error {
		got = &seen{principal: principalFrom(c), actor: fieldsync.ActorFrom(c.Request().Context())}
		return nil
	}
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return got, h(c)
}

func TestAuthenticateMiddleware(t *testing.T) {
	k, err := auth.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := auth.NewKeySet(k)
	is := auth.NewIssuer(keys)
	tok, err := is.Issue(&fieldsync.User{ID: "u1", Role: fieldsync.RoleTechnician}, "tab-1", "inst-1", "fam-1")
	if err != nil {
		t.Fatal(err)
	}
	mw := []echo.MiddlewareFunc{authenticate(is, oneDevice{ID: "tab-1", UserID: "u1"})}

	tests := []struct {
		name   string
		header string
		code   string // "" when the request is admitted
	}{
		{"a bearer token is admitted", "Bearer " + tok, ""},
		{"the scheme is case-insensitive", "bearer " + tok, ""},
		{"spaces around the token are ignored", "Bearer  " + tok + " ", ""},
		{"no Authorization header is unauthorized", "", fieldsync.EUnauthorized},
		{"another scheme is unauthorized", "Basic dXNlcjpwdw==", fieldsync.EUnauthorized},
		{"a scheme without a token is unauthorized", "Bearer", fieldsync.EUnauthorized},
		{"a bare token without a scheme is unauthorized", tok, fieldsync.EUnauthorized},
		{"a bad token is token_invalid", "Bearer not.a.token", fieldsync.ETokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := through(mw, tt.header, nil)
			if code := fieldsync.ErrorCode(err); code != tt.code {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.code)
			}
			if tt.code != "" {
				if got != nil {
					t.Error("the handler ran")
				}
				return
			}
			want := auth.Principal{UserID: "u1", Role: fieldsync.RoleTechnician, Device: "tab-1", Install: "inst-1", Family: "fam-1"}
			if got.principal == nil || *got.principal != want {
				t.Errorf("principal = %+v, want %+v", got.principal, want)
			}
			if a := (fieldsync.Actor{UserID: "u1", DeviceID: "tab-1"}); got.actor != a {
				t.Errorf("actor = %+v, want %+v", got.actor, a)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	as := func(r fieldsync.Role) func(echo.Context) {
		return func(c echo.Context) { c.Set(principalKey, &auth.Principal{UserID: "u1", Role: r, Device: "d1"}) }
	}
	tests := []struct {
		name  string
		roles []fieldsync.Role
		pre   func(echo.Context)
		code  string // "" when the request is admitted
	}{
		{"a listed role is admitted", []fieldsync.Role{roleAdmin, roleTechnician}, as(roleTechnician), ""},
		{"a role not listed is forbidden", []fieldsync.Role{roleAdmin, roleDispatcher}, as(roleTechnician), fieldsync.EForbidden},
		{"no principal is unauthorized", []fieldsync.Role{roleAdmin}, nil, fieldsync.EUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := through([]echo.MiddlewareFunc{require(tt.roles...)}, "", tt.pre)
			if code := fieldsync.ErrorCode(err); code != tt.code {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.code)
			}
			if (got != nil) != (tt.code == "") {
				t.Errorf("handler reached = %v, want %v", got != nil, tt.code == "")
			}
		})
	}
}
