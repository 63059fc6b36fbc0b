package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// postAs posts body as JSON with token and decodes the answer into out,
// failing t unless it is 201.
func postAs(t *testing.T, p *process, token, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", p.url(path), bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 {
		t.Fatalf("POST %s: %d %s", path, res.StatusCode, raw)
	}
	json.Unmarshal(raw, out)
}

// TestTechPickup makes a pick-up slip from the command line, offline: a
// TV bought three days ago may be returned; the slip checks box, remote
// and stand, deducts the missing remote and stand in yuan, and is refused
// for a kind the warranty decision does not offer.
func TestTechPickup(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	// A new ticket for the customer of one of tech.li's visits, about a TV
	// invoiced three days ago, with a visit of tech.li.
	var demo fieldsync.VisitBundle
	if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", unreportedVisits(t, db)[0])), &demo); err != nil {
		t.Fatal(err)
	}
	disp := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var a, tk, v struct{ ID string }
	invoice := time.Now().In(calendar.Location()).AddDate(0, 0, -3).Format(time.DateOnly)
	postAs(t, p, disp, "/v1/assets", map[string]string{"customer_id": demo.Ticket.CustomerID, "category": "tv", "model": "55E3K", "serial": "SN-PICKUP", "invoice_date": invoice}, &a)
	postAs(t, p, disp, "/v1/tickets", map[string]string{"customer_id": demo.Ticket.CustomerID, "site_id": demo.Ticket.SiteID, "asset_id": a.ID, "channel": "hotline", "kind": "repair", "description": "开机黑屏"}, &tk)
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	postAs(t, p, disp, "/v1/visits", map[string]any{"ticket_id": tk.ID, "technician_id": demo.Visit.TechnicianID, "window_start": start, "window_end": start.Add(2 * time.Hour)}, &v)
	mustTech(t, db, "sync")

	stop(t, p) // offline from here on
	mustTech(t, db, "depart", v.ID)
	mustTech(t, db, "arrive", v.ID)
	answerRequired(t, db, v.ID)
	if out, err := techCLI(t, db, "", "pickup", v.ID, "return"); err == nil || !strings.Contains(err.Error(), "pickup_not_offered") {
		t.Fatalf("a pick-up before the warranty decision: %v\n%s", err, out)
	}
	mustTech(t, db, "responsibility", v.ID, "quality")
	mustTech(t, db, "warranty", v.ID, "unit", "unworn", "labels-intact", "serial-intact", "missing=remote", "missing=stand")
	if out, err := techCLI(t, db, "", "pickup", v.ID, "refund"); err == nil || !strings.Contains(err.Error(), "return|exchange") {
		t.Fatalf("an unknown kind: %v\n%s", err, out)
	}
	if out, err := techCLI(t, db, "", "pickup", v.ID, "return", "--missing", "antenna"); err == nil || !strings.Contains(err.Error(), "box, remote, stand") {
		t.Fatalf("an accessory a TV does not have: %v\n%s", err, out)
	}
	out := mustTech(t, db, "pickup", v.ID, "return", "--missing", "remote,stand")
	for _, want := range []string{"pickup: return of a tv", "box            present", "remote         MISSING", "deduct remote  ¥35.00", "deduct stand   ¥80.00", "deducted from the refund: ¥115.00", "slip kept in the report"} {
		if !strings.Contains(out, want) {
			t.Fatalf("tech pickup: no %q in\n%s", want, out)
		}
	}
}
