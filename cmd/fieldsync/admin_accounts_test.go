package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/store/bolt"
)

func TestAdminAccountCommands(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
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
	var out bytes.Buffer
	if err := run(t.Context(), []string{"admin", "enable-user", "--data", dir, "--login", "zhao"}, env, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "enabled zhao") {
		t.Fatalf("enable-user: %v %q", err, out.String())
	}
	if disabled, _ := user(); disabled {
		t.Fatal("enable-user left the account disabled")
	}
}

// TestMetricsOnlyOnTheirListener runs `fieldsync serve --metrics-addr` in
// this process: the API listener answers 404 for /metrics, the metrics
// listener serves them, and both stop with the server.
func TestMetricsOnlyOnTheirListener(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs testenv.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, func(name string) string {
			if name == "FIELDSYNC_METRICS_ADDR" {
				return "127.0.0.1:0"
			}
			return ""
		}, nil, nil, &logs)
	}()
	var at struct{ Msg, Addr, Metrics string }
	deadline := time.Now().Add(30 * time.Second)
	for at.Addr == "" {
		for _, line := range strings.Split(logs.String(), "\n") {
			if json.Unmarshal([]byte(line), &at) == nil && at.Msg == "listening" {
				break
			}
			at.Addr = ""
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned %v before listening:\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve is not listening after 30s:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v:\n%s", err, logs.String())
	}
	if _, err := http.Get("http://" + at.Metrics + "/metrics"); err == nil {
		t.Fatal("the metrics listener outlived the server")
	}
}
