package server

import (
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// A reinstalled app signs in with the device id it had, on a fresh
// database: it gets a new install whose seqs start at 1 again, and its
// work is applied. The old install's seqs are answered as before.
func TestSyncAReinstalledDeviceStartsANewInstall(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, "", fieldsync.ZoneCity)
	first := w.visit(t, in.ticket, w.techAID)
	second := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)

	old := w.device(t, "tech.a", "tab-a")
	departed := old.mutation("visit", first.ID, "action", "depart", nil)
	if rs := old.push(t, departed); statuses(rs) != "1:applied: " {
		t.Fatalf("first install: %s", statuses(rs))
	}

	again := w.device(t, "tech.a", "tab-a") // no install_id: a fresh database
	if again.install == old.install {
		t.Fatalf("a fresh database got the old install %s", again.install)
	}
	if rs := again.push(t, again.mutation("visit", second.ID, "action", "depart", nil)); statuses(rs) != "1:applied: " {
		t.Fatalf("the reinstalled device's seq 1: %s", statuses(rs))
	}
	if rs := old.push(t, departed); statuses(rs) != "1:duplicate: " {
		t.Fatalf("the old install's seq 1 again: %s", statuses(rs))
	}
	var v fieldsync.Visit
	w.call(t, w.disp, "GET", "/v1/visits/"+second.ID, nil, 200, &v)
	if v.Status != fieldsync.VisitEnRoute {
		t.Fatalf("the reinstalled device's departure: visit is %s", v.Status)
	}
}

// A push names its install; without one, or with another than its
// token's, it is refused whole with a problem saying so, never answered
// "duplicate".
func TestSyncPushNamesItsInstall(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, "", fieldsync.ZoneCity).ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	other := w.device(t, "tech.a", "tab-a")
	m := tab.mutation("visit", v.ID, "action", "depart", nil)
	for _, tt := range []struct {
		name    string
		install string
		status  int
		code    string
	}{
		{"no install_id is invalid", "", 400, fieldsync.EInvalid},
		{"another install of the same device is forbidden", other.install, 403, fieldsync.EForbidden},
		{"an unknown install is forbidden", "no-such-install", 403, fieldsync.EForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := w.do(t, "POST", "/v1/sync/push", tab.token, syncproto.PushRequest{DeviceID: tab.id, InstallID: tt.install, Mutations: []syncproto.Mutation{m}})
			wantProblem(t, res, body, tt.status, tt.code)
		})
	}
	if rs := tab.push(t, m); statuses(rs) != "1:applied: " {
		t.Fatalf("the refused pushes consumed something: %s", statuses(rs))
	}
}

// A device id is its user's own: a customer signing in first with a
// technician's device id blocks nothing, and revoking one user's device
// names the user and leaves the other's alone.
func TestDeviceIDsArePerUser(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	cust := w.login(t, "cust.a", "tab-new")
	tech := w.login(t, "tech.a", "tab-new")

	res, body := w.do(t, "POST", "/v1/devices/tab-new/revoke", w.admin, nil)
	wantProblem(t, res, body, 409, fieldsync.EConflict)
	var d fieldsync.Device
	w.call(t, w.admin, "POST", "/v1/devices/tab-new/revoke?user_id="+w.custAUser, nil, 200, &d)
	if d.UserID != w.custAUser || d.RevokedAt == nil {
		t.Fatalf("revoked %+v, want the customer's device", d)
	}
	res, body = w.do(t, "GET", "/v1/me", cust.AccessToken, nil)
	wantProblem(t, res, body, 401, fieldsync.EDeviceRevoked)
	w.call(t, tech.AccessToken, "GET", "/v1/me", nil, 200, nil)
	res, body = w.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": tech.RefreshToken})
	if res.StatusCode != 200 {
		t.Fatalf("the technician's refresh: %d %s", res.StatusCode, body)
	}
	// Only one user's device of that id is left unrevoked, but the id still
	// names two devices: a revocation without the user is still refused.
	res, body = w.do(t, "POST", "/v1/devices/tab-new/revoke", w.admin, nil)
	wantProblem(t, res, body, 409, fieldsync.EConflict)
	res, body = w.do(t, "POST", "/v1/devices/tab-new/revoke?user_id=nobody", w.admin, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
}
