package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
)

// TestTechWork records the work done offline from the command line; a
// malformed item is refused before anything is queued, naming what to
// fix; the completion synced makes the work order and the certificates
// the dispatcher reads.
func TestTechWork(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	visit := ""
	for _, line := range strings.Split(mustTech(t, db, "visits"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "scheduled" {
			visit = f[0]
		}
	}
	if visit == "" {
		t.Fatal("tech.li has no scheduled visit")
	}
	stop(t, p)

	mustTech(t, db, "depart", visit)
	mustTech(t, db, "arrive", visit)
	answerRequired(t, db, visit)
	for _, bad := range [][]string{{"work", visit}, {"work", visit, "Battery!"}, {"work", visit, "panel"}, {"work", visit, "battery", "--note"}} {
		if out, err := techCLI(t, db, "", bad...); err == nil {
			t.Fatalf("tech %v succeeded:\n%s", bad, out)
		} else if bad[len(bad)-1] == "panel" && !strings.Contains(err.Error(), "work[0].part") {
			t.Fatalf("tech %v: %v, want the line named", bad, err)
		}
	}
	out := mustTech(t, db, "work", visit, "major:PNL-55", "cablex2", "--note", "更换屏幕")
	if !strings.Contains(out, "work: major (PNL-55) x1") || !strings.Contains(out, "work: cable x2") {
		t.Fatalf("tech work:\n%s", out)
	}
	mustTech(t, db, "complete", visit)

	p = serveProcessAt(t, dir, addr)
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "refused 0") {
		t.Fatalf("sync:\n%s", out)
	}
	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var v struct {
		TicketID string `json:"ticket_id"`
	}
	getJSON(t, p, dispatcher, "/v1/visits/"+visit, &v)
	var orders struct{ Items []fieldsync.WorkOrder }
	getJSON(t, p, dispatcher, "/v1/workorders?ticket="+v.TicketID, &orders)
	if len(orders.Items) != 1 || len(orders.Items[0].Work) != 2 || orders.Items[0].Work[0] != (fieldsync.WorkLine{Part: "major", Code: "PNL-55", Qty: 1, Note: "更换屏幕"}) {
		raw, _ := json.Marshal(orders)
		t.Fatalf("work orders: %s", raw)
	}
	var certs struct{ Items []fieldsync.Certificate }
	getJSON(t, p, dispatcher, "/v1/assets/"+orders.Items[0].AssetID+"/certificates", &certs)
	if len(certs.Items) != 2 {
		t.Fatalf("certificates: %+v", certs.Items)
	}
}
