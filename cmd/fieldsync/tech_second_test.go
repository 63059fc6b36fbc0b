package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
)

// A technician ends a visit needing a second one offline, naming the
// parts on the command line; the server keeps them on the visit.
func TestTechSecondVisitWithTheCLI(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	mustTech(t, db, "sync") // the price list
	visit := ""
	for _, line := range strings.Split(mustTech(t, db, "visits"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "scheduled" {
			visit = f[0]
		}
	}
	if visit == "" {
		t.Fatal("tech.li has no scheduled visit")
	}
	mustTech(t, db, "depart", visit)
	mustTech(t, db, "arrive", visit)
	if out, err := techCLI(t, db, "", "second-visit", visit, "--part", "tv-laser"); err == nil || !strings.Contains(err.Error(), `"tv-laser" is not a part of the price list`) {
		t.Fatalf("an unknown part: %v\n%s", err, out)
	}
	out := mustTech(t, db, "second-visit", visit, "--part", "tv-mainboard", "--part=tv-remotex2", "--note", "主板烧毁")
	if !strings.Contains(out, "second-visit recorded") {
		t.Fatalf("second-visit:\n%s", out)
	}
	mustTech(t, db, "sync")

	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var v fieldsync.Visit
	getJSON(t, p, dispatcher, "/v1/visits/"+visit, &v)
	want := []fieldsync.PartNeed{{Code: "tv-mainboard", Qty: 1}, {Code: "tv-remote", Qty: 2}}
	if v.Status != fieldsync.VisitNeedsSecondVisit || v.SecondVisit == nil || v.SecondVisit.Note != "主板烧毁" ||
		len(v.SecondVisit.Parts) != 2 || v.SecondVisit.Parts[0] != want[0] || v.SecondVisit.Parts[1] != want[1] {
		t.Fatalf("the server's visit: %+v", v)
	}
}
