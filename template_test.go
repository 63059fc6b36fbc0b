package fieldsync

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func fptr(f float64) *float64 { return &f }

func label(s string) Text { return Text{ZH: s + "（中文）", EN: s} }

// tvTemplate is a valid template with one item of every type.
func tvTemplate() Template {
	return Template{
		ID: "tv-v1", Version: 1, Category: CategoryTV, Name: label("TV inspection"),
		Items: []ChecklistItem{
			{ID: "power_on", Label: label("Powers on"), Type: ItemYesNo, Required: true},
			{ID: "panel", Label: label("Panel"), Type: ItemChoice, Required: true, Options: []Option{
				{Value: "intact", Label: label("Intact")},
				{Value: "cracked", Label: label("Cracked")},
				{Value: "scratched", Label: label("Scratched")},
			}},
			{ID: "voltage", Label: label("Mains voltage"), Type: ItemNumber, Unit: "V", Min: fptr(0), Max: fptr(250), Required: true},
			{ID: "age_months", Label: label("Age"), Type: ItemNumber, Unit: "month", Min: fptr(1)},
			{ID: "screen_inches", Label: label("Screen size"), Type: ItemNumber, Unit: "in"},
			{ID: "notes", Label: label("Notes"), Type: ItemText},
		},
		PhotoSlots: []PhotoSlot{
			{ID: "front", Label: label("Front"), Required: true},
			{ID: "box", Label: label("Box")},
			{ID: "serial_plate", Label: label("Serial plate"), Required: true},
		},
	}
}

func TestTemplateValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(tp *Template)
		wantErr string // substring of the error; "" means valid
		code    string // ErrorCode when wantErr is set
	}{
		{"a well-formed template is valid", func(tp *Template) {}, "", ""},
		{"a template without items or photo slots is valid", func(tp *Template) { tp.Items, tp.PhotoSlots = nil, nil }, "", ""},
		{"a choice with two options is valid", func(tp *Template) { tp.Items[1].Options = tp.Items[1].Options[:2] }, "", ""},
		{"a template needs an id", func(tp *Template) { tp.ID = "" }, "needs an id", EInternal},
		{"a template needs version 1 or later", func(tp *Template) { tp.Version = 0 }, "version >= 1", EInternal},
		{"a negative version is refused", func(tp *Template) { tp.Version = -1 }, "version >= 1", EInternal},
		{"a template needs a category", func(tp *Template) { tp.Category = "" }, "unknown category", EInvalid},
		{"a template's category must be known", func(tp *Template) { tp.Category = "car" }, "unknown category", EInvalid},
		{"item ids may not repeat", func(tp *Template) { tp.Items[3].ID = "power_on" }, `item id "power_on" empty or repeated`, EInternal},
		{"item ids may not be empty", func(tp *Template) { tp.Items[0].ID = "" }, `item id "" empty or repeated`, EInternal},
		{"an item needs a Chinese label", func(tp *Template) { tp.Items[2].Label.ZH = "" }, "voltage needs zh-CN and en labels", EInternal},
		{"an item needs an English label", func(tp *Template) { tp.Items[2].Label.EN = "" }, "voltage needs zh-CN and en labels", EInternal},
		{"a choice with one option is refused", func(tp *Template) { tp.Items[1].Options = tp.Items[1].Options[:1] }, "panel needs at least two options", EInternal},
		{"a choice without options is refused", func(tp *Template) { tp.Items[1].Options = nil }, "panel needs at least two options", EInternal},
		{"an item needs a type", func(tp *Template) { tp.Items[0].Type = "" }, "unknown type", EInternal},
		{"an unknown item type is refused", func(tp *Template) { tp.Items[0].Type = "date" }, `unknown type "date"`, EInternal},
		{"photo slot ids may not repeat", func(tp *Template) { tp.PhotoSlots[2].ID = "front" }, `photo slot id "front" empty or repeated`, EInternal},
		{"photo slot ids may not be empty", func(tp *Template) { tp.PhotoSlots[1].ID = "" }, `photo slot id "" empty or repeated`, EInternal},
		{"an item and a photo slot may share an id", func(tp *Template) { tp.PhotoSlots[0].ID = "panel" }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := tvTemplate()
			tt.edit(&tp)
			err := tp.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("ErrorCode = %q, want %q", got, tt.code)
			}
		})
	}
}

func TestTemplateCheckAnswer(t *testing.T) {
	tp := tvTemplate()
	tests := []struct {
		name string
		id   string
		raw  string
		ok   bool
	}{
		// yes_no
		{"yes_no takes true", "power_on", `true`, true},
		{"yes_no takes false", "power_on", `false`, true},
		{"yes_no refuses a string", "power_on", `"true"`, false},
		{"yes_no refuses yes", "power_on", `"yes"`, false},
		{"yes_no refuses a number", "power_on", `1`, false},
		{"yes_no refuses an object", "power_on", `{}`, false},

		// choice
		{"a choice takes one of its options", "panel", `"cracked"`, true},
		{"a choice takes its first option", "panel", `"intact"`, true},
		{"a choice refuses a value not among its options", "panel", `"shattered"`, false},
		{"a choice is case-sensitive", "panel", `"Intact"`, false},
		{"a choice refuses an empty string", "panel", `""`, false},
		{"a choice refuses an option's label", "panel", `"Cracked"`, false},
		{"a choice refuses a number", "panel", `1`, false},
		{"a choice refuses a list of options", "panel", `["intact"]`, false},

		// number with min and max
		{"a number within range is valid", "voltage", `220`, true},
		{"a fractional number is valid", "voltage", `219.5`, true},
		{"a number at its min is valid", "voltage", `0`, true},
		{"a number at its max is valid", "voltage", `250`, true},
		{"a number below its min is refused", "voltage", `-0.1`, false},
		{"a number above its max is refused", "voltage", `250.01`, false},
		{"a number refuses a numeric string", "voltage", `"220"`, false},
		{"a number refuses a boolean", "voltage", `true`, false},
		{"a number refuses an overflowing literal", "voltage", `1e400`, false},
		{"a number with only a min refuses less", "age_months", `0`, false},
		{"a number with only a min takes anything above", "age_months", `1e9`, true},
		{"an unbounded number takes a negative", "screen_inches", `-55`, true},
		{"an unbounded number takes a large value", "screen_inches", `1e300`, true},

		// text
		{"text takes a string", "notes", `"屏幕右下角有裂纹"`, true},
		{"text takes an empty string", "notes", `""`, true},
		{"text of 4000 bytes is valid", "notes", `"` + strings.Repeat("t", MaxLongText) + `"`, true},
		{"text of 4001 bytes is refused", "notes", `"` + strings.Repeat("t", MaxLongText+1) + `"`, false},
		{"the text limit is in bytes: 1334 Chinese characters are refused", "notes", `"` + strings.Repeat("裂", 1334) + `"`, false},
		{"the text limit counts decoded bytes, not escapes", "notes", `"` + strings.Repeat(`\u0074`, MaxLongText) + `"`, true},
		{"text refuses a number", "notes", `123`, false},
		{"text refuses a list", "notes", `["a"]`, false},

		// any item
		{"an unknown item is refused", "nope", `true`, false},
		{"an empty item id is refused", "", `true`, false},
		{"item ids are case-sensitive", "Power_On", `true`, false},
		{"malformed JSON is refused", "power_on", `tru`, false},
		{"an empty answer is refused", "power_on", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tp.CheckAnswer(tt.id, json.RawMessage(tt.raw))
			if tt.ok {
				checkErr(t, err, "", "")
				return
			}
			checkErr(t, err, EInvalid, "")
			// The detail names the item it is about.
			if tt.id != "" && !strings.Contains(ErrorDetail(err), tt.id) {
				t.Fatalf("detail %q does not name item %q", ErrorDetail(err), tt.id)
			}
		})
	}
}

func TestTemplateMissing(t *testing.T) {
	tp := tvTemplate()
	complete := func() map[string]json.RawMessage {
		return map[string]json.RawMessage{
			"power_on": json.RawMessage(`true`),
			"panel":    json.RawMessage(`"intact"`),
			"voltage":  json.RawMessage(`220`),
		}
	}
	tests := []struct {
		name    string
		answers func() map[string]json.RawMessage
		want    []string
	}{
		{"every item answered leaves nothing missing", func() map[string]json.RawMessage {
			a := complete()
			a["age_months"], a["screen_inches"], a["notes"] = json.RawMessage(`12`), json.RawMessage(`55`), json.RawMessage(`"ok"`)
			return a
		}, nil},
		{"optional items may stay unanswered", complete, nil},
		{"no answers at all misses every required item, in template order", func() map[string]json.RawMessage { return nil }, []string{"power_on", "panel", "voltage"}},
		{"an empty map misses every required item", func() map[string]json.RawMessage { return map[string]json.RawMessage{} }, []string{"power_on", "panel", "voltage"}},
		{"an absent required answer is missing", func() map[string]json.RawMessage {
			a := complete()
			delete(a, "panel")
			return a
		}, []string{"panel"}},
		{"a JSON null answer is missing", func() map[string]json.RawMessage {
			a := complete()
			a["voltage"] = json.RawMessage(`null`)
			return a
		}, []string{"voltage"}},
		{"a JSON null surrounded by whitespace is missing", func() map[string]json.RawMessage {
			a := complete()
			a["power_on"] = json.RawMessage(" null\n")
			return a
		}, []string{"power_on"}},
		{"false is an answer", func() map[string]json.RawMessage {
			a := complete()
			a["power_on"] = json.RawMessage(`false`)
			return a
		}, nil},
		{"zero is an answer", func() map[string]json.RawMessage {
			a := complete()
			a["voltage"] = json.RawMessage(`0`)
			return a
		}, nil},
		{"a null optional answer is not missing", func() map[string]json.RawMessage {
			a := complete()
			a["notes"] = json.RawMessage(`null`)
			return a
		}, nil},
		{"answers to unknown items do not count", func() map[string]json.RawMessage {
			return map[string]json.RawMessage{"extra": json.RawMessage(`true`), "power_on": json.RawMessage(`true`)}
		}, []string{"panel", "voltage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tp.Missing(tt.answers()); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Missing = %q, want %q", got, tt.want)
			}
		})
	}
}

// Answers decoded from a request body carry null as the literal "null".
func TestTemplateMissingFromDecodedJSON(t *testing.T) {
	tp := tvTemplate()
	var answers map[string]json.RawMessage
	if err := json.Unmarshal([]byte(`{"power_on": null, "panel": "cracked"}`), &answers); err != nil {
		t.Fatal(err)
	}
	if got, want := tp.Missing(answers), []string{"power_on", "voltage"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Missing = %q, want %q", got, want)
	}
}

func TestTemplateRequiredSlots(t *testing.T) {
	tests := []struct {
		name  string
		slots []PhotoSlot
		want  []string
	}{
		{"required slots come back in template order", tvTemplate().PhotoSlots, []string{"front", "serial_plate"}},
		{"no required slots gives none", []PhotoSlot{{ID: "box", Label: label("Box")}}, nil},
		{"no slots gives none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := tvTemplate()
			tp.PhotoSlots = tt.slots
			if got := tp.RequiredSlots(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("RequiredSlots = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTemplateCheckSlot(t *testing.T) {
	tests := []struct {
		name  string
		slots []PhotoSlot
		slot  string
		want  string // "" for accepted, else part of the detail
	}{
		{"a slot of the template", tvTemplate().PhotoSlots, "serial_plate", ""},
		{"the customer's signature, on every template", tvTemplate().PhotoSlots, SlotSignatureCustomer, ""},
		{"the technician's signature, on every template", tvTemplate().PhotoSlots, SlotSignatureTechnician, ""},
		{"a signature on a template without slots", nil, SlotSignatureCustomer, ""},
		{"another slot is refused, naming them all", tvTemplate().PhotoSlots, "overview", `"overview" is not a photo slot of template tv-v1; use one of front, box, serial_plate, signature_customer, signature_technician`},
		{"a signature of someone else", nil, "signature_witness", "use one of signature_customer, signature_technician"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := tvTemplate()
			tp.PhotoSlots = tt.slots
			err := tp.CheckSlot(tt.slot)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckSlot(%q) = %v, want accepted", tt.slot, err)
				}
				return
			}
			if ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckSlot(%q) = %v, want invalid naming %q", tt.slot, err, tt.want)
			}
		})
	}
}

func TestTemplateJSONRoundTrip(t *testing.T) {
	tp := tvTemplate()
	b, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"zh-CN"`) {
		t.Fatalf("labels do not use the zh-CN key: %s", b)
	}
	var back Template
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tp) {
		t.Fatalf("round trip changed the template:\n got %+v\nwant %+v", back, tp)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("decoded template: %v", err)
	}
}

func TestNullClearsAnAnswerOfEveryType(t *testing.T) {
	min := 1.0
	tpl := Template{ID: "t", Version: 1, Category: CategoryTV, Items: []ChecklistItem{
		{ID: "yn", Type: ItemYesNo, Required: true},
		{ID: "ch", Type: ItemChoice, Options: []Option{{Value: "a"}, {Value: "b"}}, Required: true},
		{ID: "num", Type: ItemNumber, Min: &min, Required: true},
		{ID: "txt", Type: ItemText, Required: true},
	}}
	answers := map[string]json.RawMessage{}
	for _, it := range tpl.Items {
		if err := tpl.CheckAnswer(it.ID, json.RawMessage("null")); err != nil {
			t.Errorf("%s: null refused: %v", it.ID, err)
		}
		answers[it.ID] = json.RawMessage("null")
	}
	answers["txt"] = json.RawMessage(`""`)
	if got := tpl.Missing(answers); len(got) != 4 {
		t.Fatalf("Missing = %v, want all four: null and empty text are no answers", got)
	}
}
