package testenv

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// KillWriter runs the test binary's own test helper (a test that writes
// until it is killed, printing "ack <i>" once write i has committed, and
// "error: …" on a failure) with env added to the environment, and kills it
// with SIGKILL after killAfter acknowledgements, at a random moment up to
// jitter later so that the kill lands anywhere in a write. It returns the
// last acknowledged i; the acks must count up by one from first (from
// wherever the writer starts when first is negative).
func KillWriter(t testing.TB, helper string, env []string, first int64, killAfter int, jitter time.Duration) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill() // a failed test's writer must not outlive it
			_ = cmd.Wait()
		}
	}()
	// The writer never stops by itself: bound the whole run.
	watchdog := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer watchdog.Stop()

	last, acks := first-1, 0
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		n, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			if strings.HasPrefix(line, "error:") {
				t.Fatalf("writer: %s", line)
			}
			continue
		}
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil || (acks > 0 || first >= 0) && i != last+1 {
			t.Fatalf("writer acknowledged %q after %d", line, last)
		}
		last = i
		if acks++; acks == killAfter && !killed {
			if jitter > 0 {
				time.Sleep(rand.N(jitter))
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Acks already in the pipe when the kill landed were read above.
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the writer stopped by itself after %d acks: %v\n%s", acks, err, stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the writer ended with %v, want killed by SIGKILL\n%s", err, stderr.String())
	}
	return last
}
