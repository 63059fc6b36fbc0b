package main

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// cli runs the program with args and stdin, and no environment.
func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func TestAdminAccountCommands(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "technician", "zhao", "first-password")
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantOut string
		wantErr string
	}{
		{"disable-user disables the account", []string{"admin", "disable-user", "--data", dir, "--login", "Zhao"}, "", "disabled zhao", ""},
		{"an unknown login is not found", []string{"admin", "disable-user", "--data", dir, "--login", "nobody"}, "", "", "not found"},
		{"the login is a flag, not an argument", []string{"admin", "enable-user", "--data", dir, "zhao"}, "", "", "--login"},
		{"a password is never an argument", []string{"admin", "reset-password", "--data", dir, "--login", "zhao"}, "", "", "--password-stdin"},
		{"a short password is refused with the rule", []string{"admin", "reset-password", "--data", dir, "--login", "zhao", "--password-stdin"}, "short\n", "", "at least 8 characters"},
		{"reset-password sets the password", []string{"admin", "reset-password", "--data", dir, "--login", "zhao", "--password-stdin"}, "second-password\n", "set a new password for zhao", ""},
		{"a bad --trusted-proxy is a usage error", []string{"serve", "--data", dir, "--trusted-proxy", "10.0.0.0/8,proxy.local"}, "", "", "not a CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cli(t, tt.stdin, tt.args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			case !strings.Contains(out, tt.wantOut):
				t.Fatalf("output %q, want %q", out, tt.wantOut)
			}
		})
	}
	user := func() (disabled bool, password string) {
		t.Helper()
		db, err := bolt.Open(filepath.Join(dir, "fieldsync.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		u, err := db.UserByLogin(t.Context(), "zhao")
		if err != nil {
			t.Fatal(err)
		}
		for _, pw := range []string{"first-password", "second-password"} {
			if ok, _ := auth.CheckPassword(u.PasswordHash, pw); ok {
				password = pw
			}
		}
		return u.Disabled(), password
	}
	if disabled, pw := user(); !disabled || pw != "second-password" {
		t.Fatalf("after disable-user and reset-password: disabled %v, password %q", disabled, pw)
	}
	if out, err := cli(t, "", "admin", "enable-user", "--data", dir, "--login", "zhao"); err != nil || !strings.Contains(out, "enabled zhao") {
		t.Fatalf("enable-user: %v %q", err, out)
	}
	if disabled, _ := user(); disabled {
		t.Fatal("enable-user left the account disabled")
	}
}

// TestMetricsOnlyOnTheirListener runs `fieldsync serve --metrics-addr` in
// this process: the API listener answers 404 for /metrics, the metrics
// listener serves them, and both stop with the server.
func TestMetricsOnlyOnTheirListener(t *testing.T) {
	p := serveInProcess(t, t.TempDir(), func(name string) string {
		if name == "FIELDSYNC_METRICS_ADDR" {
			return "127.0.0.1:0"
		}
		return ""
	})
	at := struct{ Addr, Metrics string }{p.addr, p.metrics}
	if at.Metrics == "" || at.Metrics == at.Addr {
		t.Fatalf("the log names no metrics listener of its own: %+v", at)
	}
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if status, _ := get("http://" + at.Addr + "/healthz"); status != 200 {
		t.Fatalf("healthz: %d", status)
	}
	if status, body := get("http://" + at.Addr + "/metrics"); status != 404 {
		t.Fatalf("the API listener serves /metrics: %d %.200s", status, body)
	}
	status, body := get("http://" + at.Metrics + "/metrics")
	if want := `fieldsync_http_requests_total{method="GET",route="/healthz",status="200"} 1`; status != 200 || !strings.Contains(body, want) {
		t.Fatalf("metrics listener: %d, lacks %s", status, want)
	}
	p.stop()
	if err := <-p.done; err != nil {
		t.Fatalf("serve returned %v:\n%s", err, p.logs.String())
	}
	if _, err := http.Get("http://" + at.Metrics + "/metrics"); err == nil {
		t.Fatal("the metrics listener outlived the server")
	}
}
