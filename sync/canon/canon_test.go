package canon

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

var update = flag.Bool("update", false, "rewrite the golden documents in testdata and their hashes")

func sha(c byte) string { return strings.Repeat(string(c), 64) }

// records is one signed report as the tablet holds it.
func records(t *testing.T) (*fieldsync.Report, *fieldsync.Visit, *fieldsync.Ticket, *fieldsync.Asset, Signing) {
	t.Helper()
	r := &fieldsync.Report{
		ID: "rep-1", VisitID: "vis-1", TemplateID: "tpl-washer",
		Answers: fieldsync.Answers{
			"drum_noise": json.RawMessage(`true`),
			"water_temp": json.RawMessage(`40.50`),
			"error_code": json.RawMessage(`"E21"`),
			"notes":      json.RawMessage(`"Kunde sagt: \"läuft aus\"\u000a€"`),
		},
		Findings:       "Pump seal worn.\nDrain blocked by a coin.",
		Cause:          "Foreign object in the drain pump",
		Responsibility: fieldsync.ResponsibilityCustomerDamage,
		Status:         fieldsync.ReportDraft,
	}
	v := &fieldsync.Visit{ID: "vis-1", TicketID: "tkt-1"}
	tk := &fieldsync.Ticket{ID: "tkt-1", AssetID: "ast-1"}
	a := &fieldsync.Asset{ID: "ast-1", Serial: "SN-4711/Ü"}
	s := Signing{
		CustomerName: "Zoë Müller-Łukasz",
		SignedAt:     time.Date(2025, 3, 14, 16, 9, 26, 535897932, time.FixedZone("CET", 3600)),
		DeviceID:     "dev-7",
		Photos: []fieldsync.SlotPhoto{
			{Slot: "serial_plate", SHA256: sha('b')},
			{Slot: "damage", SHA256: sha('c')},
			{Slot: "damage", SHA256: sha('a')},
		},
		CustomerSignature:   sha('d'),
		TechnicianSignature: sha('e'),
		Unphotographed: []fieldsync.SlotReason{
			{Slot: "receipt", Reason: "Kassenbon verloren"},
			{Slot: "box", Reason: "discarded by the customer"},
		},
	}
	return r, v, tk, a, s
}

// fixture is records and a signing that a table row may change.
type fixture struct {
	r  *fieldsync.Report
	v  *fieldsync.Visit
	tk *fieldsync.Ticket
	a  *fieldsync.Asset
	s  Signing
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	f.r, f.v, f.tk, f.a, f.s = records(t)
	return f
}

func canonical(t *testing.T, r *fieldsync.Report, v *fieldsync.Visit, tk *fieldsync.Ticket, a *fieldsync.Asset, s Signing) string {
	t.Helper()
	d, err := Build(r, v, tk, a, s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	b, err := d.Bytes()
	if err != nil {
		t.Fatalf("Bytes: %v", err)
	}
	return string(b)
}

// The committed bytes and hash are the contract with the tablet, the
// server and `fieldsync verify`: a change to them must be deliberate
// (go test ./sync/canon -run Golden -update) and means a new Version.
// golden is a report that corrects none and has no slip number,
// golden_addendum an addendum, golden_slip a report with its slip number:
// a document without corrects or slip_no is written exactly as before
// those fields were.
func TestBuildGolden(t *testing.T) {
	for name, g := range goldens {
		t.Run(name, func(t *testing.T) {
			d, err := Build(g.records(t))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, d)
		})
	}
}

// goldenCase is how a golden document's report differs from records'.
type goldenCase struct {
	corrects, slipNo string
	warranty, pickup bool
	quote            bool
}

func (g goldenCase) records(t *testing.T) (*fieldsync.Report, *fieldsync.Visit, *fieldsync.Ticket, *fieldsync.Asset, Signing) {
	t.Helper()
	r, v, tk, a, s := records(t)
	r.Corrects, r.SlipNo = g.corrects, g.slipNo
	if g.warranty {
		r.Warranty = sampleWarranty()
	}
	if g.pickup {
		r.Pickup = samplePickup()
	}
	if g.quote {
		r.Quote = sampleQuote()
	}
	return r, v, tk, a, s
}

var goldens = map[string]goldenCase{
	"golden":          {},
	"golden_addendum": {corrects: "rep-0"},
	"golden_slip":     {slipNo: "K7QM-2026-000042"},
	"golden_warranty": {warranty: true},
	"golden_pickup":   {warranty: true, pickup: true},
	"golden_quote":    {quote: true},
}

// sampleWarranty is a device's warranty decision as a tablet stores it,
// with spelling (spaces, key order, escapes) canonical form must undo.
func sampleWarranty() *fieldsync.ReportWarranty {
	return &fieldsync.ReportWarranty{
		Question:  json.RawMessage(`{"failed_part":"unit", "checks":{"unworn":true,"labels_intact":true,"serial_intact":true,"accessories_complete":false,"missing_accessories":["remote"]}}`),
		VisitDate: "2026-03-10",
		Decision: json.RawMessage(`{"options":["exchange","free_repair","paid_repair"],"outcome":"exchange","deductions":["remote"],` +
			`"explanation":[{"rule":"exchange","text":{"zh-CN":"\u5728\u5305\u6362\u671f\u5185","en":"within the exchange window"}}]}`),
	}
}

// samplePickup is the pick-up slip of an exchange with a missing remote.
func samplePickup() *fieldsync.ReportPickup {
	return &fieldsync.ReportPickup{
		Kind: fieldsync.PickupExchange, Category: "tv",
		Accessories:      []fieldsync.PickupCheck{{Accessory: "box", Present: true}, {Accessory: "remote"}, {Accessory: "stand", Present: true}},
		Deductions:       []fieldsync.PickupDeduction{{Accessory: "remote", Fen: 3500}},
		TotalFen:         3500,
		PriceListVersion: "placeholder-2026-1",
		CollectedAt:      time.Date(2026, 3, 12, 9, 30, 0, 0, time.UTC),
	}
}

// sampleQuote is an accepted quote as a tablet stores it.
func sampleQuote() *fieldsync.ReportQuote {
	at := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	return &fieldsync.ReportQuote{
		PriceListVersion: "placeholder-2026-1", Currency: "CNY", TotalFen: 41000, Decision: fieldsync.QuoteAccepted, DecidedAt: &at,
		Lines: []fieldsync.QuoteLine{
			{Kind: "callout", Code: "callout", Name: fieldsync.QuoteNames{ZhCN: "上门费", En: "call-out fee"}, Qty: 1, UnitFen: 5000, TotalFen: 5000},
			{Kind: "part", Code: "tv-psu", Name: fieldsync.QuoteNames{ZhCN: "电源板", En: "power supply board"}, Qty: 2, UnitFen: 18000, TotalFen: 36000},
		},
	}
}

func checkGolden(t *testing.T, name string, d Document) {
	t.Helper()
	b, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/"+name+".json", b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/"+name+".sha256", []byte(h+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantBytes, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	wantHash, err := os.ReadFile("testdata/" + name + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(wantBytes) {
		t.Errorf("canonical bytes changed\n got %s\nwant %s", b, wantBytes)
	}
	if h+"\n" != string(wantHash) {
		t.Errorf("hash = %s, want %s", h, wantHash)
	}
}

// What the server holds of the same report differs in ways the
// signature must not see: the JSON spelling of answers, the report's
// status, clocks and receipts, the time it recorded, the order photos
// arrived in, a cleared answer kept as null or dropped.
func TestBuildIsTheSameFromTheServersRecords(t *testing.T) {
	r, v, tk, a, s := records(t)
	device := canonical(t, r, v, tk, a, s)

	sr, sv, stk, sa, ss := records(t)
	sr.Answers = fieldsync.Answers{
		"error_code": json.RawMessage(` "\u0045\u0032\u0031" `),
		"water_temp": json.RawMessage(`4.05e1`),
		"notes":      json.RawMessage(`"Kunde sagt: \"l\u00e4uft aus\"\n\u20ac"`),
		"drum_noise": json.RawMessage("\ttrue\n"),
		"cleared":    json.RawMessage(`null`),
	}
	signedAt := time.Date(2025, 3, 14, 15, 9, 30, 0, time.UTC)
	sr.Status, sr.SignedAt, sr.SignedBy = fieldsync.ReportSigned, &signedAt, "tech-3"
	sr.Clocks = map[string]string{"findings": "0001"}
	sr.Extra = map[string]json.RawMessage{"future": json.RawMessage(`1`)}
	sr.SignedPhotos = ss.Photos
	sr.UpdatedAt = signedAt
	sv.Status, stk.Description, sa.Model = fieldsync.VisitCompleted, "leaks", "WM-9"
	ss.SignedAt = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	ss.Photos = []fieldsync.SlotPhoto{ss.Photos[2], ss.Photos[0], ss.Photos[1]}

	if server := canonical(t, sr, sv, stk, sa, ss); server != device {
		t.Errorf("server and device disagree\nserver %s\ndevice %s", server, device)
	}
}

// An optional value that is absent, empty or null is left out, so that
// no side writes null or "" where the other writes nothing.
func TestBuildLeavesOutAbsentValues(t *testing.T) {
	for _, c := range []struct {
		name  string
		field string // the key that must not appear
		set   []func(*fixture)
	}{
		{"no answers: nil, empty, or only cleared ones", `"answers"`, []func(*fixture){
			func(f *fixture) { f.r.Answers = nil },
			func(f *fixture) { f.r.Answers = fieldsync.Answers{} },
			func(f *fixture) {
				f.r.Answers = fieldsync.Answers{"a": json.RawMessage(`null`), "b": json.RawMessage(" null ")}
			},
		}},
		{"no findings", `"findings"`, []func(*fixture){
			func(f *fixture) { f.r.Findings = "" },
		}},
		{"no cause", `"cause"`, []func(*fixture){
			func(f *fixture) { f.r.Cause = "" },
		}},
		{"no responsibility", `"responsibility"`, []func(*fixture){
			func(f *fixture) { f.r.Responsibility = "" },
		}},
		{"an asset without a serial", `"asset_serial"`, []func(*fixture){
			func(f *fixture) { f.a.Serial = "" },
		}},
		{"a report that corrects none", `"corrects"`, []func(*fixture){
			func(f *fixture) { f.r.Corrects = "" },
		}},
		{"no customer on site", `"customer_name"`, []func(*fixture){
			func(f *fixture) { f.s.CustomerName = "" },
		}},
		{"no photos: nil or empty", `"photos"`, []func(*fixture){
			func(f *fixture) { f.s.Photos = nil },
			func(f *fixture) { f.s.Photos = []fieldsync.SlotPhoto{} },
		}},
		{"no customer signature", `"customer_signature_sha256"`, []func(*fixture){
			func(f *fixture) { f.s.CustomerSignature = "" },
		}},
		{"no technician signature", `"technician_signature_sha256"`, []func(*fixture){
			func(f *fixture) { f.s.TechnicianSignature = "" },
		}},
		{"every required photo taken: nil or empty", `"unphotographed"`, []func(*fixture){
			func(f *fixture) { f.s.Unphotographed = nil },
			func(f *fixture) { f.s.Unphotographed = []fieldsync.SlotReason{} },
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var first string
			for i, set := range c.set {
				f := newFixture(t)
				set(f)
				got := canonical(t, f.r, f.v, f.tk, f.a, f.s)
				if strings.Contains(got, c.field) || strings.Contains(got, "null") {
					t.Errorf("form %d writes %s or null: %s", i, c.field, got)
				}
				if i == 0 {
					first = got
				} else if got != first {
					t.Errorf("form %d differs from form 0\n got %s\nwant %s", i, got, first)
				}
			}
		})
	}
}

// Every signed fact is in the document: changing any one changes the hash.
func TestEveryFieldIsSigned(t *testing.T) {
	r, v, tk, a, s := records(t)
	base, err := Build(r, v, tk, a, s)
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Document){
		"report_id":                    func(d *Document) { d.ReportID = "rep-2" },
		"visit_id":                     func(d *Document) { d.VisitID = "vis-2" },
		"ticket_id":                    func(d *Document) { d.TicketID = "tkt-2" },
		"asset_id":                     func(d *Document) { d.AssetID = "ast-2" },
		"asset_serial":                 func(d *Document) { d.AssetSerial = "SN-4712" },
		"template_id":                  func(d *Document) { d.TemplateID = "tpl-2" },
		"corrects":                     func(d *Document) { d.Corrects = "rep-0" },
		"slip_no":                      func(d *Document) { d.SlipNo = "K7QM-2026-000043" },
		"an answer":                    func(d *Document) { d.Answers["water_temp"] = json.RawMessage(`40.6`) },
		"findings":                     func(d *Document) { d.Findings += "." },
		"cause":                        func(d *Document) { d.Cause = "" },
		"responsibility":               func(d *Document) { d.Responsibility = fieldsync.ResponsibilityQuality },
		"customer_name":                func(d *Document) { d.CustomerName = "Zoe Muller" },
		"signed_at":                    func(d *Document) { d.SignedAt = "2025-03-14T15:09:27Z" },
		"device_id":                    func(d *Document) { d.DeviceID = "dev-8" },
		"a photo's slot":               func(d *Document) { d.Photos[2].Slot = "serial_plate2" },
		"a photo's hash":               func(d *Document) { d.Photos[0].SHA256 = sha('f') },
		"customer_signature_sha256":    func(d *Document) { d.CustomerSignature = sha('f') },
		"technician_signature_sha256":  func(d *Document) { d.TechnicianSignature = "" },
		"version":                      func(d *Document) { d.Version = "fieldsync-report/2" },
		"a reason for a missing photo": func(d *Document) { d.Unphotographed[0].Reason += "." },
		"a slot without a photo":       func(d *Document) { d.Unphotographed = d.Unphotographed[1:] },
		"the warranty decision": func(d *Document) {
			d.Warranty = sampleWarranty()
			d.Warranty.Decision = json.RawMessage(`{"outcome":"free_repair","options":["free_repair","paid_repair"],"explanation":[{"rule":"part_warranty","text":{"zh-CN":"","en":""}}]}`)
		},
		"the pick-up deductions": func(d *Document) {
			d.Pickup = samplePickup()
			d.Pickup.Deductions[0].Fen, d.Pickup.TotalFen = 0, 0
		},
		"the work done": func(d *Document) {
			d.Work = []fieldsync.WorkLine{{Part: "battery", Code: "BAT-01", Qty: 1}}
		},
		"a quote line's quantity": func(d *Document) {
			d.Quote.Lines[1].Qty, d.Quote.Lines[1].TotalFen, d.Quote.TotalFen = 1, 18000, 23000
		},
		"the quote's decision":   func(d *Document) { d.Quote.Decision = fieldsync.QuoteDeclined },
		"the quote's price list": func(d *Document) { d.Quote.PriceListVersion = "placeholder-2026-2" },
		"the warranty question": func(d *Document) {
			d.Warranty = sampleWarranty()
			d.Warranty.Question = json.RawMessage(`{"failed_part":"panel","checks":{}}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := base
			d.Answers = map[string]json.RawMessage{}
			for k, v := range base.Answers {
				d.Answers[k] = v
			}
			d.Photos = append([]fieldsync.SlotPhoto(nil), base.Photos...)
			d.Unphotographed = append([]fieldsync.SlotReason(nil), base.Unphotographed...)
			d.Warranty = sampleWarranty() // so its own rows change a decision, not add one
			d.Quote = sampleQuote()
			baseHash, _ := d.Hash()
			change(&d)
			if h, _ := d.Hash(); h == baseHash {
				t.Errorf("changing %s leaves the hash %s", name, h)
			}
		})
	}
}

func TestBuildTakesSignedAtToTheSecondInUTC(t *testing.T) {
	r, v, tk, a, s := records(t)
	d, err := Build(r, v, tk, a, s)
	if err != nil {
		t.Fatal(err)
	}
	if d.SignedAt != "2025-03-14T15:09:26Z" {
		t.Errorf("signed_at = %s, want 2025-03-14T15:09:26Z", d.SignedAt)
	}
}

func TestBuildRefuses(t *testing.T) {
	for _, c := range []struct {
		name, detail string
		set          func(*fixture)
	}{
		{"a report of another visit", "is of visit", func(f *fixture) { f.r.VisitID = "vis-9" }},
		{"a visit on another ticket", "is on ticket", func(f *fixture) { f.v.TicketID = "tkt-9" }},
		{"a ticket about another asset", "is about asset", func(f *fixture) { f.tk.AssetID = "ast-9" }},
		{"no report id", "report_id is required", func(f *fixture) { f.r.ID = "" }},
		{"no template", "template_id is required", func(f *fixture) { f.r.TemplateID = "" }},
		{"a report that corrects itself", "cannot correct itself", func(f *fixture) { f.r.Corrects = f.r.ID }},
		{"no device", "device_id is required", func(f *fixture) { f.s.DeviceID = "" }},
		{"no time", "signed_at is required", func(f *fixture) { f.s.SignedAt = time.Time{} }},
		{"a time past year 9999", "signed_at is required", func(f *fixture) { f.s.SignedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"a customer name that is not UTF-8", "customer_name is not valid UTF-8", func(f *fixture) { f.s.CustomerName = "M\xfcller" }},
		{"findings that are not UTF-8", "findings is not valid UTF-8", func(f *fixture) { f.r.Findings = "\xff" }},
		{"an answer that is not JSON", "answers.drum_noise is not valid UTF-8 JSON", func(f *fixture) { f.r.Answers["drum_noise"] = json.RawMessage(`yes`) }},
		{"an answer that is not UTF-8", "answers.notes is not valid UTF-8 JSON", func(f *fixture) { f.r.Answers["notes"] = json.RawMessage("\"\xff\"") }},
		{"an unknown responsibility", "responsibility", func(f *fixture) { f.r.Responsibility = "weather" }},
		{"a photo without a slot", "slot must be non-empty", func(f *fixture) { f.s.Photos[0].Slot = "" }},
		{"a photo hash in upper case", "sha256 must be 64 lower-case hex digits", func(f *fixture) { f.s.Photos[0].SHA256 = strings.ToUpper(sha('b')) }},
		{"a photo named twice", "is named twice", func(f *fixture) { f.s.Photos = append(f.s.Photos, f.s.Photos[1]) }},
		{"a short signature hash", "customer_signature_sha256 must be", func(f *fixture) { f.s.CustomerSignature = "abc" }},
		{"a work line of an unknown part", "work[0].part", func(f *fixture) {
			f.r.Work = []fieldsync.WorkLine{{Part: "panel", Qty: 1}}
		}},
		{"a quote whose lines do not add up", "quote.total_fen", func(f *fixture) {
			f.r.Quote = sampleQuote()
			f.r.Quote.TotalFen++
		}},
		{"a warranty decision without an outcome", "warranty.decision", func(f *fixture) {
			f.r.Warranty = sampleWarranty()
			f.r.Warranty.Decision = json.RawMessage(`{"options":["paid_repair"],"explanation":[]}`)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			c.set(f)
			_, err := Build(f.r, f.v, f.tk, f.a, f.s)
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(fieldsync.ErrorDetail(err), c.detail) {
				t.Errorf("Build = %v, want %s naming %q", err, fieldsync.EInvalid, c.detail)
			}
		})
	}
}

func TestParseReadsBackWhatBuildWrites(t *testing.T) {
	for name, g := range goldens {
		t.Run(name, func(t *testing.T) {
			golden, err := os.ReadFile("testdata/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(golden)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Build(g.records(t))
			if err != nil {
				t.Fatal(err)
			}
			if d.Corrects != g.corrects || d.SlipNo != g.slipNo {
				t.Errorf("corrects = %q, slip_no = %q; want %q, %q", d.Corrects, d.SlipNo, g.corrects, g.slipNo)
			}
			if b, _ := d.Bytes(); string(b) != string(golden) {
				t.Errorf("Parse then Bytes\n got %s\nwant %s", b, golden)
			}
			if dh, _ := d.Hash(); dh != mustHash(t, want) {
				t.Errorf("parsed hash %s, built %s", dh, mustHash(t, want))
			}
		})
	}
}

func mustHash(t *testing.T, d Document) string {
	t.Helper()
	h, err := d.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseRefusesWhatBuildNeverWrites(t *testing.T) {
	golden, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	g := string(golden)
	for _, c := range []struct{ name, doc, detail string }{
		{"whitespace", strings.Replace(g, `,"asset_id"`, `, "asset_id"`, 1), "canonical form"},
		{"keys out of order", `{"version":"` + Version + `","asset_id":"x"}`, "canonical form"},
		{"an unknown field", strings.Replace(g, `{"answers"`, `{"after":1,"answers"`, 1), "unknown field"},
		{"an empty optional field", strings.Replace(g, `"customer_name":"Zoë Müller-Łukasz"`, `"customer_name":""`, 1), "leaves the field out"},
		{"an empty corrects", strings.Replace(g, `"customer_name"`, `"corrects":"","customer_name"`, 1), "leaves the field out"},
		{"empty answers", `{"answers":{},` + g[strings.Index(g, `"asset_id"`):], "leaves the field out"},
		{"a null answer", strings.Replace(g, `"drum_noise":true`, `"drum_noise":null`, 1), "answers.drum_noise is null"},
		{"a field named in another case", strings.Replace(g, `"version"`, `"vErsion"`, 1), "leaves the field out"},
		{"another version", strings.Replace(g, Version, "fieldsync-report/2", 1), "is not " + Version},
		{"a time with a fraction", strings.Replace(g, `15:09:26Z`, `15:09:26.5Z`, 1), "signed_at"},
		{"a time with an offset", strings.Replace(g, `15:09:26Z`, `16:09:26+01:00`, 1), "signed_at"},
		{"photos out of order", strings.NewReplacer(sha('a'), sha('c'), sha('c'), sha('a')).Replace(g), "must be sorted"},
		{"null", `null`, "is not " + Version},
		{"not an object", `[]`, "not a " + Version},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc))
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(fieldsync.ErrorDetail(err), c.detail) {
				t.Errorf("Parse = %v, want %s naming %q", err, fieldsync.EInvalid, c.detail)
			}
		})
	}
}
