package testenv

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// MinIOBinEnv names the environment variable scripts/test.sh sets to the
// minio binary it installed.
const MinIOBinEnv = "FIELDSYNC_MINIO_BIN"

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 5 * time.Second
	// Ports are picked by binding :0 and releasing them, so another process
	// can grab one before minio binds it; a fresh pair usually succeeds.
	startAttempts = 3
)

// MinIOServer is a running MinIO instance private to one test.
type MinIOServer struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string
}

// MinIO starts a MinIO server with an empty data directory and stops it
// when the test ends. The server's log is shown only if the test fails.
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	bin := minioBinary(t)
	dir := t.TempDir()
	srv := &MinIOServer{AccessKey: rand.Text(), SecretKey: rand.Text()}

	var lastErr error
	for range startAttempts {
		endpoint, err := srv.start(t, bin, dir)
		if err == nil {
			srv.Endpoint = endpoint
			return srv
		}
		lastErr = err
	}
	t.Fatalf("testenv: minio did not start after %d attempts: %v", startAttempts, lastErr)
	return nil
}

// Client returns a minio-go client authenticated as the root user.
func (s *MinIOServer) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure: false,
	})
	if err != nil {
		t.Fatalf("testenv: minio client for %s: %v", s.Endpoint, err)
	}
	return c
}

// start runs one minio process and waits for it to serve. A process that
// exits early is reported as an error so the caller can retry with new
// ports; one that is running is owned by a t.Cleanup from then on.
func (s *MinIOServer) start(t testing.TB, bin, dir string) (string, error) {
	t.Helper()
	addr, err := freeLoopbackAddr()
	if err != nil {
		return "", err
	}
	console, err := freeLoopbackAddr()
	if err != nil {
		return "", err
	}

	out := &Buffer{}
	cmd := exec.Command(bin, "server",
		"--address", addr,
		"--console-address", console,
		// Keep minio from creating ~/.minio/certs on the developer's machine.
		"--certs-dir", filepath.Join(dir, ".certs"),
		filepath.Join(dir, "data"),
	)
	// Later entries win, so these override anything the caller exported.
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		// CI/CD mode caps minio's buffer pool at 256 MiB instead of half
		// the machine's memory, which matters when parallel test binaries
		// each run a server.
		"MINIO_CI_CD=on",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	if err := waitLive(addr, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		if waitErr != nil {
			err = fmt.Errorf("%w (%v)", err, waitErr)
		}
		return "", fmt.Errorf("%w; minio output:\n%s", err, out.String())
	}

	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("minio server %s output:\n%s", addr, out.String())
		}
	})
	return addr, nil
}

// waitLive polls the liveness endpoint until minio answers 200 with its
// object layer up. Liveness alone turns 200 before the object layer is
// initialised (it flags that with a status header), and a test that raced
// ahead would see "Server not initialized" on its first request.
func waitLive(addr string, exited <-chan struct{}) error {
	url := "http://" + addr + "/minio/health/live"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("X-Minio-Server-Status") != "offline" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minio at %s not live after %v", addr, startTimeout)
		}
		select {
		case <-exited:
			return errors.New("minio exited before becoming live")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// minioBinary finds the minio server binary or ends the test. An explicit
// FIELDSYNC_MINIO_BIN is authoritative: silently falling back from a path
// someone set on purpose would test against a binary they did not choose.
func minioBinary(t testing.TB) string {
	t.Helper()
	var tried []string
	if bin := os.Getenv(MinIOBinEnv); bin != "" {
		if isExecutable(bin) {
			return bin
		}
		tried = append(tried, fmt.Sprintf("%s=%s", MinIOBinEnv, bin))
	} else {
		if root, ok := moduleRoot(); ok {
			bin := filepath.Join(root, ".cache", "bin", "minio")
			if isExecutable(bin) {
				return bin
			}
			tried = append(tried, bin)
		}
		if bin, err := exec.LookPath("minio"); err == nil {
			return bin
		}
		tried = append(tried, "minio on $PATH")
	}

	msg := fmt.Sprintf("testenv: minio server binary not found (tried %s); run the tests with scripts/test.sh, which installs it", strings.Join(tried, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// moduleRoot walks up from the working directory, which go test sets to
// the package's directory, to the directory holding go.mod.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
