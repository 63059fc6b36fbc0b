package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/clientsdk"
)

// The CLI's tablet keeps its key in a 0600 file beside the database; after
// a sync with the demo data the file holds no customer's name, phone or
// address in clear. Revoked, the tablet forgets the server's records on
// its next contact and exports its unsynced work for a dispatcher.
func TestTechFileIsSealedAndARevokedTabletExportsItsWork(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	p := serveProcess(t, dir)
	db := filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", p.url(""), "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	if info, err := os.Stat(db + ".key"); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v %v", info, err)
	}

	var clear []string // what the device pulled that must not be readable in the file
	visit := ""
	for _, line := range strings.Split(mustTech(t, db, "visits", "--all"), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var b struct {
			Customer struct{ Name, Phone string }
			Site     struct{ Address string }
		}
		if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", f[0])), &b); err != nil {
			t.Fatal(err)
		}
		clear = append(clear, b.Customer.Name, b.Customer.Phone, b.Site.Address)
		if f[1] == "scheduled" {
			visit = f[0]
		}
	}
	if len(clear) == 0 || clear[0] == "" || visit == "" {
		t.Fatalf("tech.li pulled no customers or no scheduled visit: %q", clear)
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range clear {
		if s != "" && bytes.Contains(raw, []byte(s)) {
			t.Errorf("the tablet's file holds %q in clear", s)
		}
	}

	mustTech(t, db, "depart", visit)
	admin := loginHTTP(t, p, "admin", pw["admin"], "browser")
	req, _ := http.NewRequest("POST", p.url("/v1/devices/tab-li/revoke"), nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if out, err := techCLI(t, db, "", "sync"); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("sync of a revoked tablet: %v\n%s", err, out)
	}
	if out := mustTech(t, db, "visits"); strings.Contains(out, visit) {
		t.Errorf("a revoked tablet still lists its visits:\n%s", out)
	}
	export := filepath.Join(t.TempDir(), "pending.json")
	if out := mustTech(t, db, "export", export); !strings.Contains(out, "1 change(s)") {
		t.Errorf("export said:\n%s", out)
	}
	var doc clientsdk.PendingWork
	raw, err = os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Mutations) != 1 || doc.Mutations[0].ID != visit || doc.Mutations[0].Action != "depart" || doc.DeviceID != "tab-li" {
		t.Errorf("the export holds %+v", doc)
	}
	if info, err := os.Stat(export); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the export file: %v %v", info, err)
	}

	if err := os.Chmod(db+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := techCLI(t, db, "", "status"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key file others may read: %v", err)
	}
}
