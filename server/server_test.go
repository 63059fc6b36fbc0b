package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/auth/authproto"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/templates"
)

// testServer is a real server on loopback over a real bbolt file.
type testServer struct {
	*httptest.Server
	store *bolt.DB
	svc   *auth.Service
	keys  *auth.KeySet
	logs  *testenv.Buffer
	api   *Server
}

// metrics reads the server's metrics as the metrics listener serves them.
func (ts *testServer) metrics(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	ts.api.Metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// newTestServer starts a server; opts adjust its Deps (a clock, say).
func newTestServer(t *testing.T, opts ...func(*Deps)) *testServer {
	t.Helper()
	k, err := auth.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := auth.NewKeySet(k)
	return newTestServerOn(t, filepath.Join(t.TempDir(), "fieldsync.db"), keys, opts...)
}

// newTestServerOn starts a server on the bbolt file at path, signing with
// keys.
func newTestServerOn(t *testing.T, path string, keys *auth.KeySet, opts ...func(*Deps)) *testServer {
	t.Helper()
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PublishTemplates(t.Context(), templates.All()); err != nil {
		t.Fatal(err)
	}
	issuer := auth.NewIssuer(keys)
	svc := auth.NewService(store, issuer, nil)
	logs := &testenv.Buffer{}
	d := Deps{
		Store: store, Auth: svc, Issuer: issuer, Version: "test",
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BodyLimit: 64 << 10,
	}
	for _, o := range opts {
		o(&d)
	}
	s := New(d)
	ts := &testServer{Server: validated(t, httptest.NewServer(s)), store: store, svc: svc, keys: keys, logs: logs, api: s}
	t.Cleanup(func() {
		ts.Close()
		store.Close()
	})
	return ts
}

// validated makes srv's client hold every exchange to openapi.json.
func validated(t *testing.T, srv *httptest.Server) *httptest.Server {
	t.Helper()
	c := srv.Client()
	c.Transport = testenv.OpenAPIValidator(t, openAPIDoc, c.Transport)
	return srv
}

// user creates an account directly through the service.
func (ts *testServer) user(t *testing.T, login string, role fieldsync.Role) {
	t.Helper()
	if _, err := ts.svc.CreateUser(t.Context(), login, strings.ToUpper(login), login+"-password", role); err != nil {
		t.Fatal(err)
	}
}

// login signs login in from device and returns the session.
func (ts *testServer) login(t *testing.T, login, device string) authproto.Tokens {
	t.Helper()
	return ts.loginWith(t, login, device, nil)
}

// loginWith signs login in from device, with extra fields in the request.
func (ts *testServer) loginWith(t *testing.T, login, device string, extra map[string]string) authproto.Tokens {
	t.Helper()
	req := map[string]string{"login": login, "password": login + "-password", "device_id": device, "device_name": "Tablet " + device}
	for k, v := range extra {
		req[k] = v
	}
	res, body := ts.do(t, "POST", "/v1/auth/login", "", req)
	if res.StatusCode != 200 {
		t.Fatalf("login %s: %d %s", login, res.StatusCode, body)
	}
	var s authproto.Tokens
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends a JSON request (body nil for none) with an optional bearer token.
func (ts *testServer) do(t *testing.T, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, ts.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return ts.send(t, req)
}

func (ts *testServer) send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// wantProblem checks that a response is problem+json with status and code.
func wantProblem(t *testing.T, res *http.Response, body []byte, status int, code string) Problem {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if p.Code != code || p.Status != status || p.Type != "urn:fieldsync:problem:"+code || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem %+v, want code %s status %d with type, title and detail", p, code, status)
	}
	return p
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestBadInputGetsProblems(t *testing.T) {
	ts := newTestServer(t)
	big := `{"login":"` + strings.Repeat("a", 100<<10) + `"}`
	tests := []struct {
		name, method, path, ctype, encoding, body string
		status                                    int
		code                                      string
	}{
		{"malformed JSON is bad_json", "POST", "/v1/auth/login", "application/json", "", `{"login":`, 400, fieldsync.EBadJSON},
		{"syntax error is bad_json", "POST", "/v1/auth/login", "application/json", "", `{login: x}`, 400, fieldsync.EBadJSON},
		{"empty body is bad_json", "POST", "/v1/auth/login", "application/json", "", ``, 400, fieldsync.EBadJSON},
		{"wrong field type is bad_json", "POST", "/v1/auth/login", "application/json", "", `{"login":7}`, 400, fieldsync.EBadJSON},
		{"two JSON values are bad_json", "POST", "/v1/auth/login", "application/json", "", `{} {}`, 400, fieldsync.EBadJSON},
		{"a form body is unsupported", "POST", "/v1/auth/login", "application/x-www-form-urlencoded", "", `login=a`, 415, fieldsync.EUnsupported},
		{"a body over the limit is refused", "POST", "/v1/auth/login", "application/json", "", big, 413, fieldsync.ETooLarge},
		{"a gzip body over the limit once inflated is refused", "POST", "/v1/auth/login", "application/json", "gzip", big, 413, fieldsync.ETooLarge},
		{"a body that is not gzip is invalid", "POST", "/v1/auth/login", "application/json", "gzip-broken", `{"login":"a","password":"b"}`, 400, fieldsync.EInvalid},
		{"a truncated gzip body is invalid", "POST", "/v1/auth/login", "application/json", "gzip-broken", `{}`, 400, fieldsync.EInvalid},
		{"missing fields are invalid", "POST", "/v1/auth/login", "application/json", "", `{"login":"a"}`, 400, fieldsync.EInvalid},
		{"an unknown route is route_not_found", "GET", "/v1/nothing-here", "", "", ``, 404, fieldsync.ERouteNotFound},
		{"a wrong method is method_not_allowed", "DELETE", "/v1/auth/login", "", "", ``, 405, fieldsync.EMethod},
		{"no token is unauthorized", "GET", "/v1/me", "", "", ``, 401, fieldsync.EUnauthorized},
		{"a garbage token is token_invalid", "GET", "/v1/me", "", "", ``, 401, fieldsync.ETokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if tt.encoding == "gzip" {
				body = gzipped(t, body)
			}
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, bytes.NewReader(body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", strings.TrimSuffix(tt.encoding, "-broken"))
			}
			if tt.code == fieldsync.ETokenInvalid {
				req.Header.Set("Authorization", "Bearer not.a.token")
			}
			res, resBody := ts.send(t, req)
			wantProblem(t, res, resBody, tt.status, tt.code)
		})
	}
}

func TestLoginRefreshRotationAndReuse(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "li.tech", fieldsync.RoleTechnician)
	first := ts.login(t, "li.tech", "tab-7")
	if first.ExpiresIn != 900 || first.User.Role != fieldsync.RoleTechnician || first.User.ID == "" {
		t.Fatalf("session %+v: want 900 s, technician, an id", first)
	}
	res, body := ts.do(t, "GET", "/v1/me", first.AccessToken, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"login":"li.tech"`) {
		t.Fatalf("/v1/me: %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Cache-Control") == "no-store" {
		t.Fatalf("/v1/me needs no no-store, only token responses do")
	}

	res, body = ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
	if res.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response without Cache-Control: no-store")
	}
	var second authproto.Tokens
	json.Unmarshal(body, &second)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatalf("refresh did not rotate: %+v", second)
	}

	res, body = ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
	wantProblem(t, res, body, 401, fieldsync.ERefreshReused)
	res, body = ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": second.RefreshToken})
	wantProblem(t, res, body, 401, fieldsync.ERefreshInvalid)

	// A fresh login starts a new family that the reuse did not touch.
	third := ts.login(t, "li.tech", "tab-7")
	res, body = ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": third.RefreshToken})
	if res.StatusCode != 200 {
		t.Fatalf("refresh of a new family: %d %s", res.StatusCode, body)
	}
}

func TestLogoutEndsTheFamily(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "wang", fieldsync.RoleDispatcher)
	s := ts.login(t, "wang", "browser-1")
	for range 2 { // a repeated logout is harmless
		res, body := ts.do(t, "POST", "/v1/auth/logout", "", map[string]string{"refresh_token": s.RefreshToken})
		if res.StatusCode != 204 {
			t.Fatalf("logout: %d %s", res.StatusCode, body)
		}
	}
	res, body := ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken})
	wantProblem(t, res, body, 401, fieldsync.ERefreshInvalid)
}

func TestRevokedDeviceIsRefusedAtOnce(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "admin", fieldsync.RoleAdmin)
	ts.user(t, "zhao", fieldsync.RoleTechnician)
	adm := ts.login(t, "admin", "admin-pc")
	tech := ts.login(t, "zhao", "tab-9")

	res, body := ts.do(t, "GET", "/v1/devices", adm.AccessToken, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"id":"tab-9"`) {
		t.Fatalf("devices: %d %s", res.StatusCode, body)
	}
	res, body = ts.do(t, "POST", "/v1/devices/tab-9/revoke", adm.AccessToken, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"revoked_at"`) {
		t.Fatalf("revoke: %d %s", res.StatusCode, body)
	}
	res, body = ts.do(t, "GET", "/v1/me", tech.AccessToken, nil)
	wantProblem(t, res, body, 401, fieldsync.EDeviceRevoked)
	res, body = ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": tech.RefreshToken})
	wantProblem(t, res, body, 401, fieldsync.EDeviceRevoked)
	res, body = ts.do(t, "POST", "/v1/auth/login", "", map[string]string{"login": "zhao", "password": "zhao-password", "device_id": "tab-9"})
	wantProblem(t, res, body, 401, fieldsync.EDeviceRevoked)
	res, body = ts.do(t, "POST", "/v1/devices/no-such-tablet/revoke", adm.AccessToken, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
}

func TestRolesOnAccountRoutes(t *testing.T) {
	ts := newTestServer(t)
	sessions := map[fieldsync.Role]string{}
	for _, r := range fieldsync.Roles {
		ts.user(t, string(r), r)
		sessions[r] = ts.login(t, string(r), "dev-"+string(r)).AccessToken
	}
	newUser := map[string]string{"login": "new.tech", "password": "long-enough-pw", "role": "technician", "name": "New"}
	tests := []struct {
		name   string
		role   fieldsync.Role
		method string
		path   string
		body   any
		status int
	}{
		{"an admin lists users", fieldsync.RoleAdmin, "GET", "/v1/users", nil, 200},
		{"a dispatcher lists technicians", fieldsync.RoleDispatcher, "GET", "/v1/users?role=technician", nil, 200},
		{"a technician may not list users", fieldsync.RoleTechnician, "GET", "/v1/users", nil, 403},
		{"a customer may not list users", fieldsync.RoleCustomer, "GET", "/v1/users", nil, 403},
		{"a dispatcher may not create users", fieldsync.RoleDispatcher, "POST", "/v1/users", newUser, 403},
		{"a technician may not create users", fieldsync.RoleTechnician, "POST", "/v1/users", newUser, 403},
		{"an admin creates a user", fieldsync.RoleAdmin, "POST", "/v1/users", newUser, 201},
		{"a second user with that login conflicts", fieldsync.RoleAdmin, "POST", "/v1/users", newUser, 409},
		{"an unknown role is invalid", fieldsync.RoleAdmin, "POST", "/v1/users", map[string]string{"login": "x", "password": "long-enough-pw", "role": "boss"}, 400},
		{"a short password is invalid", fieldsync.RoleAdmin, "POST", "/v1/users", map[string]string{"login": "y", "password": "short", "role": "customer"}, 400},
		{"an unknown role filter is invalid", fieldsync.RoleAdmin, "GET", "/v1/users?role=boss", nil, 400},
		{"a dispatcher may not list devices", fieldsync.RoleDispatcher, "GET", "/v1/devices", nil, 403},
		{"a technician may not revoke devices", fieldsync.RoleTechnician, "POST", "/v1/devices/dev-admin/revoke", nil, 403},
		{"everyone reads themselves", fieldsync.RoleCustomer, "GET", "/v1/me", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := ts.do(t, tt.method, tt.path, sessions[tt.role], tt.body)
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s as %s: %d, want %d: %s", tt.method, tt.path, tt.role, res.StatusCode, tt.status, body)
			}
			if tt.status >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("error without problem+json: %s", body)
			}
			if strings.Contains(string(body), "password_hash") || strings.Contains(string(body), "$argon2id$") {
				t.Fatalf("a response mentions a password: %s", body)
			}
		})
	}
	res, body := ts.do(t, "GET", "/v1/users?role=technician", sessions[fieldsync.RoleDispatcher], nil)
	var got struct{ Items []userView }
	json.Unmarshal(body, &got)
	if res.StatusCode != 200 || len(got.Items) != 2 || got.Items[0].Role != fieldsync.RoleTechnician {
		t.Fatalf("technicians: %s", body)
	}
}

func TestLoginThrottleHoldsAgainstTheRightPassword(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "chen", fieldsync.RoleTechnician)
	wrong := map[string]string{"login": "chen", "password": "guess-guess", "device_id": "tab-1"}
	for i := range 5 {
		res, body := ts.do(t, "POST", "/v1/auth/login", "", wrong)
		wantProblem(t, res, body, 401, fieldsync.EBadCredentials)
		_ = i
	}
	res, body := ts.do(t, "POST", "/v1/auth/login", "", map[string]string{"login": "chen", "password": "chen-password", "device_id": "tab-1"})
	wantProblem(t, res, body, 429, fieldsync.EThrottled)
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without Retry-After")
	}
}

func TestGzipBothWays(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "sun", fieldsync.RoleTechnician)
	raw, _ := json.Marshal(map[string]string{"login": "sun", "password": "sun-password", "device_id": "tab-2"})
	req, _ := http.NewRequest("POST", ts.URL+"/v1/auth/login", bytes.NewReader(gzipped(t, raw)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	res, body := ts.send(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("gzip login: %d %s", res.StatusCode, body)
	}

	// Set Accept-Encoding by hand so the transport does not inflate for us.
	req, _ = http.NewRequest("GET", ts.URL+"/openapi.json", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, body = ts.send(t, req)
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("response not gzipped: %v", res.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, openAPIDoc) {
		t.Fatalf("inflated body differs from the document")
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	ts := newTestServer(t)
	res, body := ts.do(t, "GET", "/healthz", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("healthz: %d %s", res.StatusCode, body)
	}
	res, body = ts.do(t, "GET", "/readyz", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("readyz: %d %s", res.StatusCode, body)
	}
	ts.do(t, "GET", "/no/such/route", "", nil)
	metrics := ts.metrics(t)
	for _, want := range []string{
		`fieldsync_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`fieldsync_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`fieldsync_http_request_duration_seconds_bucket{method="GET",route="/readyz"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Metrics are for the operator's listener, not for every API client.
	res, body = ts.do(t, "GET", "/metrics", "", nil)
	wantProblem(t, res, body, 404, fieldsync.ERouteNotFound)

	ts.store.Close()
	res, body = ts.do(t, "GET", "/readyz", "", nil)
	wantProblem(t, res, body, 503, fieldsync.EUnavailable)
	res, body = ts.do(t, "GET", "/healthz", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("healthz must not depend on the store: %d %s", res.StatusCode, body)
	}
}

func TestRequestIDs(t *testing.T) {
	ts := newTestServer(t)
	req, _ := http.NewRequest("GET", ts.URL+"/nowhere", nil)
	req.Header.Set("X-Request-Id", "trace-123")
	res, body := ts.send(t, req)
	if p := wantProblem(t, res, body, 404, fieldsync.ERouteNotFound); p.RequestID != "trace-123" || res.Header.Get("X-Request-Id") != "trace-123" {
		t.Fatalf("request id not carried: %+v", p)
	}
	req.Header.Set("X-Request-Id", "bad id with spaces")
	res, _ = ts.send(t, req)
	if id := res.Header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Fatalf("malformed client request id was used: %q", id)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "zhou", fieldsync.RoleTechnician)
	s := ts.login(t, "zhou", "tab-3")
	ts.do(t, "GET", "/v1/me?token="+s.AccessToken, s.AccessToken, nil)
	res, body := ts.do(t, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken})
	var next authproto.Tokens
	json.Unmarshal(body, &next)
	ts.do(t, "POST", "/v1/auth/login", "", map[string]string{"login": "zhou", "password": "wrong-secret-pw", "device_id": "tab-3"})
	if res.StatusCode != 200 {
		t.Fatalf("refresh: %d", res.StatusCode)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, `"route":"/v1/auth/login"`) {
		t.Fatalf("expected request logs, got: %s", logs)
	}
	for _, secret := range []string{"zhou-password", "wrong-secret-pw", s.AccessToken, s.RefreshToken, next.AccessToken, next.RefreshToken} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a secret reached the log: %.20s…", secret)
		}
	}
}
