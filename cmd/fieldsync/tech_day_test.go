package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
)

// techDay logs tech.li in on a served demo and returns the tablet's
// database and the server.
func techDay(t *testing.T) (db string, p *process, pw map[string]string, dir, addr string) {
	t.Helper()
	dir = t.TempDir()
	pw = demoLogins(t, dir)
	addr = freeAddr(t)
	p = serveProcessAt(t, dir, addr)
	db = filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.li"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-li", "tech.li"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	return db, p, pw, dir, addr
}

func scheduledVisits(t *testing.T, db string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(mustTech(t, db, "visits"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "scheduled" {
			out = append(out, f[0])
		}
	}
	if len(out) == 0 {
		t.Fatal("tech.li has no scheduled visit")
	}
	return out
}

// techBundle is `show --json`: the bundle with the template.
type techBundle struct {
	fieldsync.VisitBundle
	Template *fieldsync.Template `json:"template"`
}

func showJSON(t *testing.T, db, visit string) techBundle {
	t.Helper()
	var b techBundle
	if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", visit)), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// The technician's offline day from the command line alone: the visit
// list says when and where, show and templates say what each checklist
// item takes, answers are typed as the item wants them, refused steps and
// wrong values say what to do.
func TestTechDayWithoutTheSource(t *testing.T) {
	db, p, _, _, _ := techDay(t)
	visit := scheduledVisits(t, db)[0]
	stop(t, p) // everything below works offline

	b := showJSON(t, db, visit)
	tpl := b.Template
	if tpl == nil || tpl.Category != b.Asset.Category {
		t.Fatalf("show --json has no template of the asset's category %s: %+v", b.Asset.Category, tpl)
	}
	visits := mustTech(t, db, "visits")
	for _, want := range []string{"+08:00", b.Customer.Name, string(b.Site.Zone), b.Site.Address, local(b.Visit.WindowStart)} {
		if !strings.Contains(visits, want) {
			t.Fatalf("visits lacks %q:\n%s", want, visits)
		}
	}
	if out := mustTech(t, db, "templates"); !strings.Contains(out, tpl.ID) || !strings.Contains(out, "phone-v1") {
		t.Fatalf("templates:\n%s", out)
	}
	if out, err := techCLI(t, db, "", "templates", "nope-v9"); err == nil || !strings.Contains(err.Error(), "templates` lists them") {
		t.Fatalf("an unknown template: %v\n%s", err, out)
	}
	one := mustTech(t, db, "templates", tpl.ID)
	show := mustTech(t, db, "show", visit)
	for _, out := range []string{one, show} {
		for _, it := range tpl.Items {
			if !regexp.MustCompile(`(?m)^  ` + it.ID + ` +` + regexp.QuoteMeta(itemType(it))).MatchString(out) {
				t.Fatalf("item %s is not shown with what it takes (%s):\n%s", it.ID, itemType(it), out)
			}
			for _, o := range it.Options {
				if !strings.Contains(out, o.Value+" ") || !strings.Contains(out, o.Label.EN) {
					t.Fatalf("option %s of %s is not shown:\n%s", o.Value, it.ID, out)
				}
			}
		}
		for _, s := range tpl.PhotoSlots {
			if !regexp.MustCompile(`(?m)^  ` + s.ID + ` +(required|optional) — `).MatchString(out) {
				t.Fatalf("slot %s is not shown:\n%s", s.ID, out)
			}
		}
	}
	if !strings.Contains(show, "no report yet") || !strings.Contains(show, b.Customer.Name) {
		t.Fatalf("show before any answer:\n%s", show)
	}

	// Steps out of order say what to do, not the state machine's names.
	for _, step := range []string{"arrive", "complete", "second-visit"} {
		out, err := techCLI(t, db, "", step, visit)
		if err == nil || !strings.Contains(err.Error(), "depart "+visit+"` first") || strings.Contains(err.Error(), "need_second_visit") || strings.Contains(err.Error(), "cannot") {
			t.Fatalf("%s on a scheduled visit: %v\n%s", step, err, out)
		}
	}
	mustTech(t, db, "depart", visit)
	if _, err := techCLI(t, db, "", "complete", visit); err == nil || !strings.Contains(err.Error(), "arrive "+visit+"` first") {
		t.Fatalf("complete on the way: %v", err)
	}
	mustTech(t, db, "arrive", visit)

	var yesNo, number, choice, text *fieldsync.ChecklistItem
	for i, it := range tpl.Items {
		switch it.Type {
		case fieldsync.ItemYesNo:
			yesNo = &tpl.Items[i]
		case fieldsync.ItemNumber:
			number = &tpl.Items[i]
		case fieldsync.ItemChoice:
			choice = &tpl.Items[i]
		case fieldsync.ItemText:
			text = &tpl.Items[i]
		}
	}
	if yesNo == nil || number == nil || choice == nil || text == nil {
		t.Fatalf("template %s lacks an item type", tpl.ID)
	}
	wrong := []struct{ item, value, want string }{
		{yesNo.ID, "maybe", yesNo.ID + " expects yes or no"},
		{number.ID, "fifty", number.ID + " expects a number"},
		{choice.ID, "sideways", choice.ID + " expects one of " + choice.Options[0].Value},
		{"no_such_item", "1", "its items: " + tpl.Items[0].ID},
	}
	if number.Max != nil {
		wrong = append(wrong, struct{ item, value, want string }{number.ID, fmt.Sprint(*number.Max + 1), fmt.Sprintf("to %g", *number.Max)})
	}
	for _, w := range wrong {
		out, err := techCLI(t, db, "", "answer", visit, w.item, w.value)
		if err == nil || !strings.Contains(err.Error(), w.want) || strings.Contains(err.Error(), "invalid:") || strings.Count(err.Error(), "\n") > 0 {
			t.Fatalf("answer %s %s: %v (want %q)\n%s", w.item, w.value, err, w.want, out)
		}
	}
	n := *number.Min + 1
	mustTech(t, db, "answer", visit, yesNo.ID, "是")
	mustTech(t, db, "answer", visit, number.ID, fmt.Sprint(n))
	mustTech(t, db, "answer", visit, choice.ID, choice.Options[1].Value)
	mustTech(t, db, "answer", visit, text.ID, "屏线松动 已重新插紧") // as typed, with its space
	got := showJSON(t, db, visit).Reports
	if len(got) != 1 {
		t.Fatalf("reports after answering: %+v", got)
	}
	for item, want := range map[string]string{yesNo.ID: "true", number.ID: fmt.Sprint(n), choice.ID: `"` + choice.Options[1].Value + `"`, text.ID: `"屏线松动 已重新插紧"`} {
		if string(got[0].Answers[item]) != want {
			t.Fatalf("answer to %s is %s, want %s", item, got[0].Answers[item], want)
		}
	}
	mustTech(t, db, "answer", visit, text.ID, `"quoted as JSON"`) // the JSON form still works
	mustTech(t, db, "answer", visit, yesNo.ID, "false")
	show = mustTech(t, db, "show", visit)
	for _, want := range []string{"answer: quoted as JSON", "answer: no", "answer: " + choice.Options[1].Value, "answer: (not answered)", "; 0 photo(s)", "report " + got[0].ID + " (draft)"} {
		if !strings.Contains(show, want) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}
}

// A draft is discarded offline and online; the server drops it too.
// Refused work is dismissed once read.
func TestTechDiscardAndDismiss(t *testing.T) {
	db, p, pw, dir, addr := techDay(t)
	visit, other := scheduledVisits(t, db)[0], ""
	for _, line := range strings.Split(mustTech(t, db, "visits"), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 1 && f[0] != visit && f[1] == "on_site" {
			other = f[0]
		}
	}
	if other == "" {
		t.Fatal("tech.li has no visit on site")
	}
	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	raw, _ := json.Marshal(map[string]string{"reason": "the customer called it off"})
	req, _ := http.NewRequest("POST", p.url("/v1/visits/"+other+"/cancel"), bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+dispatcher)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	stop(t, p)

	if out, err := techCLI(t, db, "", "discard", visit); err == nil || !strings.Contains(err.Error(), "no draft report to discard") {
		t.Fatalf("discard without a draft: %v\n%s", err, out)
	}
	mustTech(t, db, "depart", visit)
	mustTech(t, db, "arrive", visit)
	mustTech(t, db, "findings", visit, "a draft made by mistake")
	if out := mustTech(t, db, "discard", visit); !strings.Contains(out, "discarded") {
		t.Fatalf("discard:\n%s", out)
	}
	if b := showJSON(t, db, visit); len(b.Reports) != 0 {
		t.Fatalf("the discarded draft is still shown: %+v", b.Reports)
	}
	mustTech(t, db, "findings", visit, "the draft kept")
	mustTech(t, db, "complete", other) // cancelled meanwhile: refused at sync

	p = serveProcessAt(t, dir, addr)
	if out, err := techCLI(t, db, "", "sync"); exitCode(err) != 3 || !strings.Contains(out, "refused 1") {
		t.Fatalf("sync with a refusal: %v (exit %d)\n%s", err, exitCode(err), out)
	}
	var detail struct{ Reports []fieldsync.Report }
	getJSON(t, p, dispatcher, "/v1/visits/"+visit, &detail)
	if len(detail.Reports) != 1 || detail.Reports[0].Findings != "the draft kept" {
		t.Fatalf("the server's reports after an offline discard: %+v", detail.Reports)
	}
	if out := mustTech(t, db, "discard", detail.Reports[0].ID); !strings.Contains(out, "discarded") {
		t.Fatalf("discard by report id:\n%s", out)
	}
	mustTech(t, db, "sync")
	getJSON(t, p, dispatcher, "/v1/visits/"+visit, &detail)
	if len(detail.Reports) != 0 {
		t.Fatalf("the server still has the discarded draft: %+v", detail.Reports)
	}
	if b := showJSON(t, db, visit); len(b.Reports) != 0 {
		t.Fatalf("the tablet shows a draft discarded on the server: %+v", b.Reports)
	}

	m := regexp.MustCompile(`(?m)^#(\d+) `).FindStringSubmatch(mustTech(t, db, "conflicts"))
	if m == nil {
		t.Fatalf("conflicts:\n%s", mustTech(t, db, "conflicts"))
	}
	if out, err := techCLI(t, db, "", "conflicts", "dismiss", "9999"); err == nil || !strings.Contains(err.Error(), "no refused work #9999") {
		t.Fatalf("dismiss an unknown refusal: %v\n%s", err, out)
	}
	if out := mustTech(t, db, "conflicts", "dismiss", m[1]); !strings.Contains(out, "1 refusal(s) dismissed; 0 left") {
		t.Fatalf("dismiss:\n%s", out)
	}
	if out := mustTech(t, db, "conflicts"); !strings.Contains(out, "no refused work") {
		t.Fatalf("conflicts after the dismissal:\n%s", out)
	}
	if out := mustTech(t, db, "status"); !strings.Contains(out, "refused: 0") {
		t.Fatalf("status after the dismissal:\n%s", out)
	}
	if out := mustTech(t, db, "visits"); strings.Contains(out, other) || !strings.Contains(out, "finished visit(s) not shown") {
		t.Fatalf("visits shows the cancelled visit:\n%s", out)
	}
	if out := mustTech(t, db, "visits", "--all"); !strings.Contains(out, other) {
		t.Fatalf("visits --all hides the cancelled visit:\n%s", out)
	}
}

// Every command prints its help with -h or --help and exits 0, before
// any device is set up; errors are one line saying what to do.
func TestTechHelp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tab.db")
	for _, flag := range []string{"-h", "--help"} {
		out, err := techCLI(t, db, "", flag)
		if err != nil || !strings.Contains(out, "fieldsync tech [--db FILE] conflicts") {
			t.Fatalf("tech %s: %v\n%s", flag, err, out)
		}
		for _, cmd := range techCommands {
			out, err := techCLI(t, db, "", cmd.name, "v1", flag)
			if err != nil || !strings.Contains(out, "fieldsync tech [--db FILE] "+cmd.name) {
				t.Fatalf("tech %s %s: %v\n%s", cmd.name, flag, err, out)
			}
		}
	}
	out, err := techCLI(t, db, "", "dance")
	if err == nil || strings.Contains(out, "fieldsync tech [--db FILE]") || !strings.Contains(err.Error(), "fieldsync tech -h") {
		t.Fatalf("an unknown command: %v\n%s", err, out)
	}
}
