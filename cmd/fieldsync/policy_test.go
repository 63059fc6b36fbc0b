package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// policyCLI runs `fieldsync policy ARGS…` and returns its output.
func policyCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"policy"}, args...), func(string) string { return "" }, nil, &out, &out)
	return out.String(), err
}

// exportPolicies writes the default policy files into a new directory.
func exportPolicies(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policies")
	if out, err := policyCLI(t, "export", dir); err != nil {
		t.Fatalf("policy export: %v\n%s", err, out)
	}
	return dir
}

// editJSON rewrites the JSON file at path with edit.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	raw, _ = json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyExportCheckRoundTrip exports the defaults, checks them back
// (their kind told by their fields and given), and checks broken files:
// each is refused naming the file and what is wrong.
func TestPolicyExportCheckRoundTrip(t *testing.T) {
	dir := exportPolicies(t)
	var files []string
	for _, k := range policyKinds {
		files = append(files, filepath.Join(dir, k.name+".json"))
	}
	out, err := policyCLI(t, append([]string{"check"}, files...)...)
	if err != nil {
		t.Fatalf("check of the exported defaults: %v\n%s", err, out)
	}
	for _, k := range policyKinds {
		if !strings.Contains(out, "a valid "+k.name) {
			t.Fatalf("check did not tell %s:\n%s", k.name, out)
		}
	}
	if out, err := policyCLI(t, "check", "--kind", "price-list", files[3]); err != nil {
		t.Fatalf("check --kind price-list: %v\n%s", err, out)
	}
	if _, err := policyCLI(t, "export", dir); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("export over edited files: %v", err)
	}

	sla := filepath.Join(dir, "sla-policy.json")
	editJSON(t, sla, func(v map[string]any) { v["follow_up"].(map[string]any)["unit"] = "fortnights" })
	cal := filepath.Join(dir, "calendar.json")
	editJSON(t, cal, func(v map[string]any) { v["region"] = "" })
	prices := filepath.Join(dir, "price-list.json")
	editJSON(t, prices, func(v map[string]any) { v["callout_fen"] = 12.5 })
	stray := filepath.Join(dir, "stray.json")
	os.WriteFile(stray, []byte(`{"colour": "blue"}`), 0o600)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{sla}, []string{sla, "follow_up", "fortnights"}},
		{[]string{cal}, []string{cal, "region"}},
		{[]string{prices}, []string{prices, "callout_fen"}},
		{[]string{stray}, []string{stray, "--kind"}},
		{[]string{"--kind", "sla-policy", files[0]}, []string{files[0], "sla-policy"}},
		{[]string{"--kind", "menu", files[0]}, []string{"menu"}},
	} {
		_, err := policyCLI(t, append([]string{"check"}, tt.args...)...)
		if err == nil {
			t.Fatalf("check %v passed", tt.args)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("check %v: %q does not name %q", tt.args, err, w)
			}
		}
	}
}

// TestServeRefusesABadPolicyFile: a bad file stops the start, naming the
// flag, the file and the field.
func TestServeRefusesABadPolicyFile(t *testing.T) {
	dir := exportPolicies(t)
	warranty := filepath.Join(dir, "warranty-policy.json")
	editJSON(t, warranty, func(v map[string]any) { v["manufacture_grace"] = map[string]any{"amount": 0, "unit": "days"} })
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"by flag", []string{"--warranty-policy", warranty}, nil, []string{"--warranty-policy", warranty, "manufacture_grace"}},
		{"by environment", nil, map[string]string{"FIELDSYNC_WARRANTY_POLICY": warranty}, []string{"--warranty-policy", warranty, "manufacture_grace"}},
		{"a missing file", []string{"--price-list", filepath.Join(dir, "none.json")}, nil, []string{"--price-list", "none.json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, tt.args...)
			err := run(t.Context(), args, func(k string) string { return tt.env[k] }, nil, nil, &logs)
			if err == nil {
				t.Fatal("serve started with a bad policy file")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not name %q", err, w)
				}
			}
		})
	}
}

// TestServeWithPolicyFiles serves with every policy replaced by an edited
// file: the server's deadlines count on the file's numbers, a tablet
// pulls the files under the entity ids it knows, and the log names the
// files.
func TestServeWithPolicyFiles(t *testing.T) {
	data := t.TempDir()
	pw := demoLogins(t, data)
	dir := exportPolicies(t)
	file := func(kind string) string { return filepath.Join(dir, kind+".json") }
	editJSON(t, file("sla-policy"), func(v map[string]any) { v["first_contact"] = map[string]any{"amount": 7, "unit": "hours"} })
	editJSON(t, file("calendar"), func(v map[string]any) { v["source"] = "a deployment's own calendar" })
	editJSON(t, file("warranty-policy"), func(v map[string]any) {
		v["manufacture_grace"] = map[string]any{"amount": 77, "unit": "days"}
	})
	editJSON(t, file("price-list"), func(v map[string]any) { v["callout_fen"] = 4321 })

	p := serveProcessAt(t, data, freeAddr(t),
		"FIELDSYNC_SLA_POLICY="+file("sla-policy"), "FIELDSYNC_CALENDAR="+file("calendar"),
		"FIELDSYNC_WARRANTY_POLICY="+file("warranty-policy"), "FIELDSYNC_PRICE_LIST="+file("price-list"))
	for _, k := range policyKinds {
		if !strings.Contains(p.logs(), `"`+k.name+`":"`+file(k.name)+`"`) {
			t.Fatalf("the start log does not name the %s file:\n%s", k.name, p.logs())
		}
	}

	// A deadline the server computes: the first contact, 7 clock hours.
	disp := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "desk-1")
	var visits struct {
		Items []struct {
			TicketID string `json:"ticket_id"`
		}
	}
	getJSON(t, p, disp, "/v1/visits", &visits)
	var old struct {
		CustomerID string `json:"customer_id"`
		SiteID     string `json:"site_id"`
		AssetID    string `json:"asset_id"`
	}
	getJSON(t, p, disp, "/v1/tickets/"+visits.Items[0].TicketID, &old)
	var tk struct {
		CreatedAt        time.Time `json:"created_at"`
		FirstResponseDue time.Time `json:"first_response_due"`
	}
	send(t, p, disp, "/v1/tickets", map[string]string{
		"customer_id": old.CustomerID, "site_id": old.SiteID, "asset_id": old.AssetID,
		"channel": "hotline", "kind": "repair", "description": "no picture",
	}, &tk)
	if got := tk.FirstResponseDue.Sub(tk.CreatedAt); got != 7*time.Hour {
		t.Fatalf("first response due %v after the opening, want the file's 7h", got)
	}

	// What a tablet pulls.
	tech := loginHTTP(t, p, "tech.li", pw["tech.li"], "tab-li")
	got := map[fieldsync.Entity]map[string]json.RawMessage{}
	cursor := ""
	for {
		var page syncproto.PullResponse
		getJSON(t, p, tech, "/v1/sync/pull?cursor="+url.QueryEscape(cursor), &page)
		for _, c := range page.Changes {
			if got[c.Entity] == nil {
				got[c.Entity] = map[string]json.RawMessage{}
			}
			got[c.Entity][c.ID] = c.Data
		}
		cursor = page.Cursor
		if !page.HasMore {
			break
		}
	}
	for _, tt := range []struct {
		entity fieldsync.Entity
		id     string
		want   string
	}{
		{fieldsync.EntityPolicy, "default", `"first_contact":{"amount":7,"unit":"hours"}`},
		{fieldsync.EntityCalendar, "cn-2026", `"source":"a deployment's own calendar"`},
		{fieldsync.EntityWarrantyPolicy, "default", `"manufacture_grace":{"amount":77,"unit":"days"}`},
		{fieldsync.EntityPriceList, "default", `"callout_fen":4321`},
	} {
		if d := got[tt.entity][tt.id]; !strings.Contains(string(d), tt.want) {
			t.Errorf("the tablet pulled %s/%s = %s, want it to hold %s", tt.entity, tt.id, d, tt.want)
		}
	}
}
