package fieldsync_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

func TestSlipNoString(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		counter uint64
		want    string
	}{
		{1, "K7QM-2026-000001"},
		{42, "K7QM-2026-000042"},
		{999999, "K7QM-2026-999999"},
		{1000000, "K7QM-2026-1000000"},
	} {
		if got := fieldsync.NewSlipNo("K7QM", at, c.counter).String(); got != c.want {
			t.Errorf("counter %d: %s, want %s", c.counter, got, c.want)
		}
	}
}

func TestParseSlipNo(t *testing.T) {
	for _, c := range []struct {
		in   string
		want fieldsync.SlipNo
		why  string // "" when valid
	}{
		{"K7QM-2026-000042", fieldsync.SlipNo{Prefix: "K7QM", Year: 2026, Counter: 42}, ""},
		{"K7QMZZ22-2030-1234567", fieldsync.SlipNo{Prefix: "K7QMZZ22", Year: 2030, Counter: 1234567}, ""},
		{"", fieldsync.SlipNo{}, "three parts"},
		{"K7QM-2026", fieldsync.SlipNo{}, "three parts"},
		{"K7QM-2026-000042-1", fieldsync.SlipNo{}, "three parts"},
		{"K7Q-2026-000042", fieldsync.SlipNo{}, "prefix"},
		{"K7QMZZ223-2026-000042", fieldsync.SlipNo{}, "prefix"},
		{"K0QM-2026-000042", fieldsync.SlipNo{}, "prefix"},    // 0 is not in the alphabet
		{"KOQM-2026-000042", fieldsync.SlipNo{}, "prefix"},    // nor O
		{"K1QM-2026-000042", fieldsync.SlipNo{}, "prefix"},    // nor 1
		{"KIQM-2026-000042", fieldsync.SlipNo{}, "prefix"},    // nor I
		{"k7qm-2026-000042", fieldsync.SlipNo{}, "prefix"},    // one spelling: capitals
		{"K7QM-26-000042", fieldsync.SlipNo{}, "year"},        // four digits
		{"K7QM-1999-000042", fieldsync.SlipNo{}, "year"},      // from 2000
		{"K7QM-+026-000042", fieldsync.SlipNo{}, "year"},      //
		{"K7QM-2026-000000", fieldsync.SlipNo{}, "from 1"},    // counters start at 1
		{"K7QM-2026-42", fieldsync.SlipNo{}, "6 digits"},      // one spelling: padded
		{"K7QM-2026-0000042", fieldsync.SlipNo{}, "6 digits"}, // and no more
		{"K7QM-2026-+00042", fieldsync.SlipNo{}, "from 1"},
		{"K7QM-2026-" + strings.Repeat("9", 30), fieldsync.SlipNo{}, "too long"},
	} {
		got, err := fieldsync.ParseSlipNo(c.in)
		if c.why == "" {
			if err != nil || got != c.want {
				t.Errorf("ParseSlipNo(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			}
			continue
		}
		if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(fieldsync.ErrorDetail(err), c.why) {
			t.Errorf("ParseSlipNo(%q): %v, want invalid saying %q", c.in, err, c.why)
		}
	}
}

func TestSlipPrefixesNeverRepeat(t *testing.T) {
	seen := make(map[string]uint64, 1<<20)
	for n := uint64(0); n < 1<<20+1000; n++ {
		p := fieldsync.SlipPrefixFor(n)
		if !fieldsync.ValidSlipPrefix(p) {
			t.Fatalf("prefix %d is %q: not a valid prefix", n, p)
		}
		if m, ok := seen[p]; ok {
			t.Fatalf("prefixes %d and %d are both %s", m, n, p)
		}
		seen[p] = n
	}
	if a, b := fieldsync.SlipPrefixFor(1), fieldsync.SlipPrefixFor(2); a[:3] == b[:3] {
		t.Errorf("consecutive prefixes %s and %s look alike", a, b)
	}
}

func TestCheckSlipIssuer(t *testing.T) {
	for _, c := range []struct {
		no, prefix, code string
	}{
		{"K7QM-2026-000042", "K7QM", ""},
		{"K7QM-2026-000042", "ABCD", fieldsync.ESlipPrefix},
		{"K7QM-2026-000042", "", fieldsync.ESlipPrefix},
		{"K7QM-2026-42", "K7QM", fieldsync.EInvalid},
	} {
		if got := fieldsync.ErrorCode(fieldsync.CheckSlipIssuer(c.no, c.prefix)); got != c.code {
			t.Errorf("CheckSlipIssuer(%s, %q) = %q, want %q", c.no, c.prefix, got, c.code)
		}
	}
}

func TestSlipNoIsSetOnlyWithTheReportsFirstFields(t *testing.T) {
	always := func(string) bool { return true }
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	r := fieldsync.Report{Status: fieldsync.ReportDraft}
	if _, err := r.SetFields(map[string]json.RawMessage{"visit_id": raw("v-1"), "template_id": raw("tpl"), "slip_no": raw("K7QM-2026-000001")}, nil, always); err != nil {
		t.Fatal(err)
	}
	if r.SlipNo != "K7QM-2026-000001" || r.Extra != nil {
		t.Fatalf("slip_no = %q, extra %v", r.SlipNo, r.Extra)
	}
	// The same number again is no change; another, or a first one on a
	// report already made, is refused.
	if _, err := r.SetFields(map[string]json.RawMessage{"slip_no": raw("K7QM-2026-000001")}, nil, always); err != nil {
		t.Errorf("repeating the number: %v", err)
	}
	if _, err := r.SetFields(map[string]json.RawMessage{"slip_no": raw("K7QM-2026-000002")}, nil, always); fieldsync.ErrorCode(err) != fieldsync.EInvalid || r.SlipNo != "K7QM-2026-000001" {
		t.Errorf("changing the number: %v, slip_no %s", err, r.SlipNo)
	}
	unnumbered := fieldsync.Report{VisitID: "v-1", TemplateID: "tpl", Status: fieldsync.ReportDraft}
	if _, err := unnumbered.SetFields(map[string]json.RawMessage{"slip_no": raw("K7QM-2026-000003")}, nil, always); fieldsync.ErrorCode(err) != fieldsync.EInvalid || unnumbered.SlipNo != "" {
		t.Errorf("numbering a report made without a number: %v", err)
	}
	fresh := fieldsync.Report{Status: fieldsync.ReportDraft}
	if _, err := fresh.SetFields(map[string]json.RawMessage{"visit_id": raw("v-1"), "slip_no": raw("K7QM-26-1")}, nil, always); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("a malformed number: %v", err)
	}
}
