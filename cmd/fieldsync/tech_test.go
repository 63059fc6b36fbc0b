package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/templates"
)

// techCLI runs `fieldsync tech --db db ARGS…` in process.
func techCLI(t *testing.T, db, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), append([]string{"tech", "--db", db}, args...), func(string) string { return "" }, strings.NewReader(stdin), &out, &errb)
	return out.String() + errb.String(), err
}

func mustTech(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, err := techCLI(t, db, "", args...)
	if err != nil {
		t.Fatalf("tech %v: %v\n%s", args, err, out)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// stop stops the server with SIGTERM, and its proxy with it, so that a
// client finds nothing at the address it knows, as when the server is down.
func stop(t *testing.T, p *process) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("serve did not stop cleanly: %v", err)
	}
	p.done <- nil
	if p.front != nil {
		p.front.Close()
	}
}

// TestTechnicianOfflineDayWithTheCLI is the offline flow as a script: log
// in, lose the network, work a visit, get it back, sync, and the
// dispatcher sees it all; a second sync sends nothing; a hand-replayed
// push is a duplicate.
func TestTechnicianOfflineDayWithTheCLI(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")

	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil || !strings.Contains(out, "signed in as tech.li") {
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
	// Times are printed in China time with the zone, never bare.
	if out := mustTech(t, db, "visits"); strings.Count(out, "+08:00") < 2*(strings.Count(out, "\n")-1) {
		t.Fatalf("the visits' window and due are not China time with +08:00:\n%s", out)
	}

	stop(t, p) // the basement: no network from here on
	mustTech(t, db, "depart", visit)
	mustTech(t, db, "arrive", visit)
	tpl, _ := templates.ByID("tv-v1")
	answered := 0
	for _, it := range tpl.Items {
		if !it.Required {
			continue
		}
		value := map[string]string{"yes_no": "false", "number": "55", "text": "屏线松动,已重新插紧"}[string(it.Type)]
		if it.Type == "choice" {
			value = it.Options[0].Value
		}
		if it.Type == "number" && it.Min != nil {
			value = fmt.Sprint(*it.Min)
		}
		mustTech(t, db, "answer", visit, it.ID, value)
		answered++
	}
	// The warranty, decided offline from the pulled policy and the TV's
	// invoice, two months old: past the 30-day exchange, a free repair.
	if out, err := techCLI(t, db, "", "warranty", visit, "unit", "unworn"); err == nil || !strings.Contains(out+err.Error(), "responsibility") {
		t.Fatalf("a warranty before the responsibility: %v\n%s", err, out)
	}
	if out, err := techCLI(t, db, "", "responsibility", visit, "the customer's cat"); err == nil || !strings.Contains(err.Error(), "customer_damage") {
		t.Fatalf("a responsibility that does not exist: %v\n%s", err, out)
	}
	mustTech(t, db, "responsibility", visit, "quality")
	if out, err := techCLI(t, db, "", "warranty", visit, "antenna"); err == nil || !strings.Contains(err.Error(), "antenna") {
		t.Fatalf("an unknown part: %v\n%s", err, out)
	}
	if out, err := techCLI(t, db, "", "warranty", visit, "unit", "shiny"); err == nil || !strings.Contains(err.Error(), "shiny") {
		t.Fatalf("an unknown check: %v\n%s", err, out)
	}
	out := mustTech(t, db, "warranty", visit, "unit", "unworn", "labels-intact", "serial-intact", "accessories-complete")
	if !strings.Contains(out, "warranty: free_repair") || !strings.Contains(out, "整机保修 1 年适用") || !strings.Contains(out, "the 1-year whole-unit warranty applies") {
		t.Fatalf("tech warranty:\n%s", out)
	}
	answered += 2 // the responsibility and the decision wait for sync too
	mustTech(t, db, "complete", visit)
	if out, err := techCLI(t, db, "", "sync"); err == nil {
		t.Fatalf("sync without a server succeeded:\n%s", out)
	}
	if out := mustTech(t, db, "status"); !strings.Contains(out, fmt.Sprintf("pending: %d", 4+answered)) {
		t.Fatalf("status offline:\n%s", out)
	}

	p = serveProcessAt(t, dir, addr) // back in coverage
	if out := mustTech(t, db, "sync"); !strings.Contains(out, fmt.Sprintf("pushed %d (applied %d, duplicate 0, refused 0)", 4+answered, 4+answered)) {
		t.Fatalf("sync:\n%s", out)
	}
	if out := mustTech(t, db, "sync"); !strings.HasPrefix(out, "pushed 0 ") {
		t.Fatalf("a second sync sent something:\n%s", out)
	}

	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	var detail struct {
		Status  string
		Reports []struct {
			Answers          map[string]json.RawMessage
			Responsibility   string
			Warranty         *struct{ Decision json.RawMessage }
			WarrantyDisputed bool `json:"warranty_disputed"`
		}
	}
	getJSON(t, p, dispatcher, "/v1/visits/"+visit, &detail)
	if detail.Status != "completed" || len(detail.Reports) != 1 || len(detail.Reports[0].Answers) != answered-2 ||
		detail.Reports[0].Responsibility != "quality" || detail.Reports[0].Warranty == nil || detail.Reports[0].WarrantyDisputed {
		t.Fatalf("the dispatcher sees %+v", detail)
	}

	// The first push again, by hand, from the same device and install.
	install := ""
	for _, line := range strings.Split(mustTech(t, db, "status"), "\n") {
		if v, ok := strings.CutPrefix(line, "install: "); ok {
			install = v
		}
	}
	tab := loginSession(t, p, "tech.li", pw["tech.li"], "tab-li", install).AccessToken
	push := map[string]any{"device_id": "tab-li", "install_id": install, "mutations": []map[string]any{{"seq": 1, "entity": "visit", "id": visit, "op": "action", "action": "depart", "hlc": fmt.Sprintf("%d:0:tab-li", time.Now().UnixMilli())}}}
	var resp struct{ Results []struct{ Status string } }
	if _, err := pushHTTP(p, tab, push, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Status != "duplicate" {
		t.Fatalf("a replayed push answered %+v", resp.Results)
	}
}

func loginHTTP(t testing.TB, p *process, login, password, device string) string {
	t.Helper()
	return loginSession(t, p, login, password, device, "").AccessToken
}

// loginSession signs in on device, on install ("": a fresh database).
func loginSession(t testing.TB, p *process, login, password, device, install string) session {
	t.Helper()
	status, body, err := postJSON(p.url("/v1/auth/login"), map[string]string{"login": login, "password": password, "device_id": device, "install_id": install})
	if err != nil || status != 200 {
		t.Fatalf("login %s: %d %s %v", login, status, body, err)
	}
	var s session
	json.Unmarshal(body, &s)
	return s
}

func getJSON(t *testing.T, p *process, token, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	json.NewDecoder(res.Body).Decode(out)
}

func TestTechCommandsExplainThemselves(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tab.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a command before login says to log in", []string{"visits"}, "fieldsync tech login"},
		{"the first login needs a device", []string{"login", "--server", "http://127.0.0.1:1", "li"}, "--device"},
		{"an unknown command is named", []string{"dance"}, "unknown tech command"},
		{"no command shows the usage", nil, "tech needs a command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := techCLI(t, db, "pw\n", tt.args...)
			if err == nil || !strings.Contains(err.Error()+out, tt.want) {
				t.Fatalf("err %v, output %q; want %q", err, out, tt.want)
			}
		})
	}
}

func TestTechCommandsCountTheirOperands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tab.db")
	if err := writeTechConfig(db, techConfig{Server: "http://127.0.0.1:1", Device: "tab-1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a step needs the visit", []string{"depart"}, "depart takes VISIT"},
		{"the last of the steps too", []string{"complete", "v1", "v2"}, "complete takes VISIT"},
		{"a second visit needs the visit", []string{"second-visit"}, "second-visit takes VISIT"},
		{"a second visit takes flags after it", []string{"second-visit", "v1", "v2"}, `not "v2"`},
		{"a second visit's flags are known", []string{"second-visit", "v1", "--parts", "tv-psu"}, `unknown flag "--parts"`},
		{"a part's flag takes a value", []string{"second-visit", "v1", "--part"}, "--part takes a value"},
		{"an answer needs visit, item and value", []string{"answer", "v1", "item"}, "answer takes VISIT ITEM VALUE"},
		{"a text field needs visit and text", []string{"cause", "v1"}, "cause takes VISIT TEXT"},
		{"a photo needs visit, slot and file", []string{"attach", "v1", "plate"}, "attach takes VISIT SLOT FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := techCLI(t, db, "", tt.args...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, output %q; want a usage error %q", err, out, tt.want)
			}
		})
	}
}

// TestTechUsage pins the usage, which is made from the table that
// dispatches the commands.
func TestTechUsage(t *testing.T) {
	const want = `fieldsync tech — a technician's tablet on the command line (offline first)

  fieldsync tech [--db FILE] login --server URL --device ID LOGIN  (password on stdin)
  fieldsync tech [--db FILE] visits [--all]          my visits to do (--all: finished ones too):
                                                     ticket status, window in China time, customer,
                                                     zone, address, the dispatcher's notes
  fieldsync tech [--db FILE] show VISIT [--json]     the visit, its ticket and notes, its checklist
                                                     (item ids, what each takes, answers) and
                                                     photo slots; --json: the bundle with its
                                                     template as JSON
  fieldsync tech [--db FILE] templates [ID]          the report templates on this device, or one
                                                     with its items and photo slots
  fieldsync tech [--db FILE] depart|arrive|complete VISIT
  fieldsync tech [--db FILE] second-visit VISIT [flags]  end the visit needing a second one: --part
                                                     CODE[xN] for each price-list part it must
                                                     bring, --note TEXT for who goes
  fieldsync tech [--db FILE] answer VISIT ITEM VALUE  answer a checklist item (the visit's draft
                                                     report, an open addendum once one is made,
                                                     is made on first use); VALUE as the item
                                                     takes it: yes/no, a number, a choice's id,
                                                     text as typed; null clears it
  fieldsync tech [--db FILE] discard VISIT           discard the visit's draft report, offline:
                                                     its answers, findings and decisions go too
  fieldsync tech [--db FILE] findings|cause VISIT TEXT
  fieldsync tech [--db FILE] responsibility VISIT VALUE  who the fault is on: quality, customer_damage,
                                                     transport or unknown
  fieldsync tech [--db FILE] warranty VISIT PART [CHECK…]  decide the 三包 remedy offline and keep it in
                                                     the report: PART unit, major, battery,
                                                     earphones, charger or cable; CHECKs unworn,
                                                     labels-intact, serial-intact,
                                                     accessories-complete, missing=ACCESSORY
  fieldsync tech [--db FILE] pickup VISIT return|exchange  the pick-up slip (取货单): every accessory
                                                     checked, --missing remote,stand deducted
                                                     at the price list's amounts
  fieldsync tech [--db FILE] work VISIT PART[:CODE][xN]... [--note TEXT]  the work done, a line per part repaired:
                                                     PART as for warranty; CODE the price-list
                                                     part code; N how many (default 1)
  fieldsync tech [--db FILE] quote VISIT ITEM…|--accept|--decline  price paid work offline and keep the quote in
                                                     the report: ITEMs part:CODE[xN], labour:CODE[xN],
                                                     callout; then the customer's decision:
                                                     --accept, or --decline [--reason TEXT], which
                                                     ends the visit
  fieldsync tech [--db FILE] sign VISIT [flags]      sign the visit's report with the device key:
                                                     --customer-name NAME --strokes FILE.json|builtin
                                                       the customer's signature (without them: the
                                                       customer signs later, by link);
                                                     --technician-strokes FILE.json (default: a
                                                       built-in stroke); --no-photo SLOT=REASON for
                                                       each required slot left without a photo
  fieldsync tech [--db FILE] share VISIT             a link the customer opens to read the signed
                                                     report and sign it off (online; 30 days)
  fieldsync tech [--db FILE] addendum VISIT          correct the visit's sealed report: a new
                                                     draft (its id printed) that answer, findings,
                                                     cause, attach and sign then work on
  fieldsync tech [--db FILE] attach VISIT SLOT FILE  attach a photo to the visit's report (queued
                                                     for upload; the file is copied)
  fieldsync tech [--db FILE] photos                  each photo's upload: state and progress
  fieldsync tech [--db FILE] sync                    push pending work, pull news
  fieldsync tech [--db FILE] status                  pending work, last sync, refusals
  fieldsync tech [--db FILE] conflicts [dismiss N…]  work the server refused, with its reasons;
                                                     dismiss N… (the #N shown) or dismiss --all
                                                     once read
  fieldsync tech [--db FILE] photo retry|remove ID   a refused photo (numbered by conflicts):
                                                     upload it again, or take it off the device
  fieldsync tech [--db FILE] export FILE             write the unsynced work as JSON for a
                                                     dispatcher (a revoked device's work)

Every command but login, sync and share works without a network.
sync exits 3 when it went through but the server refused work (see
conflicts), 1 when it failed.
`
	if got := techUsage(); got != want {
		t.Errorf("usage:\n%s\nwant:\n%s", got, want)
	}
}

// TestTechSign signs reports offline from the command line: the
// customer's strokes from a file or built in, reasons for slots without
// photos, and no customer at all (they sign later); a bad strokes file
// and a slot left without photo or reason are refused before anything is
// queued, naming what to fix. The server takes all of it at the next sync.
func TestTechSign(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	tablet := func(login, device string) (db string, visits []string) {
		db = filepath.Join(t.TempDir(), "tab.db")
		if out, err := techCLI(t, db, pw[login]+"\n", "login", "--server", "http://"+addr, "--device", device, login); err != nil {
			t.Fatalf("login: %v\n%s", err, out)
		}
		return db, unreportedVisits(t, db)
	}
	db, visits := tablet("tech.li", "tab-li")
	dbZhang, visitsZhang := tablet("tech.zhang", "tab-zhang")
	if len(visits) < 2 || len(visitsZhang) < 1 {
		t.Fatalf("tech.li has %d visits without a report, tech.zhang %d; the test needs 2 and 1", len(visits), len(visitsZhang))
	}
	stop(t, p) // signing needs no network

	tplA := answerRequired(t, db, visits[0])
	noPhoto := func(tpl fieldsync.Template, except ...string) []string {
		var args []string
		for _, slot := range tpl.RequiredSlots() {
			if !slices.Contains(except, slot) {
				args = append(args, "--no-photo", slot+"=the customer kept it / 客户留存")
			}
		}
		return args
	}
	pendingCount := func() string {
		for _, line := range strings.Split(mustTech(t, db, "status"), "\n") {
			if v, ok := strings.CutPrefix(line, "pending: "); ok {
				return strings.Fields(v)[0] // the count; the age of the oldest moves on
			}
		}
		return ""
	}
	strokes := filepath.Join(t.TempDir(), "customer.json")
	writeFile(t, strokes, `[[{"x":10,"y":20,"t":0},{"x":200,"y":120,"t":300}],[{"x":250,"y":40,"t":900}]]`)

	refusals := []struct {
		name string
		args []string
		want []string
	}{
		{"a strokes file that is not strokes", append([]string{"sign", visits[0], "--customer-name", "王女士", "--strokes", writeFile(t, filepath.Join(t.TempDir(), "bad.json"), `[[]]`)}, noPhoto(tplA)...),
			[]string{"bad.json", "stroke 0 has no point"}},
		{"a strokes file that is not JSON", append([]string{"sign", visits[0], "--customer-name", "王女士", "--strokes", writeFile(t, filepath.Join(t.TempDir(), "scan.json"), `not json`)}, noPhoto(tplA)...),
			[]string{"scan.json", "not a JSON array of strokes"}},
		{"a missing strokes file", []string{"sign", visits[0], "--customer-name", "王女士", "--strokes", filepath.Join(dir, "nowhere.json")},
			[]string{"--strokes", "nowhere.json"}},
		{"strokes without the customer's name", []string{"sign", visits[0], "--strokes", strokes}, []string{"--strokes needs --customer-name"}},
		{"a required slot without photo or reason", append([]string{"sign", visits[0], "--customer-name", "王女士", "--strokes", strokes}, noPhoto(tplA, tplA.RequiredSlots()[0])...),
			[]string{fieldsync.EReportIncomplete, tplA.RequiredSlots()[0]}},
		{"a reason for an unknown slot", append([]string{"sign", visits[0], "--no-photo", "nameplate=gone"}, noPhoto(tplA)...),
			[]string{`"nameplate" is not a required photo slot`}},
		{"a malformed --no-photo", []string{"sign", visits[0], "--no-photo", "fault"}, []string{`"fault" is not SLOT=REASON`}},
		{"no visit", []string{"sign", "--customer-name", "x"}, []string{"sign takes VISIT"}},
	}
	before := pendingCount()
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			out, err := techCLI(t, db, "", tt.args...)
			if err == nil {
				t.Fatalf("signed:\n%s", out)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error()+out, want) {
					t.Errorf("the refusal %q (output %q) does not say %q", err, out, want)
				}
			}
		})
	}
	if after := pendingCount(); after != before {
		t.Fatalf("refused signatures queued work: pending %s, then %s", before, after)
	}

	signed := regexp.MustCompile(`report (\S+) signed, canonical hash ([0-9a-f]{12}), queued until the next sync`)
	check := func(db, visit, out string) {
		t.Helper()
		m := signed.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("tech sign %s said:\n%s", visit, out)
		}
		var b fieldsync.VisitBundle
		if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", visit)), &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Reports) != 1 || b.Reports[0].ID != m[1] || b.Reports[0].Status != fieldsync.ReportSigned || b.Reports[0].Signature == nil || !strings.HasPrefix(b.Reports[0].Signature.Hash, m[2]) {
			t.Fatalf("the visit's report after tech sign: %+v", b.Reports)
		}
		// The slip number is printed with the signature and shown with the report.
		if _, err := fieldsync.ParseSlipNo(b.Reports[0].SlipNo); err != nil || !strings.Contains(out, "slip no. "+b.Reports[0].SlipNo+" (鉴定单号)") {
			t.Fatalf("tech sign %s printed %q; the report's slip_no is %q (%v)", visit, out, b.Reports[0].SlipNo, err)
		}
	}
	// The customer's strokes from a file, the technician's from another.
	techStrokes := writeFile(t, filepath.Join(t.TempDir(), "tech.json"), `[[{"x":5,"y":5,"t":0},{"x":90,"y":60,"t":120}]]`)
	out := mustTech(t, db, append([]string{"sign", visits[0], "--customer-name", "王女士", "--strokes", strokes, "--technician-strokes", techStrokes}, noPhoto(tplA)...)...)
	check(db, visits[0], out)
	if strings.Contains(out, "without the customer's signature") {
		t.Errorf("a signature with the customer's strokes says it has none:\n%s", out)
	}
	// The built-in stroke, for scripts; flags before the visit.
	tplB := answerRequired(t, db, visits[1])
	check(db, visits[1], mustTech(t, db, append(append([]string{"sign", "--strokes", "builtin", "--customer-name", "Li Wei"}, noPhoto(tplB)...), visits[1])...))
	// No customer: they sign later.
	tplC := answerRequired(t, dbZhang, visitsZhang[0])
	out = mustTech(t, dbZhang, append([]string{"sign", visitsZhang[0]}, noPhoto(tplC)...)...)
	check(dbZhang, visitsZhang[0], out)
	if !strings.Contains(out, "signed without the customer's signature: the customer signs later, by link") {
		t.Errorf("a signature without the customer does not say so:\n%s", out)
	}

	serveProcessAt(t, dir, addr)
	for _, db := range []string{db, dbZhang} {
		if out := mustTech(t, db, "sync"); !strings.Contains(out, "refused 0") {
			t.Fatalf("sync after signing:\n%s", out)
		}
	}
}

// unreportedVisits lists the device's visits that have no report yet.
func unreportedVisits(t *testing.T, db string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(mustTech(t, db, "visits", "--all"), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var b fieldsync.VisitBundle
		if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", f[0])), &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Reports) == 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// answerRequired answers every required item of the template the visit's
// report takes, and returns the template.
func answerRequired(t *testing.T, db, visit string) fieldsync.Template {
	t.Helper()
	var b fieldsync.VisitBundle
	if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", visit)), &b); err != nil {
		t.Fatal(err)
	}
	tpl, ok := templates.ForCategory(b.Asset.Category)
	if !ok {
		t.Fatalf("no template for %q", b.Asset.Category)
	}
	for _, it := range tpl.Items {
		if !it.Required {
			continue
		}
		value := map[string]string{"yes_no": "true", "number": "1", "text": "ok"}[string(it.Type)]
		if it.Type == "choice" {
			value = it.Options[0].Value
		}
		if it.Type == "number" && it.Min != nil {
			value = fmt.Sprint(*it.Min)
		}
		mustTech(t, db, "answer", visit, it.ID, value)
	}
	return tpl
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
