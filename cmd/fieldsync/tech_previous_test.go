package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// The technician of a second visit sees on the command line what the
// first found and the parts it asked for, lists only their own visit,
// and cannot record anything on the first.
func TestTechShowsTheFirstVisitOfASecondVisit(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	li := filepath.Join(t.TempDir(), "li.db")
	if out, err := techCLI(t, li, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	mustTech(t, li, "sync")
	first := ""
	for _, line := range strings.Split(mustTech(t, li, "visits"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "scheduled" {
			first = f[0]
		}
	}
	if first == "" {
		t.Fatal("tech.li has no scheduled visit")
	}
	mustTech(t, li, "depart", first)
	mustTech(t, li, "arrive", first)
	mustTech(t, li, "findings", first, "主板电容鼓包")
	mustTech(t, li, "second-visit", first, "--part", "tv-mainboard", "--note", "带主板")
	mustTech(t, li, "sync")

	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var v fieldsync.Visit
	getJSON(t, p, dispatcher, "/v1/visits/"+first, &v)
	status, body, err := postJSON(p.url("/v1/auth/login"), map[string]string{"login": "tech.zhang", "password": pw["tech.zhang"], "device_id": "probe"})
	if err != nil || status != 200 {
		t.Fatalf("login tech.zhang: %d %s %v", status, body, err)
	}
	var zhang struct{ User struct{ ID string } }
	if err := json.Unmarshal(body, &zhang); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(time.Hour).Truncate(time.Hour)
	var second struct{ ID string }
	send(t, p, dispatcher, "/v1/visits", map[string]any{"ticket_id": v.TicketID, "technician_id": zhang.User.ID,
		"window_start": start, "window_end": start.Add(2 * time.Hour)}, &second)

	db := filepath.Join(t.TempDir(), "zhang.db")
	if out, err := techCLI(t, db, pw["tech.zhang"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-zhang", "tech.zhang"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	mustTech(t, db, "sync")
	if out := mustTech(t, db, "visits"); !strings.Contains(out, second.ID) || strings.Contains(out, first) {
		t.Fatalf("tech.zhang's visits:\n%s", out)
	}
	var shown struct {
		Visit    fieldsync.Visit `json:"visit"`
		Previous struct {
			Visit       fieldsync.Visit        `json:"visit"`
			Reports     []fieldsync.Report     `json:"reports"`
			SecondVisit *fieldsync.SecondVisit `json:"second_visit"`
		} `json:"previous_visit"`
	}
	out := mustTech(t, db, "show", second.ID, "--json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if shown.Visit.ID != second.ID || shown.Previous.Visit.ID != first || len(shown.Previous.Reports) != 1 || shown.Previous.Reports[0].Findings != "主板电容鼓包" ||
		shown.Previous.SecondVisit == nil || shown.Previous.SecondVisit.Note != "带主板" || len(shown.Previous.SecondVisit.Parts) != 1 || shown.Previous.SecondVisit.Parts[0].Code != "tv-mainboard" {
		t.Fatalf("show %s:\n%s", second.ID, out)
	}
	if out := mustTech(t, db, "show", second.ID); !strings.Contains(out, "second visit after "+first) || !strings.Contains(out, "主板电容鼓包") ||
		!strings.Contains(out, "bring    tv-mainboard ×1") || !strings.Contains(out, "带主板") {
		t.Fatalf("show %s as text:\n%s", second.ID, out)
	}
	if out, err := techCLI(t, db, "", "findings", first, "x"); err == nil || !strings.Contains(err.Error(), "not to work on") {
		t.Fatalf("tech.zhang edits the first visit: %v\n%s", err, out)
	}
}
