package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/store/bolt"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the fieldsync command once per test run, so the tests
// below run the real program as a user would.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fieldsync-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fieldsync")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// process is a running `fieldsync serve`.
type process struct {
	cmd  *exec.Cmd
	addr string // where the server listens
	// front is the proxy that holds every exchange to openapi.json, in
	// front of the server; nil when the test talks to it unchecked.
	front  *httptest.Server
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func (p *process) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// serveProcess starts `fieldsync serve` on a free port over dir and waits
// for it to say where it listens.
func serveProcess(t testing.TB, dir string) *process {
	t.Helper()
	return serveProcessAt(t, dir, "127.0.0.1:0")
}

// serveProcessAt starts `fieldsync serve` on a free port behind a proxy on
// addr that holds every exchange to openapi.json: clients use the proxy
// (p.url), so what the real binary answers is checked against its
// document. env adds variables (FIELDSYNC_S3_…) to the test's
// environment.
func serveProcessAt(t testing.TB, dir, addr string, env ...string) *process {
	t.Helper()
	p := startServe(t, dir, "127.0.0.1:0", env...)
	p.front = testenv.OpenAPIProxyAt(t, openAPISpec(t), "http://"+p.addr, addr)
	return p
}

func openAPISpec(t testing.TB) []byte {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join("..", "..", "server", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// startServe starts `fieldsync serve` on addr, reached directly.
func startServe(t testing.TB, dir, addr string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--addr", addr, "--data", dir)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.stderr.Write(line)
			p.stderr.WriteByte('\n')
			p.mu.Unlock()
			if addr, ok := listeningAt(line); ok {
				addrc <- addr
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server log:\n%s", p.logs())
		}
	})
	select {
	case p.addr = <-addrc:
	case err := <-p.done:
		t.Fatalf("serve exited: %v\n%s", err, p.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", p.logs())
	}
	return p
}

// listeningAt reads the address from serve's "listening" log line.
func listeningAt(line []byte) (string, bool) {
	var rec struct{ Msg, Addr string }
	if json.Unmarshal(line, &rec) != nil || rec.Msg != "listening" {
		return "", false
	}
	return rec.Addr, true
}

func (p *process) url(path string) string {
	if p.front != nil {
		return p.front.URL + path
	}
	return p.direct(path)
}

// direct is the server's own URL, past the proxy, for a test about a dead
// server: the proxy would answer 502 in its place.
func (p *process) direct(path string) string { return "http://" + p.addr + path }

// kill stops the server with SIGKILL, and its proxy with it.
func (p *process) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.done <- nil // for the cleanup
	if p.front != nil {
		p.front.Close()
	}
}

func postJSON(url string, body any) (int, []byte, error) {
	raw, _ := json.Marshal(body)
	res, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func addUser(t *testing.T, dir, role, login, password string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"admin", "add-user", "--data", dir, "--role", role, "--login", login, "--password-stdin"},
		func(string) string { return "" }, strings.NewReader(password+"\n"), &out, &errb)
	if err != nil {
		t.Fatalf("add-user: %v %s", err, errb.String())
	}
}

type session struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	InstallID    string `json:"install_id"`
}

// TestServeLoginAndVerifyWithIndependentJWT walks the first steps of a new
// user: start the server, add a user, log in, verify the access token with
// go-jose against the published JWKS.
func TestServeLoginAndVerifyWithIndependentJWT(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "technician", "li.tech", "a-long-password")
	p := serveProcess(t, dir)

	res, err := http.Get(p.url("/healthz"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	status, body, err := postJSON(p.url("/v1/auth/login"), map[string]string{"login": "li.tech", "password": "a-long-password", "device_id": "tab-1", "device_name": "Tab"})
	if err != nil || status != 200 {
		t.Fatalf("login: %d %s %v", status, body, err)
	}
	var s session
	json.Unmarshal(body, &s)

	res, err = http.Get(p.url("/.well-known/jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	tok, err := josejwt.ParseSigned(s.AccessToken, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	keys := jwks.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the JWKS", tok.Headers[0].KeyID)
	}
	var claims josejwt.Claims
	var extra struct {
		Role   string `json:"role"`
		Device string `json:"device"`
	}
	if err := tok.Claims(keys[0].Key, &claims, &extra); err != nil {
		t.Fatalf("go-jose rejects the signature: %v", err)
	}
	if err := claims.Validate(josejwt.Expected{Issuer: "fieldsync", AnyAudience: josejwt.Audience{"fieldsync-api"}, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if extra.Role != "technician" || extra.Device != "tab-1" || claims.ID == "" || claims.Subject == "" {
		t.Fatalf("claims %+v %+v", claims, extra)
	}
	if exp := claims.Expiry.Time().Sub(claims.IssuedAt.Time()); exp != 15*time.Minute {
		t.Fatalf("access token lives %v, want 15m", exp)
	}
}

// TestKilledServerKeepsAcknowledgedWrites kills the server with SIGKILL in
// the middle of a stream of logins (each one a write: a device and a
// refresh token) and checks, after a restart on the same data, that every
// login the server acknowledged is still there: its refresh token works.
func TestKilledServerKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "technician", "crash.tech", "a-long-password")
	p := serveProcess(t, dir)

	var (
		mu    sync.Mutex
		acked = map[string]string{} // device -> refresh token
	)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				dev := "tab-" + string(rune('a'+w)) + "-" + time.Now().Format("150405.000000000")
				// Straight to the server: past the kill, the proxy would
				// answer 502, which this loop would take for a refusal.
				status, body, err := postJSON(p.direct("/v1/auth/login"), map[string]string{"login": "crash.tech", "password": "a-long-password", "device_id": dev})
				if err != nil {
					return // the server is gone
				}
				if status != 200 {
					t.Errorf("login: %d %s", status, body)
					return
				}
				var s session
				json.Unmarshal(body, &s)
				mu.Lock()
				acked[dev] = s.RefreshToken
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.kill()
	cancel()
	wg.Wait()
	if len(acked) < 40 {
		t.Fatalf("only %d logins acknowledged before the kill", len(acked))
	}

	p2 := serveProcess(t, dir)
	for dev, refresh := range acked {
		status, body, err := postJSON(p2.url("/v1/auth/refresh"), map[string]string{"refresh_token": refresh})
		if err != nil || status != 200 {
			t.Errorf("acknowledged login on %s lost after SIGKILL: %d %s %v", dev, status, body, err)
		}
	}
}

// TestSIGTERMStopsCleanly checks a graceful stop: exit status 0 and the
// data file released, so an admin command can open it at once.
func TestSIGTERMStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	p := serveProcess(t, dir)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("serve exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if !strings.Contains(p.logs(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in the log:\n%s", p.logs())
	}
	db, err := bolt.Open(filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatalf("data file still held: %v", err)
	}
	db.Close()
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantOut string
		wantErr string
	}{
		{"add-user creates an account", []string{"admin", "add-user", "--data", dir, "--role", "dispatcher", "--login", "Wang", "--password-stdin"}, "pw-pw-pw-pw\n", "created dispatcher wang", ""},
		{"a taken login is refused", []string{"admin", "add-user", "--data", dir, "--role", "technician", "--login", "wang", "--password-stdin"}, "pw-pw-pw-pw\n", "", "taken"},
		{"an unknown role is refused", []string{"admin", "add-user", "--data", dir, "--role", "boss", "--login", "x", "--password-stdin"}, "pw-pw-pw-pw\n", "", "unknown role"},
		{"a password is never an argument", []string{"admin", "add-user", "--data", dir, "--role", "admin", "--login", "x"}, "", "", "--password-stdin"},
		{"revoking an unknown device says so", []string{"admin", "revoke-device", "--data", dir, "nope"}, "", "", "not found"},
		{"add-key adds a signing key", []string{"admin", "add-key", "--data", dir}, "", "added key", ""},
		{"list-keys marks the signing key", []string{"admin", "list-keys", "--data", dir}, "", "(signing)", ""},
		{"list-keys prints times in China time", []string{"admin", "list-keys", "--data", dir}, "", " +08:00", ""},
		{"remove-key refuses the last key", []string{"admin", "remove-key", "--data", dir, "x"}, "", "", "no key"},
		{"version prints the version", []string{"version"}, "", "fieldsync dev", ""},
		{"an unknown command is a usage error", []string{"frobnicate"}, "", "", "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(t.Context(), tt.args, env, strings.NewReader(tt.stdin), &out, &errb)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error %v; stderr %s", err, errb.String())
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("output %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantErr  bool
	}{
		{"the default applies without flag or variable", nil, nil, "127.0.0.1:8080", false},
		{"the variable overrides the default", nil, map[string]string{"FIELDSYNC_ADDR": ":9000"}, ":9000", false},
		{"the flag overrides the variable", []string{"--addr", ":7000"}, map[string]string{"FIELDSYNC_ADDR": ":9000"}, ":7000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			addr := fs.String("addr", "127.0.0.1:8080", "")
			fs.Duration("shutdown-grace", time.Second, "")
			err := parseFlags(fs, tt.args, func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr || *addr != tt.wantAddr {
				t.Fatalf("addr %q err %v, want %q", *addr, err, tt.wantAddr)
			}
		})
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Duration("shutdown-grace", time.Second, "")
	if err := parseFlags(fs, nil, func(k string) string { return map[string]string{"FIELDSYNC_SHUTDOWN_GRACE": "soon"}[k] }); err == nil || !strings.Contains(err.Error(), "FIELDSYNC_SHUTDOWN_GRACE") {
		t.Fatalf("a bad variable must name itself, got %v", err)
	}
}

// TestDemoFillsAFreshDirectory runs `fieldsync demo`, then serves its data
// and reads it as the printed dispatcher and technician would.
func TestDemoFillsAFreshDirectory(t *testing.T) {
	dir := t.TempDir()
	passwords := demoLogins(t, dir)
	if len(passwords) != 6 {
		t.Fatalf("demo printed %d logins, want 6: %v", len(passwords), passwords)
	}
	err := run(t.Context(), []string{"demo", "--data", dir}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "fresh data directory") {
		t.Fatalf("a second demo on the same directory: %v", err)
	}

	p := serveProcess(t, dir)
	token := func(login string) string { return loginHTTP(t, p, login, passwords[login], "test-"+login) }
	get := func(tok, path string, out any) { getJSON(t, p, tok, path, out) }
	var all struct {
		Items []struct {
			Status string `json:"status"`
			SLA    struct{ State string }
		}
	}
	get(token("dispatcher"), "/v1/visits", &all)
	statuses, states := map[string]int{}, map[string]int{}
	for _, v := range all.Items {
		statuses[v.Status]++
		states[v.SLA.State]++
	}
	if len(all.Items) != 10 || len(statuses) < 4 || states["breached"] == 0 {
		t.Fatalf("demo visits: %d, statuses %v, sla %v; want 10 in at least 4 states with a breach", len(all.Items), statuses, states)
	}
	var mine struct{ Items []any }
	get(token("tech.li"), "/v1/visits", &mine)
	if len(mine.Items) != 2 {
		t.Fatalf("tech.li sees %d visits, want 2", len(mine.Items))
	}
	var tickets struct{ Items []any }
	get(token("customer.liu"), "/v1/tickets", &tickets)
	if len(tickets.Items) != 10 {
		t.Fatalf("the demo customer sees %d tickets, want 10", len(tickets.Items))
	}
}

// demoLogins runs `fieldsync demo` into dir and returns login -> password.
func demoLogins(t testing.TB, dir string) map[string]string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"demo", "--data", dir}, func(string) string { return "" }, nil, &out, &errb); err != nil {
		t.Fatalf("demo: %v %s", err, errb.String())
	}
	passwords := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && strings.Count(f[2], "-") == 2 {
			passwords[f[1]] = f[2]
		}
	}
	if len(passwords) == 0 {
		t.Fatalf("demo printed no logins:\n%s", out.String())
	}
	return passwords
}

// TestPushSurvivesAKilledServer pushes a technician's step, kills the
// server with SIGKILL as soon as the request is sent (before or after it
// applied — either may happen), restarts it and sends the same push again
// until it is answered: the step must be there exactly once.
func TestPushSurvivesAKilledServer(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	p := serveProcess(t, dir)
	status, body, err := postJSON(p.url("/v1/auth/login"), map[string]string{"login": "tech.li", "password": pw["tech.li"], "device_id": "tab-li"})
	if err != nil || status != 200 {
		t.Fatalf("login: %d %s %v", status, body, err)
	}
	var s session
	json.Unmarshal(body, &s)
	authed := func(p *process, method, path string, in, out any) (int, error) {
		var body io.Reader
		if in != nil {
			raw, _ := json.Marshal(in)
			body = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, p.url(path), body)
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+s.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		if out != nil {
			json.NewDecoder(res.Body).Decode(out)
		}
		return res.StatusCode, nil
	}
	var visits struct {
		Items []struct{ ID, Status string }
	}
	if _, err := authed(p, "GET", "/v1/visits?status=scheduled", nil, &visits); err != nil || len(visits.Items) == 0 {
		t.Fatalf("no scheduled visit for tech.li: %v %+v", err, visits)
	}
	visit := visits.Items[0].ID
	push := map[string]any{"device_id": "tab-li", "install_id": s.InstallID, "mutations": []map[string]any{
		{"seq": 1, "entity": "visit", "id": visit, "op": "action", "action": "depart", "hlc": fmt.Sprintf("%d:0:tab-li", time.Now().UnixMilli())},
	}}

	go authed(p, "POST", "/v1/sync/push", push, nil)
	time.Sleep(5 * time.Millisecond) // let the request leave; the kill may land before or after it applies
	p.kill()

	p2 := serveProcess(t, dir)
	var resp struct {
		Results []struct{ Status, Code string }
	}
	if status, err := authed(p2, "POST", "/v1/sync/push", push, &resp); err != nil || status != 200 {
		t.Fatalf("push after restart: %d %v", status, err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Status != "applied" && resp.Results[0].Status != "duplicate" {
		t.Fatalf("retry answered %+v", resp.Results)
	}
	// And once more: now it is certainly a duplicate.
	authed(p2, "POST", "/v1/sync/push", push, &resp)
	if resp.Results[0].Status != "duplicate" {
		t.Fatalf("a third send answered %+v", resp.Results)
	}

	status, body, _ = postJSON(p2.url("/v1/auth/login"), map[string]string{"login": "admin", "password": pw["admin"], "device_id": "admin-pc"})
	var adm session
	json.Unmarshal(body, &adm)
	req, _ := http.NewRequest("GET", p2.url("/v1/audit?entity=visit&id="+visit), nil)
	req.Header.Set("Authorization", "Bearer "+adm.AccessToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil || status != 200 {
		t.Fatalf("audit: %v %d", err, status)
	}
	var audit struct{ Items []struct{ Action string } }
	json.NewDecoder(res.Body).Decode(&audit)
	res.Body.Close()
	departs := 0
	for _, e := range audit.Items {
		if e.Action == "visit.depart" {
			departs++
		}
	}
	if departs != 1 {
		t.Fatalf("the depart was applied %d times", departs)
	}
}
