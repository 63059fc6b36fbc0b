package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// TestTechAddendum corrects a sealed report from the command line: refused
// while the report's seal has not reached the tablet, then made offline,
// answered, signed, synced and sealed; the dispatcher sees the report list
// it.
func TestTechAddendum(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	visits := unreportedVisits(t, db)
	if len(visits) == 0 {
		t.Fatal("tech.li has no visit without a report")
	}
	visit := visits[0]
	noPhotos := func(tpl fieldsync.Template) []string {
		var args []string
		for _, slot := range tpl.RequiredSlots() {
			args = append(args, "--no-photo", slot+"=the customer kept it")
		}
		return args
	}
	bundle := func() fieldsync.VisitBundle {
		var b fieldsync.VisitBundle
		if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", visit)), &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	// sealed syncs until every report of the visit is sealed on the tablet.
	sealed := func(n int) fieldsync.VisitBundle {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			mustTech(t, db, "sync")
			b := bundle()
			done := len(b.Reports) == n
			for _, r := range b.Reports {
				done = done && r.Status == fieldsync.ReportSealed
			}
			if done {
				return b
			}
			if time.Now().After(deadline) {
				t.Fatalf("the visit's reports are not sealed: %+v", b.Reports)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	if out, err := techCLI(t, db, "", "addendum", visit); err == nil || !strings.Contains(err.Error()+out, "has no report to correct") {
		t.Fatalf("an addendum of a visit without a report: %v\n%s", err, out)
	}
	tpl := answerRequired(t, db, visit)
	mustTech(t, db, append([]string{"sign", visit}, noPhotos(tpl)...)...)
	if out, err := techCLI(t, db, "", "addendum", visit); err == nil || !strings.Contains(err.Error()+out, "is signed, not sealed: wait for its seal") {
		t.Fatalf("an addendum of a report not yet sealed: %v\n%s", err, out)
	}
	original := sealed(1).Reports[0]

	out := mustTech(t, db, "addendum", visit)
	m := regexp.MustCompile(`addendum (\S+) of report (\S+) made`).FindStringSubmatch(out)
	if m == nil || m[2] != original.ID {
		t.Fatalf("tech addendum said:\n%s", out)
	}
	addendum := m[1]
	answerRequired(t, db, visit) // on the addendum, the visit's draft
	mustTech(t, db, "findings", visit, "屏幕裂痕为运输所致")
	mustTech(t, db, append([]string{"sign", visit}, noPhotos(tpl)...)...)
	b := sealed(2)
	i := slices.IndexFunc(b.Reports, func(r fieldsync.Report) bool { return r.ID == addendum })
	if i < 0 || b.Reports[i].Corrects != original.ID || b.Reports[i].Findings != "屏幕裂痕为运输所致" {
		t.Fatalf("the visit's reports: %+v", b.Reports)
	}
	if j := slices.IndexFunc(b.Reports, func(r fieldsync.Report) bool { return r.ID == original.ID }); b.Reports[j].Findings != original.Findings || *b.Reports[j].Seal != *original.Seal {
		t.Fatalf("the corrected report changed: %+v", b.Reports[j])
	}

	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var view struct{ Addenda []string }
	getJSON(t, p, dispatcher, "/v1/reports/"+original.ID, &view)
	if !slices.Equal(view.Addenda, []string{addendum}) {
		t.Fatalf("the dispatcher sees addenda %v, want [%s]", view.Addenda, addendum)
	}
}
