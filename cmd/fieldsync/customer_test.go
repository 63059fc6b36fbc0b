package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testenv"
)

// TestDemoCustomerReadsTheirReport runs the demo through the real binary:
// a technician attaches a photo and syncs; the demo customer's own login
// then finds its customer record, the visit's report with the photo, and
// the photo's bytes.
func TestDemoCustomerReadsTheirReport(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db, visit := techOnScheduledVisit(t, addr, pw["tech.li"])
	photo := testenv.NoiseJPEG(320, 240, 5)
	path := filepath.Join(t.TempDir(), "fault.jpg")
	if err := os.WriteFile(path, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	mustTech(t, db, "attach", visit, "fault", path)
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "verified") {
		t.Fatalf("sync:\n%s", out)
	}

	cust := loginHTTP(t, p, "customer.liu", pw["customer.liu"], "phone-liu")
	var me struct {
		Role      string
		Customers []struct{ ID string }
	}
	getJSON(t, p, cust, "/v1/me", &me)
	if me.Role != "customer" || len(me.Customers) != 1 {
		t.Fatalf("customer.liu's /v1/me: %+v", me)
	}
	var v struct {
		TicketID string `json:"ticket_id"`
		Customer struct{ ID string }
	}
	getJSON(t, p, cust, "/v1/visits/"+visit, &v)
	if v.Customer.ID != me.Customers[0].ID {
		t.Fatalf("the visit's customer %q is not customer.liu's %q", v.Customer.ID, me.Customers[0].ID)
	}
	var reports struct {
		Items []struct {
			VisitID string `json:"visit_id"`
			Photos  []struct{ SHA256, URL string }
		}
	}
	getJSON(t, p, cust, "/v1/reports?ticket="+v.TicketID, &reports)
	sum := sha256.Sum256(photo)
	want := hex.EncodeToString(sum[:])
	if len(reports.Items) != 1 || reports.Items[0].VisitID != visit || len(reports.Items[0].Photos) != 1 || reports.Items[0].Photos[0].SHA256 != want {
		t.Fatalf("customer.liu's reports: %+v", reports.Items)
	}
	for _, method := range []string{"HEAD", "GET"} {
		req, _ := http.NewRequest(method, p.url(reports.Items[0].Photos[0].URL), nil)
		req.Header.Set("Authorization", "Bearer "+cust)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || method == "GET" && string(body) != string(photo) {
			t.Fatalf("%s of the photo: %d (%d bytes)", method, res.StatusCode, len(body))
		}
	}
}

// techOnScheduledVisit signs tech.li in on a new tablet database and
// returns the database and the last of tech.li's scheduled visits.
func techOnScheduledVisit(t *testing.T, addr, password string) (db, visit string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, password+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	for _, line := range strings.Split(mustTech(t, db, "visits"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "scheduled" {
			visit = f[0]
		}
	}
	return db, visit
}
