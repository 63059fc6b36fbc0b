package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReinstalledTabletWithTheCLI: a technician works on tab.db, syncs,
// loses the file (a reinstalled app) and signs in again with the same
// device id: the work of the new file is applied, not taken for the old
// file's seqs and answered duplicate.
func TestReinstalledTabletWithTheCLI(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")
	login := func() {
		t.Helper()
		if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil || !strings.Contains(out, "signed in as tech.li") {
			t.Fatalf("login: %v\n%s", err, out)
		}
	}
	scheduled := func() []string { // the visits tech.li has not started
		t.Helper()
		var out []string
		for _, line := range strings.Split(mustTech(t, db, "visits"), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[1] == "scheduled" {
				out = append(out, f[0])
			}
		}
		return out
	}

	login()
	visits := scheduled()
	if len(visits) == 0 {
		t.Fatal("tech.li has no scheduled visit")
	}
	visit := visits[0]
	mustTech(t, db, "depart", visit)
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "pushed 1 (applied 1, duplicate 0, refused 0)") {
		t.Fatalf("first sync:\n%s", out)
	}

	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	login()
	mustTech(t, db, "arrive", visit)
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "pushed 1 (applied 1, duplicate 0, refused 0)") {
		t.Fatalf("the reinstalled tablet's sync:\n%s", out)
	}
	for _, line := range strings.Split(mustTech(t, db, "visits"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == visit && f[1] != "on_site" {
			t.Errorf("after the reinstall the server has %s", line)
		}
	}
}
