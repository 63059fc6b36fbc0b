package fieldsync

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var reportT0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func reportIn(s ReportStatus) Report {
	r := Report{ID: "r1", VisitID: "v1", TemplateID: "tv-v1", Status: s, CreatedAt: reportT0, UpdatedAt: reportT0}
	if s == ReportSigned || s == ReportSealed {
		signed := reportT0.Add(time.Hour)
		r.SignedAt, r.UpdatedAt = &signed, signed
	}
	return r
}

func TestReportEditable(t *testing.T) {
	tests := []struct {
		name   string
		status ReportStatus
		code   string
	}{
		{"a draft is editable", ReportDraft, ""},
		{"a signed report refuses edits", ReportSigned, EReportSealed},
		{"a sealed report refuses edits", ReportSealed, EReportSealed},
		{"a report of unknown status refuses edits", "", EReportSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportIn(tt.status)
			checkErr(t, r.Editable(), tt.code, "")
		})
	}
}

func TestReportSign(t *testing.T) {
	now := reportT0.Add(2 * time.Hour)
	tests := []struct {
		name string
		from ReportStatus
		code string
	}{
		{"a draft signs", ReportDraft, ""},
		{"a signed report cannot be signed again", ReportSigned, EReportSealed},
		{"a sealed report cannot be signed", ReportSealed, EReportSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportIn(tt.from)
			before := r
			err := r.Sign(now)
			checkErr(t, err, tt.code, "")
			if err != nil {
				if !reflect.DeepEqual(r, before) {
					t.Fatalf("a refused Sign changed the report:\n got %+v\nwant %+v", r, before)
				}
				return
			}
			if r.Status != ReportSigned || r.SignedAt == nil || !r.SignedAt.Equal(now) || !r.UpdatedAt.Equal(now) {
				t.Fatalf("after Sign: %+v", r)
			}
			checkErr(t, r.Editable(), EReportSealed, "")
		})
	}
}

func TestReportSeal(t *testing.T) {
	now := reportT0.Add(3 * time.Hour)
	tests := []struct {
		name string
		from ReportStatus
		code string
	}{
		{"a signed report seals", ReportSigned, ""},
		{"a draft cannot be sealed", ReportDraft, EInvalidTransition},
		{"a sealed report cannot be sealed again", ReportSealed, EInvalidTransition},
		{"a report of unknown status cannot be sealed", "", EInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportIn(tt.from)
			before := r
			err := r.Sealed(Seal{ReportID: r.ID}, now)
			checkErr(t, err, tt.code, "")
			if err != nil {
				if !reflect.DeepEqual(r, before) {
					t.Fatalf("a refused Seal changed the report:\n got %+v\nwant %+v", r, before)
				}
				return
			}
			if r.Status != ReportSealed || !r.UpdatedAt.Equal(now) {
				t.Fatalf("after Seal: %+v", r)
			}
			if r.SignedAt != before.SignedAt || !r.SignedAt.Equal(reportT0.Add(time.Hour)) {
				t.Fatalf("Seal moved SignedAt to %v", r.SignedAt)
			}
			checkErr(t, r.Editable(), EReportSealed, "")
		})
	}
}

func TestReportLifecycle(t *testing.T) {
	r := reportIn(ReportDraft)
	t1, t2 := reportT0.Add(time.Hour), reportT0.Add(2*time.Hour)
	if err := r.Editable(); err != nil {
		t.Fatalf("a new draft: %v", err)
	}
	if err := r.Sign(t1); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	checkErr(t, r.Editable(), EReportSealed, "signed")
	checkErr(t, r.Sign(t2), EReportSealed, "")
	if err := r.Sealed(Seal{ReportID: r.ID}, t2); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	checkErr(t, r.Editable(), EReportSealed, "sealed")
	checkErr(t, r.Sign(t2), EReportSealed, "")
	checkErr(t, r.Sealed(Seal{ReportID: r.ID}, t2), EInvalidTransition, "")
	if r.Status != ReportSealed || !r.SignedAt.Equal(t1) || !r.UpdatedAt.Equal(t2) {
		t.Fatalf("after the lifecycle: %+v", r)
	}
}

func TestResponsibilityValid(t *testing.T) {
	tests := []struct {
		name string
		in   Responsibility
		want bool
	}{
		{"quality is a responsibility", ResponsibilityQuality, true},
		{"customer damage is a responsibility", ResponsibilityCustomerDamage, true},
		{"transport is a responsibility", ResponsibilityTransport, true},
		{"unknown is a responsibility: the appraiser may not know", ResponsibilityUnknown, true},
		{"an empty responsibility is not one", "", false},
		{"a made-up responsibility is not one", "fate", false},
		{"case matters", "Quality", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Valid(); got != tt.want {
				t.Fatalf("Responsibility(%q).Valid() = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckReportText(t *testing.T) {
	tests := []struct {
		name string
		text string
		code string
	}{
		{"empty text is allowed", "", ""},
		{"text of MaxLongText bytes is allowed", strings.Repeat("a", MaxLongText), ""},
		{"text one byte over MaxLongText is refused", strings.Repeat("a", MaxLongText+1), EInvalid},
		{"the limit counts bytes, not characters", strings.Repeat("屏", MaxLongText/3+1), EInvalid},
		{"Chinese text within the limit is allowed", "屏幕右下角有裂痕", ""},
		{"bytes that are not UTF-8 are refused", "panel \xff cracked", EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, CheckReportText("findings", tt.text), tt.code, "")
		})
	}
}

func TestCheckReportField(t *testing.T) {
	tp := tvTemplate()
	tests := []struct {
		name  string
		field string
		raw   string
		tpl   *Template
		code  string
	}{
		{"a visit id is a string", "visit_id", `"v1"`, nil, ""},
		{"a visit id that is no string is invalid", "visit_id", `7`, nil, EInvalid},
		{"a template id that is no string is invalid", "template_id", `{"id":"tv-v1"}`, nil, EInvalid},
		{"answers the template takes are valid", "answers", `{"power_on":true,"panel":"cracked"}`, &tp, ""},
		{"an answer the template refuses is invalid", "answers", `{"power_on":"yes"}`, &tp, EInvalid},
		{"an answer to no item of the template is invalid", "answers", `{"colour":"red"}`, &tp, EInvalid},
		{"null clears an answer", "answers", `{"power_on":null}`, &tp, ""},
		{"without the template only the shape of answers is checked", "answers", `{"colour":"red"}`, nil, ""},
		{"answers that are no object are invalid, template or not", "answers", `[true]`, nil, EInvalid},
		{"findings are text", "findings", `"panel cracked"`, nil, ""},
		{"findings that are no text are invalid", "findings", `42`, nil, EInvalid},
		{"a cause longer than MaxLongText is invalid", "cause", `"` + strings.Repeat("a", MaxLongText+1) + `"`, nil, EInvalid},
		{"a known responsibility is valid", "responsibility", `"transport"`, nil, ""},
		{"an unknown responsibility is invalid", "responsibility", `"fate"`, nil, EInvalid},
		{"a responsibility that is no string is invalid", "responsibility", `1`, nil, EInvalid},
		{"a field of a newer client is kept as it is", "customer_mood", `{"any":"json"}`, nil, ""},
		{"a field name of 64 bytes is kept", strings.Repeat("x", 64), `1`, nil, ""},
		{"an unknown field name over 64 bytes is refused", strings.Repeat("x", 65), `1`, nil, EUnknownField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, CheckReportField(tt.field, json.RawMessage(tt.raw), tt.tpl), tt.code, "")
		})
	}
}

func edit(kv ...string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = json.RawMessage(kv[i+1])
	}
	return m
}

func always(string) bool { return true }

func TestReportSetFields(t *testing.T) {
	tp := tvTemplate()
	draft := func() Report {
		r := reportIn(ReportDraft)
		r.Findings, r.Answers = "old", map[string]json.RawMessage{"power_on": json.RawMessage(`true`)}
		return r
	}
	tests := []struct {
		name    string
		start   func() Report
		fields  map[string]json.RawMessage
		tpl     *Template
		newer   func(string) bool
		code    string
		changed []string // the fields SetFields says it set
		check   func(r Report) bool
	}{
		{"the free fields take their new values", draft, edit("findings", `"new"`, "cause", `"impact"`, "responsibility", `"transport"`), &tp, always, "",
			[]string{"cause", "findings", "responsibility"},
			func(r Report) bool {
				return r.Findings == "new" && r.Cause == "impact" && r.Responsibility == ResponsibilityTransport
			}},
		{"answers are set item by item, the others kept", draft, edit("answers", `{"panel":"cracked"}`), &tp, always, "",
			[]string{"answers.panel"},
			func(r Report) bool {
				return string(r.Answers["power_on"]) == "true" && string(r.Answers["panel"]) == `"cracked"`
			}},
		{"a field whose edit is not newer keeps its value", draft, edit("findings", `"new"`, "cause", `"impact"`), &tp,
			func(field string) bool { return field != "findings" }, "",
			[]string{"cause"},
			func(r Report) bool { return r.Findings == "old" && r.Cause == "impact" }},
		{"each answer is asked about on its own", draft, edit("answers", `{"power_on":false,"panel":"intact"}`), &tp,
			func(field string) bool { return field == "answers.panel" }, "",
			[]string{"answers.panel"},
			func(r Report) bool {
				return string(r.Answers["power_on"]) == "true" && string(r.Answers["panel"]) == `"intact"`
			}},
		{"a field of a newer client is kept in Extra", draft, edit("customer_mood", `"calm"`), &tp, always, "",
			[]string{"extra.customer_mood"},
			func(r Report) bool { return string(r.Extra["customer_mood"]) == `"calm"` }},
		{"a new report takes its visit and template and they are no edits", func() Report { return Report{Status: ReportDraft} },
			edit("visit_id", `"v9"`, "template_id", `"tv-v1"`), nil, always, "", []string{},
			func(r Report) bool { return r.VisitID == "v9" && r.TemplateID == "tv-v1" }},
		{"the report's own visit may be named again", draft, edit("visit_id", `"v1"`, "findings", `"new"`), &tp, always, "",
			[]string{"findings"},
			func(r Report) bool { return r.VisitID == "v1" && r.Findings == "new" }},
		{"the visit of a report cannot change", draft, edit("visit_id", `"v2"`), &tp, always, EInvalid, nil, nil},
		{"the template of a report cannot change", draft, edit("template_id", `"tv-v2"`), &tp, always, EInvalid, nil, nil},
		{"one bad field refuses the whole edit", draft, edit("findings", `"new"`, "responsibility", `"fate"`), &tp, always, EInvalid, nil, nil},
		{"an answer the template refuses refuses the edit", draft, edit("findings", `"new"`, "answers", `{"power_on":"yes"}`), &tp, always, EInvalid, nil, nil},
		{"without the template an answer is taken as it is", draft, edit("answers", `{"power_on":"yes"}`), nil, always, "",
			[]string{"answers.power_on"},
			func(r Report) bool { return string(r.Answers["power_on"]) == `"yes"` }},
		{"a new report takes corrects with its visit and template", func() Report { return Report{Status: ReportDraft} },
			edit("visit_id", `"v9"`, "template_id", `"tv-v1"`, "corrects", `"r0"`), nil, always, "", []string{},
			func(r Report) bool { return r.Corrects == "r0" && r.VisitID == "v9" }},
		{"an addendum may name the report it corrects again", func() Report { r := draft(); r.Corrects = "r0"; return r },
			edit("corrects", `"r0"`, "findings", `"new"`), &tp, always, "", []string{"findings"},
			func(r Report) bool { return r.Corrects == "r0" }},
		{"a report made without corrects cannot become an addendum", draft, edit("corrects", `"r0"`), &tp, always, EInvalid, nil, nil},
		{"the report an addendum corrects cannot change", func() Report { r := draft(); r.Corrects = "r0"; return r },
			edit("corrects", `"r2"`), &tp, always, EInvalid, nil, nil},
		{"corrects must name a report", func() Report { return Report{Status: ReportDraft} },
			edit("visit_id", `"v9"`, "template_id", `"tv-v1"`, "corrects", `""`), nil, always, EInvalid, nil, nil},
		{"an unknown field name over 64 bytes refuses the edit", draft, edit(strings.Repeat("x", 65), `1`), &tp, always, EUnknownField, nil, nil},
		{"a signed report refuses edits", func() Report { return reportIn(ReportSigned) }, edit("findings", `"new"`), &tp, always, EReportSealed, nil, nil},
		{"an empty edit changes nothing", draft, nil, &tp, always, "", []string{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.start()
			before := r.Clone()
			changed, err := r.SetFields(tt.fields, tt.tpl, tt.newer)
			checkErr(t, err, tt.code, "")
			if err != nil {
				if !reflect.DeepEqual(r, before) {
					t.Fatalf("a refused edit changed the report:\n got %+v\nwant %+v", r, before)
				}
				return
			}
			if got := slices.Sorted(maps.Keys(changed)); !slices.Equal(got, tt.changed) {
				t.Fatalf("changed %v, want %v", got, tt.changed)
			}
			if tt.check != nil && !tt.check(r) {
				t.Fatalf("after SetFields: %+v", r)
			}
		})
	}
}

func TestReportCheckCorrects(t *testing.T) {
	addendum := Report{ID: "a1", VisitID: "v1", TemplateID: "tv-v1", Corrects: "r1", Status: ReportDraft}
	of := func(s ReportStatus, change func(*Report)) *Report {
		r := reportIn(s)
		if change != nil {
			change(&r)
		}
		return &r
	}
	tests := []struct {
		name         string
		orig         *Report
		code, detail string
	}{
		{"a sealed report of the same visit and template may be corrected", of(ReportSealed, nil), "", ""},
		{"an unknown report cannot be corrected", nil, EInvalid, `corrects: no report "r1"`},
		{"a draft is edited, not corrected", of(ReportDraft, nil), EInvalidTransition, "report r1 is a draft"},
		{"a signed report waits for its seal", of(ReportSigned, nil), EInvalidTransition, "report r1 is signed, not sealed: wait for its seal"},
		{"a report of another visit cannot be corrected", of(ReportSealed, func(r *Report) { r.VisitID = "v2" }), EInvalid, "corrects: report r1 is of visit v2, not v1"},
		{"a report on another template cannot be corrected", of(ReportSealed, func(r *Report) { r.TemplateID = "tv-v2" }), EInvalid, "corrects: report r1 is on template tv-v2"},
		{"an addendum is not corrected: its report is", of(ReportSealed, func(r *Report) { r.Corrects = "r0" }), EInvalid, "is itself an addendum of r0: correct r0"},
		{"a report does not correct itself", of(ReportSealed, func(r *Report) { r.ID = "a1" }), EInvalid, "cannot correct itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := addendum
			checkErr(t, a.CheckCorrects(tt.orig), tt.code, tt.detail)
		})
	}
}

func TestReportCheckSignable(t *testing.T) {
	tp := tvTemplate()
	tests := []struct {
		name    string
		answers map[string]json.RawMessage
		code    string
		detail  string
	}{
		{"every required item answered signs", edit("power_on", `true`, "panel", `"intact"`, "voltage", `220`), "", ""},
		{"an unanswered required item refuses and is named", edit("power_on", `true`, "panel", `"intact"`), EReportIncomplete, "voltage"},
		{"every missing item is named, in template order", nil, EReportIncomplete, "power_on, panel, voltage"},
		{"a cleared answer counts as unanswered", edit("power_on", `null`, "panel", `"intact"`, "voltage", `220`), EReportIncomplete, "power_on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportIn(ReportDraft)
			r.Answers = tt.answers
			checkErr(t, r.CheckSignable(tp), tt.code, tt.detail)
		})
	}
}

func TestReportClone(t *testing.T) {
	r := reportIn(ReportSigned)
	r.Answers, r.Extra = edit("power_on", `true`), edit("mood", `"calm"`)
	r.Clocks, r.RequiredSlots = map[string]string{"findings": "1:0:a"}, []string{"front"}
	c := r.Clone()
	if !reflect.DeepEqual(c, r) {
		t.Fatalf("clone %+v differs from %+v", c, r)
	}
	c.Answers["power_on"], c.Extra["mood"], c.Clocks["findings"], c.RequiredSlots[0] = json.RawMessage(`false`), nil, "2:0:b", "back"
	*c.SignedAt = c.SignedAt.Add(time.Hour)
	if string(r.Answers["power_on"]) != "true" || r.Extra["mood"] == nil || r.Clocks["findings"] != "1:0:a" || r.RequiredSlots[0] != "front" ||
		!r.SignedAt.Equal(reportT0.Add(time.Hour)) {
		t.Fatalf("editing the clone changed the report: %+v", r)
	}
}

func TestReportTakesPhoto(t *testing.T) {
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	signed := Report{ID: "r1", Status: ReportSigned, SignedPhotos: []SlotPhoto{{Slot: "fault", SHA256: a}}}
	tests := []struct {
		name       string
		r          Report
		slot, sha  string
		wantSealed bool
	}{
		{"a draft takes any photo", Report{Status: ReportDraft}, "fault", b, false},
		{"a signed report takes a photo its signature names", signed, "fault", a, false},
		{"a signed report refuses another photo", signed, "fault", b, true},
		{"a signed report refuses a named photo on another slot", signed, "serial_plate", a, true},
		{"a signed report that named none takes none", Report{Status: ReportSigned}, "fault", a, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.TakesPhoto(tt.slot, tt.sha)
			if got := ErrorCode(err) == EReportSealed; got != tt.wantSealed {
				t.Errorf("TakesPhoto = %v, want sealed %v", err, tt.wantSealed)
			}
		})
	}
}

func TestParseSignedPhotos(t *testing.T) {
	tpl := Template{ID: "t", PhotoSlots: []PhotoSlot{{ID: "fault"}, {ID: "serial_plate"}}}
	const a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	tests := []struct {
		name, raw, wantErr string
		want               int
	}{
		{"no photos field names none", "", "", 0},
		{"photos on the template's slots are named", `[{"slot":"fault","sha256":"` + a + `"},{"slot":"serial_plate","sha256":"` + a + `"}]`, "", 2},
		{"a slot the template lacks is refused", `[{"slot":"overview","sha256":"` + a + `"}]`, "photos[0]", 0},
		{"a hash that is not hex SHA-256 is refused", `[{"slot":"fault","sha256":"AB"}]`, "photos[0]: sha256", 0},
		{"a photo named twice is refused", `[{"slot":"fault","sha256":"` + a + `"},{"slot":"fault","sha256":"` + a + `"}]`, "photos[1]", 0},
		{"anything but a list is refused", `{"slot":"fault"}`, "list", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw json.RawMessage
			if tt.raw != "" {
				raw = json.RawMessage(tt.raw)
			}
			got, err := ParseSignedPhotos(raw, tpl)
			switch {
			case tt.wantErr == "" && (err != nil || len(got) != tt.want):
				t.Errorf("= %+v, %v; want %d photos", got, err, tt.want)
			case tt.wantErr != "" && (ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want invalid naming %q", err, tt.wantErr)
			}
		})
	}
}
