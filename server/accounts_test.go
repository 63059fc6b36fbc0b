package server

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/store/bolt"
)

func TestAccountsOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "root", fieldsync.RoleAdmin)
	ts.user(t, "qian", fieldsync.RoleTechnician)
	admin := ts.login(t, "root", "admin-pc")
	here := ts.login(t, "qian", "tab-1")
	there := ts.login(t, "qian", "tab-2")
	var me userView
	_, body := ts.do(t, "GET", "/v1/me", here.AccessToken, nil)
	json.Unmarshal(body, &me)

	// The user changes their password: the other tablet is signed out at once.
	res, body := ts.do(t, "POST", "/v1/me/password", here.AccessToken, changePasswordRequest{CurrentPassword: "wrong-password", NewPassword: "qian-new-password"})
	wantProblem(t, res, body, 401, fieldsync.EBadCredentials)
	res, body = ts.do(t, "POST", "/v1/me/password", here.AccessToken, changePasswordRequest{CurrentPassword: "qian-password", NewPassword: "short"})
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	res, body = ts.do(t, "POST", "/v1/me/password", here.AccessToken, changePasswordRequest{CurrentPassword: "qian-password", NewPassword: "qian-new-password"})
	if res.StatusCode != 204 {
		t.Fatalf("change password: %d %s", res.StatusCode, body)
	}
	res, body = ts.do(t, "GET", "/v1/me", there.AccessToken, nil)
	wantProblem(t, res, body, 401, fieldsync.ESessionEnded)
	if res, body = ts.do(t, "GET", "/v1/me", here.AccessToken, nil); res.StatusCode != 200 {
		t.Fatalf("the sign-in that changed the password: %d %s", res.StatusCode, body)
	}

	// The admin disables the account: refused on every request, at refresh and login.
	res, body = ts.do(t, "POST", "/v1/users/"+me.ID+"/disable", admin.AccessToken, nil)
	var got userView
	if json.Unmarshal(body, &got); res.StatusCode != 200 || got.DisabledAt == nil {
		t.Fatalf("disable: %d %s", res.StatusCode, body)
	}
	res, body = ts.do(t, "GET", "/v1/me", here.AccessToken, nil)
	wantProblem(t, res, body, 403, fieldsync.EAccountDisabled)
	res, body = ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": here.RefreshToken})
	if res.StatusCode < 400 {
		t.Fatalf("a disabled user refreshed: %d %s", res.StatusCode, body)
	}
	login := map[string]string{"login": "qian", "password": "qian-new-password", "device_id": "tab-1"}
	res, body = ts.do(t, "POST", "/v1/auth/login", "", login)
	wantProblem(t, res, body, 403, fieldsync.EAccountDisabled)
	res, body = ts.do(t, "POST", "/v1/users/"+me.ID+"/disable", here.AccessToken, nil)
	wantProblem(t, res, body, 403, fieldsync.EAccountDisabled)

	// Enabled again, with a password the admin set.
	if res, body = ts.do(t, "POST", "/v1/users/"+me.ID+"/enable", admin.AccessToken, nil); res.StatusCode != 200 {
		t.Fatalf("enable: %d %s", res.StatusCode, body)
	}
	res, body = ts.do(t, "POST", "/v1/users/"+me.ID+"/password", admin.AccessToken, resetPasswordRequest{Password: "2short"})
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	if res, body = ts.do(t, "POST", "/v1/users/"+me.ID+"/password", admin.AccessToken, resetPasswordRequest{Password: "set-by-the-admin"}); res.StatusCode != 204 {
		t.Fatalf("reset: %d %s", res.StatusCode, body)
	}
	login["password"] = "set-by-the-admin"
	if res, body = ts.do(t, "POST", "/v1/auth/login", "", login); res.StatusCode != 200 {
		t.Fatalf("login after reset: %d %s", res.StatusCode, body)
	}

	res, body = ts.do(t, "POST", "/v1/users/nobody/disable", admin.AccessToken, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	var root userView
	_, body = ts.do(t, "GET", "/v1/me", admin.AccessToken, nil)
	json.Unmarshal(body, &root)
	res, body = ts.do(t, "POST", "/v1/users/"+root.ID+"/disable", admin.AccessToken, nil)
	wantProblem(t, res, body, 409, fieldsync.EConflict)

	// Logout ends the sign-in's access token at once, not in 15 minutes.
	if res, body = ts.do(t, "POST", "/v1/auth/logout", "", map[string]string{"refresh_token": admin.RefreshToken}); res.StatusCode != 204 {
		t.Fatalf("logout: %d %s", res.StatusCode, body)
	}
	res, body = ts.do(t, "GET", "/v1/me", admin.AccessToken, nil)
	wantProblem(t, res, body, 401, fieldsync.ESessionEnded)
}

// TestClientAddressBehindProxies fails logins with X-Forwarded-For set:
// the header moves the throttle's address only when the peer (here the
// loopback) is a trusted proxy.
func TestClientAddressBehindProxies(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		// whether a fresh X-Forwarded-For escapes the lock of the first
		want bool
	}{
		{"without trusted proxies the header is ignored", "", false},
		{"a proxy outside the trusted networks is not believed", "10.0.0.0/8", false},
		{"a trusted proxy's header names the client", "127.0.0.0/8", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(d *Deps) {
				if tt.trusted != "" {
					_, n, _ := net.ParseCIDR(tt.trusted)
					d.TrustedProxies = []*net.IPNet{n}
				}
				th := auth.NewThrottle()
				th.AddrLimit = 2
				d.Auth = auth.NewService(d.Store.(*bolt.DB), d.Issuer, th)
			})
			try := func(login, xff string) *http.Response {
				raw, _ := json.Marshal(map[string]string{"login": login, "password": "not-the-password", "device_id": "tab-9"})
				req, _ := http.NewRequest("POST", ts.URL+"/v1/auth/login", strings.NewReader(string(raw)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", xff)
				res, _ := ts.send(t, req)
				return res
			}
			for _, login := range []string{"a", "b"} {
				if res := try(login, "198.51.100.1"); res.StatusCode != 401 {
					t.Fatalf("failure %s: %d", login, res.StatusCode)
				}
			}
			if res := try("c", "198.51.100.1"); res.StatusCode != 429 {
				t.Fatalf("the address is not locked after AddrLimit failures: %d", res.StatusCode)
			}
			escaped := try("d", "198.51.100.2").StatusCode != 429
			if escaped != tt.want {
				t.Fatalf("another X-Forwarded-For escaped the lock: %v, want %v", escaped, tt.want)
			}
			wantRemote := `"remote":"127.0.0.1"`
			if tt.want {
				wantRemote = `"remote":"198.51.100.2"`
			}
			if !strings.Contains(ts.logs.String(), wantRemote) {
				t.Errorf("the log lacks %s", wantRemote)
			}
		})
	}
}
