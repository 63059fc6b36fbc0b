package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// What a server killed mid-request leaves (a PATCH body in the spool, a
// thumbnail's temporary file, an upload file never recorded) is gone once
// the next server has started, before it serves anything.
func TestServeSweepsWhatAKilledServerLeft(t *testing.T) {
	dir := t.TempDir()
	p := serveProcess(t, dir)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil

	d := dataDir(dir)
	const upload = "0190f000-0000-7000-8000-00000000dead"
	left := []string{
		filepath.Join(d.spool(), "patch-"+upload+"-1234567"),
		filepath.Join(d.media(), "tmp", "put-7654321"),
		filepath.Join(d.media(), "uploads", upload),
	}
	for _, f := range left {
		if err := os.WriteFile(f, []byte("half a photo"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	again := serveProcess(t, dir)
	for _, f := range left {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s outlived a restart", f)
		}
	}
	if logs := again.logs(); !strings.Contains(logs, `"files":3`) {
		t.Errorf("the restarted server did not say it removed 3 files:\n%s", logs)
	}
	for _, sub := range []string{d.spool(), d.media()} {
		if fi, err := os.Stat(sub); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want a directory of mode 0700", sub, fi.Mode(), err)
		}
	}
}
