package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/testenv"
)

// demoServe is a running `fieldsync serve --demo` and what it printed.
type demoServe struct {
	cmd            *exec.Cmd
	stdout, stderr testenv.Buffer
	done           chan error
}

// startDemoServe starts `fieldsync serve --demo` over dir and waits until
// it logs that it listens.
func startDemoServe(t *testing.T, dir string) *demoServe {
	t.Helper()
	s := &demoServe{done: make(chan error, 1)}
	s.cmd = exec.Command(binary(t), "serve", "--demo", "--addr", "127.0.0.1:0", "--data", dir)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", s.stdout.String(), s.stderr.String())
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(s.stderr.String(), `"msg":"listening"`) {
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup
			t.Fatalf("serve --demo exited: %v\n%s", err, s.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve --demo does not listen:\n%s", s.stderr.String())
		}
	}
	return s
}

func (s *demoServe) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-s.done; err != nil {
		t.Fatalf("serve --demo did not stop cleanly: %v", err)
	}
	s.done <- nil
}

// TestServeDemoFillsAnEmptyDirectoryOnce runs `serve --demo` on a missing
// data directory: it fills it, prints the logins and the URLs, and a
// printed login signs in; a second start on the same directory serves
// what is there, says the demo was not loaded and prints no logins.
func TestServeDemoFillsAnEmptyDirectoryOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // missing: serve makes it
	s := startDemoServe(t, dir)
	out := s.stdout.String()
	var base string
	passwords := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && strings.Count(f[2], "-") == 2:
			passwords[f[1]] = f[2]
		case len(f) == 3 && f[0] == "Serving" && f[1] == "at":
			base = strings.TrimSuffix(f[2], ":")
		}
	}
	if len(passwords) != 6 || base == "" || !strings.Contains(out, base+"/openapi.json") || !strings.Contains(out, base+"/healthz") || !strings.Contains(out, base+"/v1/") {
		t.Fatalf("serve --demo printed, want 6 logins and the URLs:\n%s", out)
	}
	p := &process{addr: strings.TrimPrefix(base, "http://")}
	p.front = testenv.OpenAPIProxyAt(t, openAPISpec(t), base, "127.0.0.1:0")
	token := loginHTTP(t, p, "dispatcher", passwords["dispatcher"], "laptop")
	var visits struct{ Items []any }
	getJSON(t, p, token, "/v1/visits", &visits)
	if len(visits.Items) != 10 {
		t.Fatalf("the demo served %d visits, want 10", len(visits.Items))
	}
	p.front.Close()
	s.stop(t)

	again := startDemoServe(t, dir)
	if !strings.Contains(again.stderr.String(), "the demo data was not loaded") || strings.Contains(again.stdout.String(), "Logins") {
		t.Fatalf("a second serve --demo on the same directory:\nstdout:\n%s\nstderr:\n%s", again.stdout.String(), again.stderr.String())
	}
	p = &process{addr: strings.TrimPrefix(base, "http://")}
	addr, _ := listeningLine(again.stderr.String())
	p.addr = addr
	token = loginHTTP(t, p, "dispatcher", passwords["dispatcher"], "laptop")
	getJSON(t, p, token, "/v1/visits", &visits)
	if len(visits.Items) != 10 {
		t.Fatalf("after a second start: %d visits, want the first start's 10", len(visits.Items))
	}
}

// listeningLine finds the address of the "listening" log line in logs.
func listeningLine(logs string) (string, bool) {
	for _, line := range strings.Split(logs, "\n") {
		if addr, ok := listeningAt([]byte(line)); ok {
			return addr, true
		}
	}
	return "", false
}

// TestServeOnAnEmptyDirectorySaysHowToCreateTheFirstAdmin starts a plain
// `serve` on an empty data directory: its log gives the exact command
// that creates the first admin, and that command, run as printed with the
// server stopped, makes an account that signs in.
func TestServeOnAnEmptyDirectorySaysHowToCreateTheFirstAdmin(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir, "127.0.0.1:0")
	var command string
	for _, line := range strings.Split(p.logs(), "\n") {
		if _, after, ok := strings.Cut(line, "create the first admin with: "); ok {
			command, _, _ = strings.Cut(after, " (or start with --demo")
		}
	}
	if !strings.HasPrefix(command, "echo 'choose-a-password' | fieldsync admin add-user --data "+dir+" ") {
		t.Fatalf("serve on an empty directory logs no first-admin command:\n%s", p.logs())
	}
	stop(t, p)
	sh := exec.Command("sh", "-c", strings.Replace(command, "fieldsync", binary(t), 1))
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
	p = startServe(t, dir, "127.0.0.1:0")
	loginHTTP(t, p, "admin", "choose-a-password", "laptop")
	if strings.Contains(p.logs(), "first admin") {
		t.Fatalf("serve with an account still asks for the first admin:\n%s", p.logs())
	}
}
