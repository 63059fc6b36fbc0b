package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// TestBackupUnderPushLoad takes a backup through the API while several
// tablets push as fast as the server answers, restores it into a fresh
// data directory, and finds there every push acknowledged before the
// backup was asked for, each in the audit trail of its report.
func TestBackupUnderPushLoad(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	p := serveProcess(t, dir)
	admin := loginHTTP(t, p, "admin", pw["admin"], "admin-pc")

	const devices = 4
	tokens, installs := make([]string, devices), make([]string, devices)
	for w := range tokens {
		s := loginSession(t, p, "tech.li", pw["tech.li"], fmt.Sprintf("tab-load-%d", w), "")
		tokens[w], installs[w] = s.AccessToken, s.InstallID
	}
	var visits struct{ Items []struct{ ID string } }
	getJSON(t, p, tokens[0], "/v1/visits", &visits)
	if len(visits.Items) == 0 {
		t.Fatal("tech.li has no visit")
	}
	visit := visits.Items[0].ID

	var (
		mu    sync.Mutex
		acked = make([]int, devices) // per device, the last seq answered `applied`
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	ackedNow := func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), acked...)
	}
	for w := range devices {
		wg.Go(func() {
			device := fmt.Sprintf("tab-load-%d", w)
			for seq := 1; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				fields := map[string]any{"findings": fmt.Sprintf("%d-%d", w, seq)}
				if seq == 1 {
					fields["visit_id"], fields["template_id"] = visit, "tv-v1"
				}
				push := map[string]any{"device_id": device, "install_id": installs[w], "mutations": []map[string]any{{
					"seq": seq, "entity": "report", "id": fmt.Sprintf("rep-load-%d", w), "op": "upsert", "fields": fields,
					"hlc": fmt.Sprintf("%d:%d:%s", time.Now().UnixMilli(), seq, device),
				}}}
				var resp struct {
					Results []struct{ Status, Code, Detail string }
				}
				if status, err := pushHTTP(p, tokens[w], push, &resp); err != nil || status != 200 || len(resp.Results) != 1 || resp.Results[0].Status != "applied" {
					t.Errorf("push %d of %s: %d %v %+v", seq, device, status, err, resp.Results)
					return
				}
				mu.Lock()
				acked[w] = seq
				mu.Unlock()
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	waitFor(t, "every tablet to have pushed 20 times", func() bool { return minOf(ackedNow()) >= 20 })

	before := ackedNow() // answered before the backup is asked for
	req, _ := http.NewRequest("GET", p.url("/v1/admin/backup"), nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("backup: %d %v %.200s", res.StatusCode, err, body)
	}
	if res.ContentLength != int64(len(body)) || res.Header.Get("Content-Type") != "application/octet-stream" ||
		!regexp.MustCompile(`^attachment; filename="fieldsync-\d{8}T\d{6}Z\.db"$`).MatchString(res.Header.Get("Content-Disposition")) {
		t.Fatalf("backup answer: %d bytes, headers %v", len(body), res.Header)
	}
	// The pushes went on while the backup was taken.
	waitFor(t, "pushes after the backup", func() bool { return minOf(ackedNow()) > maxOf(before)+2 })
	t.Logf("backup of %d bytes; pushes acknowledged per tablet before it %v, by now %v", len(body), before, ackedNow())

	file := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"admin", "restore", "--data", fresh, file}, func(string) string { return "" }, nil, &out, &errb); err != nil {
		t.Fatalf("restore: %v %s", err, errb.String())
	}
	if _, err := bolt.CheckBackup(filepath.Join(fresh, "fieldsync.db")); err != nil {
		t.Fatalf("the restored file: %v", err)
	}
	store, err := bolt.Open(filepath.Join(fresh, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for w, last := range before {
		found := map[string]bool{}
		for cursor := ""; ; {
			entries, next, err := store.Audit(t.Context(), fieldsync.AuditFilter{Entity: fieldsync.EntityReport, ID: fmt.Sprintf("rep-load-%d", w), Cursor: cursor, Limit: fieldsync.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				var findings string
				json.Unmarshal(e.Changes["findings"].To, &findings)
				found[findings] = true
			}
			if cursor = next; next == "" {
				break
			}
		}
		for seq := 1; seq <= last; seq++ {
			if !found[fmt.Sprintf("%d-%d", w, seq)] {
				t.Errorf("tab-load-%d: push %d was acknowledged before the backup began but is not in it", w, seq)
			}
		}
	}
}

func pushHTTP(p *process, token string, push, out any) (int, error) {
	raw, _ := json.Marshal(push)
	req, _ := http.NewRequest("POST", p.url("/v1/sync/push"), bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	return res.StatusCode, json.NewDecoder(res.Body).Decode(out)
}

// waitFor waits, with a generous deadline, until ok holds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

func minOf(xs []int) int {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []int) int {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// TestBackupAndRestoreWithTheBinary is an operator's night: back up a
// running server with `fieldsync admin backup`, lose what came after,
// find restore refused while the server runs and for a file that is no
// backup, stop the server, restore, and start it on the backup.
func TestBackupAndRestoreWithTheBinary(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	p := serveProcess(t, dir)
	file := filepath.Join(t.TempDir(), "nightly.db")
	cli := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(binary(t), args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	if out, err := cli("not-the-password\n", "admin", "backup", "--server", p.url(""), "--out", file, "--password-stdin"); err == nil || !strings.Contains(out, "bad_credentials") {
		t.Fatalf("a backup with a wrong password: %v\n%s", err, out)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("a refused backup left a file: %v", err)
	}
	out, err := cli(pw["admin"]+"\n", "admin", "backup", "--server", p.url(""), "--out", file, "--password-stdin")
	if err != nil || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if left, _ := filepath.Glob(file + ".*"); len(left) != 0 {
		t.Fatalf("backup left temporary files: %v", left)
	}
	loginHTTP(t, p, "dispatcher", pw["dispatcher"], "after-the-backup")

	if out, err := cli("", "admin", "restore", "--data", dir, file); err == nil || !strings.Contains(out, "stop `fieldsync serve`") {
		t.Fatalf("restore while the server runs: %v\n%s", err, out)
	}
	stop(t, p)
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 4096), 0o600)
	if out, err := cli("", "admin", "restore", "--data", dir, junk); err == nil || !strings.Contains(out, "not a backup") {
		t.Fatalf("restore of a file that is no backup: %v\n%s", err, out)
	}
	out, err = cli("", "admin", "restore", "--data", dir, file)
	if err != nil || !strings.Contains(out, "kept at") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if aside, _ := filepath.Glob(filepath.Join(dir, "fieldsync.db.replaced-*")); len(aside) != 1 {
		t.Fatalf("the replaced store is not kept: %v", aside)
	}

	p = serveProcess(t, dir)
	var devices struct{ Items []struct{ ID string } }
	getJSON(t, p, loginHTTP(t, p, "admin", pw["admin"], "admin-pc"), "/v1/devices", &devices)
	for _, d := range devices.Items {
		if d.ID == "after-the-backup" {
			t.Fatal("the restored store holds a login made after the backup")
		}
	}
}

// TestSaveBackupNeverLeavesAHalfFile feeds the download a cut body and a
// whole one that is no store: neither leaves a file at --out.
func TestSaveBackupNeverLeavesAHalfFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.db")
	tests := []struct {
		name string
		body string
		size int64
		want string
	}{
		{"a body cut short", "abc", 4096, "cut"},
		{"a whole body that is no store", strings.Repeat("x", 4096), 4096, "not a backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := saveBackup(strings.NewReader(tt.body), tt.size, out); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("saveBackup = %v, want %q", err, tt.want)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(left) != 0 {
				t.Fatalf("files left: %v", left)
			}
		})
	}
}
