package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/warranty"
)

// TestAfterSalesDayOffline is the after-sales day of the README, on
// tech.zhang's tablet with the server down: the demo's phone dropped on
// day 10 is customer damage, a paid repair quoted and accepted; the TV
// with a quality fault on day 20 is exchanged, its remote missing at
// pick-up and deducted. Synced, the dispatcher sees both decisions, the
// quote and the slip in sealed reports. The amounts come from the
// default price list, the explanation from the warranty engine.
func TestAfterSalesDayOffline(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	db := filepath.Join(t.TempDir(), "tab.db")
	if out, err := techCLI(t, db, pw["tech.zhang"]+"\n", "login", "--server", "http://"+addr, "--device", "tab-zhang", "tech.zhang"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	byModel := map[string]string{}
	for _, v := range unreportedVisits(t, db) {
		var b fieldsync.VisitBundle
		if err := json.Unmarshal([]byte(mustTech(t, db, "show", v, "--json")), &b); err != nil {
			t.Fatal(err)
		}
		if b.Visit.Status == fieldsync.VisitScheduled {
			byModel[b.Asset.Model] = v
		}
	}
	phone, tv := byModel["Xiaomi 14"], byModel["Sony X90L"]
	if phone == "" || tv == "" {
		t.Fatalf("tech.zhang's scheduled visits by model: %v; want the Xiaomi 14 and the Sony X90L", byModel)
	}
	prices := quote.Default()
	part := ""
	for _, pt := range prices.Parts {
		if pt.Category == string(fieldsync.CategoryPhone) {
			part = pt.Code
			break
		}
	}
	if part == "" {
		t.Fatal("the default price list has no part for phones")
	}
	// The steps run, as README's worked example writes them: the visits
	// by name, one line for all of a visit's answers, a signature's
	// required slots as SLOT=REASON.
	var steps []string
	named := strings.NewReplacer(phone, "PHONE", tv, "TV")
	step := func(args ...string) string {
		t.Helper()
		steps = append(steps, named.Replace(strings.Join(args, " ")))
		return mustTech(t, db, args...)
	}
	answer := func(visit string) fieldsync.Template {
		t.Helper()
		steps = append(steps, named.Replace("answer "+visit+" ITEM VALUE"))
		return answerRequired(t, db, visit)
	}
	sign := func(visit string, tpl fieldsync.Template) string {
		t.Helper()
		args := []string{"sign", visit, "--customer-name", "刘女士", "--strokes", "builtin"}
		for _, slot := range tpl.RequiredSlots() {
			args = append(args, "--no-photo", slot+"=the customer kept it / 客户留存")
		}
		out := mustTech(t, db, args...)
		steps = append(steps, named.Replace(strings.Join(args[:6], " "))+" --no-photo SLOT=REASON")
		return out
	}

	stop(t, p) // offline from here on

	// The phone: customer damage, a paid repair, quoted and accepted.
	step("depart", phone)
	step("arrive", phone)
	tplPhone := answer(phone)
	step("responsibility", phone, "customer_damage")
	out := step("warranty", phone, "unit", "unworn", "labels-intact", "serial-intact", "accessories-complete")
	if !strings.Contains(out, "warranty: paid_repair") || !strings.Contains(out, "\n  ") {
		t.Fatalf("tech warranty of the phone:\n%s", out)
	}
	q, err := quote.Build(prices, []quote.Item{{Kind: quote.KindPart, Code: part, Qty: 1}})
	if err != nil {
		t.Fatal(err)
	}
	out = step("quote", phone, "part:"+part)
	if !strings.Contains(out, quote.Yuan(q.TotalFen)) || !strings.Contains(out, "pending the customer's decision") {
		t.Fatalf("tech quote: no %s pending in\n%s", quote.Yuan(q.TotalFen), out)
	}
	if out := step("quote", phone, "--accept"); !strings.Contains(out, quote.Yuan(q.TotalFen)+" accepted") {
		t.Fatalf("tech quote --accept:\n%s", out)
	}
	sign(phone, tplPhone)
	step("complete", phone)

	// The TV: a quality fault on day 20, exchanged; the remote is missing.
	step("depart", tv)
	step("arrive", tv)
	tplTV := answer(tv)
	step("responsibility", tv, "quality")
	out = step("warranty", tv, "unit", "unworn", "labels-intact", "serial-intact", "missing=remote")
	today := time.Now().In(calendar.Location())
	want, err := warranty.Decide(warranty.DefaultPolicy(), nil, warranty.Input{
		Category:       warranty.Category(fieldsync.CategoryTV),
		Invoice:        warranty.NewDate(today.AddDate(0, 0, -20).Date()),
		Visit:          warranty.NewDate(today.Date()),
		Responsibility: fieldsync.ResponsibilityQuality,
		Checks:         warranty.Checks{Unworn: true, LabelsIntact: true, SerialIntact: true, MissingAccessories: []string{"remote"}},
		FailedPart:     warranty.PartUnit,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want.Outcome != warranty.Exchange || !strings.Contains(out, "warranty: exchange") {
		t.Fatalf("the engine decides %s; tech warranty of the TV:\n%s", want.Outcome, out)
	}
	for _, l := range want.Explanation {
		if !strings.Contains(out, "  "+l.Text.ZH+"\n") || !strings.Contains(out, "  "+l.Text.EN+"\n") {
			t.Fatalf("tech warranty lacks the explanation line %q / %q:\n%s", l.Text.ZH, l.Text.EN, out)
		}
	}
	deductions, deducted, err := quote.Deductions(prices, string(fieldsync.CategoryTV), []string{"remote"})
	if err != nil || len(deductions) != 1 {
		t.Fatalf("the price list's deduction of a TV's remote: %v %v", deductions, err)
	}
	out = step("pickup", tv, "exchange", "--missing", "remote")
	if !strings.Contains(out, "remote         MISSING") || !strings.Contains(out, "deduct remote  "+quote.Yuan(deductions[0].Fen)) ||
		!strings.Contains(out, "charged for the exchange: "+quote.Yuan(deducted)) || strings.Contains(out, "refund") {
		t.Fatalf("tech pickup: no remote deducted at %s in\n%s", quote.Yuan(deductions[0].Fen), out)
	}
	sign(tv, tplTV)
	step("complete", tv)

	p = serveProcessAt(t, dir, addr)
	out = step("sync")
	if !strings.Contains(out, "duplicate 0, refused 0)") || strings.HasPrefix(out, "pushed 0 ") {
		t.Fatalf("sync:\n%s", out)
	}

	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")
	type detail struct {
		Status  string
		Reports []struct {
			Status           string
			Warranty         *struct{ Decision struct{ Outcome string } }
			WarrantyServer   json.RawMessage `json:"warranty_server"` // absent: the server agrees
			WarrantyDisputed bool            `json:"warranty_disputed"`
			Quote            *fieldsync.ReportQuote
			Pickup           *fieldsync.ReportPickup
		}
	}
	check := func(visit, outcome string) detail {
		t.Helper()
		var d detail
		getJSON(t, p, dispatcher, "/v1/visits/"+visit, &d)
		raw, _ := json.Marshal(d)
		if d.Status != string(fieldsync.VisitCompleted) || len(d.Reports) != 1 {
			t.Fatalf("the dispatcher sees visit %s as %s", visit, raw)
		}
		r := d.Reports[0]
		if r.Status != string(fieldsync.ReportSealed) || r.Warranty == nil || r.Warranty.Decision.Outcome != outcome ||
			r.WarrantyServer != nil || r.WarrantyDisputed {
			t.Fatalf("the dispatcher sees visit %s as %s; want a sealed report decided %s, not disputed", visit, raw, outcome)
		}
		return d
	}
	d := check(phone, string(warranty.PaidRepair))
	if rq := d.Reports[0].Quote; rq == nil || rq.Decision != string(quote.Accepted) || rq.TotalFen != q.TotalFen ||
		len(rq.Lines) != 1 || rq.Lines[0].Code != part || rq.Lines[0].TotalFen != q.TotalFen {
		t.Fatalf("the phone's quote: %+v; want %s accepted, %d fen", rq, part, q.TotalFen)
	}
	d = check(tv, string(warranty.Exchange))
	if s := d.Reports[0].Pickup; s == nil || s.Kind != fieldsync.PickupExchange || s.TotalFen != deducted ||
		fmt.Sprint(s.Deductions) != fmt.Sprint([]fieldsync.PickupDeduction{{Accessory: "remote", Fen: deductions[0].Fen}}) {
		t.Fatalf("the TV's pick-up slip: %+v; want an exchange deducting the remote, %d fen", s, deducted)
	}

	if readme := readmeDay(t); strings.Join(readme, "\n") != strings.Join(steps, "\n") {
		t.Errorf("README's after-sales day:\n%s\nthe test ran:\n%s", strings.Join(readme, "\n"), strings.Join(steps, "\n"))
	}
}

// readmeDay returns the commands of README's after-sales day after the
// login, without the command's prefix and comments.
func readmeDay(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(raw), "--device tab-zhang tech.zhang\n")
	if !ok {
		t.Fatal("README has no after-sales day on tech.zhang's tablet")
	}
	block, _, _ = strings.Cut(block, "```")
	var out []string
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, strings.TrimPrefix(line, "./fieldsync tech --db tab.db "))
		}
	}
	return out
}
