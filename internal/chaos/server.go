package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is the fieldsync binary running as a child process; kill and
// start again keep the same data directory.
type server struct {
	binary, data string
	env          []string
	logs         *os.File // the children's stderr, appended across restarts

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	addr string
}

// start runs `fieldsync serve` on a free loopback port and waits for its
// "listening" log line.
func (s *server) start(ctx context.Context) error {
	cmd := exec.Command(s.binary, "serve", "--addr", "127.0.0.1:0", "--data", s.data)
	cmd.Env = append(os.Environ(), s.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: start server: %w", err)
	}
	addrc := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if s.logs != nil {
				s.logs.Write(append(line, '\n'))
			}
			if addr, ok := listeningAt(line); ok {
				addrc <- addr
			}
		}
		cmd.Wait()
	}()
	select {
	case addr := <-addrc:
		s.mu.Lock()
		s.cmd, s.done, s.addr = cmd, done, addr
		s.mu.Unlock()
		return nil
	case <-done:
		return fmt.Errorf("chaos: server exited before listening (log: %s)", s.logName())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("chaos: server did not listen within 2 minutes (log: %s)", s.logName())
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

func (s *server) url() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr
}

func (s *server) logName() string {
	if s.logs == nil {
		return "discarded"
	}
	return s.logs.Name()
}

// listeningAt reads the server's "listening" log line.
func listeningAt(line []byte) (string, bool) {
	if !bytes.Contains(line, []byte(`"listening"`)) {
		return "", false
	}
	var rec struct{ Msg, Addr string }
	if json.Unmarshal(line, &rec) != nil || rec.Msg != "listening" || !strings.Contains(rec.Addr, ":") {
		return "", false
	}
	return rec.Addr, true
}
