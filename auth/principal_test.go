package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
)

// devices is a SessionStore over maps; err, when set, is every lookup's.
// It finds a device by id whatever its user, so that Authenticate's own
// check of the user is tested too. Without families or users it holds
// sign-in "fam-1" of user-1 on tab-1 and an enabled user-1.
type devices struct {
	byID     map[string]fieldsync.Device
	err      error
	families map[string]fieldsync.TokenFamily
	users    map[string]fieldsync.User
}

func (d devices) Family(_ context.Context, id string) (*fieldsync.TokenFamily, error) {
	if d.families == nil {
		d.families = map[string]fieldsync.TokenFamily{"fam-1": {ID: "fam-1", UserID: "user-1", DeviceID: "tab-1"}}
	}
	f, ok := d.families[id]
	if !ok {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no family %s", id)
	}
	return &f, nil
}

func (d devices) User(_ context.Context, id string) (*fieldsync.User, error) {
	if d.users == nil {
		d.users = map[string]fieldsync.User{"user-1": *technician()}
	}
	u, ok := d.users[id]
	if !ok {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no user %s", id)
	}
	return &u, nil
}

func (d devices) Device(_ context.Context, _, id string) (*fieldsync.Device, error) {
	if d.err != nil {
		return nil, d.err
	}
	dev, ok := d.byID[id]
	if !ok {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no device %s", id)
	}
	return &dev, nil
}

func TestAuthenticate(t *testing.T) {
	is := testIssuer(t, tokenEpoch, testKey(t, tokenEpoch.Add(-time.Hour)))
	token := issue(t, is) // technician() on "tab-1"
	revokedAt := tokenEpoch.Add(-time.Minute)
	broken := errors.New("disk on fire")
	tab1 := map[string]fieldsync.Device{"tab-1": {ID: "tab-1", UserID: "user-1"}}

	tests := []struct {
		name     string
		token    string
		devices  devices
		wantCode string // "" for success
		wantErr  error  // an error that must come back unchanged
	}{
		{"a valid token of a registered device is admitted", token,
			devices{byID: map[string]fieldsync.Device{"tab-1": {ID: "tab-1", UserID: "user-1"}}}, "", nil},
		{"an invalid token is refused before the device is looked up", "garbage",
			devices{err: broken}, fieldsync.ETokenInvalid, nil},
		{"a revoked device is refused", token,
			devices{byID: map[string]fieldsync.Device{"tab-1": {ID: "tab-1", UserID: "user-1", RevokedAt: &revokedAt}}}, fieldsync.EDeviceRevoked, nil},
		{"an unknown device counts as revoked", token,
			devices{byID: map[string]fieldsync.Device{}}, fieldsync.EDeviceRevoked, nil},
		{"a device registered to another user counts as revoked", token,
			devices{byID: map[string]fieldsync.Device{"tab-1": {ID: "tab-1", UserID: "user-2"}}}, fieldsync.EDeviceRevoked, nil},
		{"a failing device lookup is passed through", token,
			devices{err: broken}, fieldsync.EInternal, broken},
		{"a sign-in that was ended (logout, reuse) is refused", token,
			devices{byID: tab1, families: map[string]fieldsync.TokenFamily{"fam-1": {ID: "fam-1", UserID: "user-1", DeviceID: "tab-1", RevokedAt: &revokedAt}}}, fieldsync.ESessionEnded, nil},
		{"a sign-in that is gone (pruned) is refused", token,
			devices{byID: tab1, families: map[string]fieldsync.TokenFamily{}}, fieldsync.ESessionEnded, nil},
		{"a sign-in of another device is refused", token,
			devices{byID: tab1, families: map[string]fieldsync.TokenFamily{"fam-1": {ID: "fam-1", UserID: "user-1", DeviceID: "tab-2"}}}, fieldsync.ESessionEnded, nil},
		{"a disabled user is refused", token,
			devices{byID: tab1, users: map[string]fieldsync.User{"user-1": {ID: "user-1", Login: "tech", Role: fieldsync.RoleTechnician, DisabledAt: &revokedAt}}}, fieldsync.EAccountDisabled, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := auth.Authenticate(t.Context(), is, tt.devices, tt.token)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				want := auth.Principal{UserID: "user-1", Role: fieldsync.RoleTechnician, Device: "tab-1", Install: "inst-1", Family: "fam-1"}
				if p == nil || *p != want {
					t.Fatalf("principal = %+v, want %+v", p, want)
				}
				return
			}
			if code := fieldsync.ErrorCode(err); code != tt.wantCode {
				t.Errorf("code = %q (%v), want %q", code, err, tt.wantCode)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if p != nil {
				t.Errorf("principal %+v returned with the error", p)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	tech := &auth.Principal{UserID: "u1", Role: fieldsync.RoleTechnician}
	disp := &auth.Principal{UserID: "u2", Role: fieldsync.RoleDispatcher}
	admin := &auth.Principal{UserID: "u3", Role: fieldsync.RoleAdmin}
	cust := &auth.Principal{UserID: "u4", Role: fieldsync.RoleCustomer}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"a role in the list is admitted", tech.Is(fieldsync.RoleAdmin, fieldsync.RoleTechnician), true},
		{"a role outside the list is not", cust.Is(fieldsync.RoleAdmin, fieldsync.RoleTechnician), false},
		{"no roles admit no one", admin.Is(), false},
		{"a technician owns their own record", tech.Owns("u1"), true},
		{"a technician does not own another's record", tech.Owns("u9"), false},
		{"a customer does not own another's record", cust.Owns("u9"), false},
		{"a dispatcher acts for everyone", disp.Owns("u9"), true},
		{"an admin acts for everyone", admin.Owns("u9"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
