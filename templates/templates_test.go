package templates

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/fieldsync/fieldsync"
)

func TestEveryCategoryHasExactlyOneTemplate(t *testing.T) {
	ts := All()
	if len(ts) != len(fieldsync.Categories) {
		t.Fatalf("All() has %d templates, want one per category (%d)", len(ts), len(fieldsync.Categories))
	}
	if !slices.IsSortedFunc(ts, func(a, b fieldsync.Template) int { return strings.Compare(string(a.Category), string(b.Category)) }) {
		t.Errorf("All() is not sorted by category")
	}
	for _, c := range fieldsync.Categories {
		n := 0
		for _, tp := range ts {
			if tp.Category == c {
				n++
			}
		}
		if n != 1 {
			t.Errorf("category %s has %d templates, want 1", c, n)
		}
		tp, ok := ForCategory(c)
		if !ok || tp.Category != c {
			t.Errorf("ForCategory(%s) = %s, %v", c, tp.ID, ok)
			continue
		}
		byID, ok := ByID(tp.ID)
		if !ok || !reflect.DeepEqual(byID, tp) {
			t.Errorf("ByID(%s) differs from ForCategory(%s)", tp.ID, c)
		}
	}
}

func TestLookupsOfUnknownNames(t *testing.T) {
	if _, ok := ForCategory("car"); ok {
		t.Error(`ForCategory("car") found a template`)
	}
	if _, ok := ByID("tv-v2"); ok {
		t.Error(`ByID("tv-v2") found a template`)
	}
	if _, ok := ByID(""); ok {
		t.Error(`ByID("") found a template`)
	}
}

func TestShippedTemplatesAreValid(t *testing.T) {
	for _, tp := range All() {
		t.Run(tp.ID, func(t *testing.T) {
			if err := tp.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if err := check(&tp); err != nil {
				t.Fatalf("check: %v", err)
			}
			if tp.Version != 1 || tp.ID != string(tp.Category)+"-v1" {
				t.Errorf("id %s version %d, want %s-v1 version 1", tp.ID, tp.Version, tp.Category)
			}
			if n := len(tp.Items); n < 8 || n > 14 {
				t.Errorf("%d checklist items, want 8..14", n)
			}
			types := map[fieldsync.ItemType]int{}
			for _, it := range tp.Items {
				types[it.Type]++
				if it.Type == fieldsync.ItemNumber && (it.Min == nil || it.Max == nil) {
					t.Errorf("number item %s has no min or max", it.ID)
				}
			}
			for _, typ := range []fieldsync.ItemType{fieldsync.ItemYesNo, fieldsync.ItemChoice, fieldsync.ItemNumber, fieldsync.ItemText} {
				if types[typ] == 0 {
					t.Errorf("no %s item; want a mix of every type", typ)
				}
			}
			if _, ok := item(tp, "fault_description"); !ok {
				t.Errorf("no fault_description item")
			}
		})
	}
}

// TestLabelsAreChineseAndEnglish: zh-CN is the primary language, so every
// zh-CN label must hold Chinese characters, and every en label must not.
func TestLabelsAreChineseAndEnglish(t *testing.T) {
	han := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
	}
	for _, tp := range All() {
		labels := map[string]fieldsync.Text{"name": tp.Name}
		for _, it := range tp.Items {
			labels["item "+it.ID] = it.Label
			for _, o := range it.Options {
				labels["option "+it.ID+"."+o.Value] = o.Label
			}
		}
		for _, s := range tp.PhotoSlots {
			labels["slot "+s.ID] = s.Label
		}
		for what, l := range labels {
			if !han(l.ZH) || han(l.EN) || strings.TrimSpace(l.EN) == "" {
				t.Errorf("%s %s: label %+v, want Chinese zh-CN and English en", tp.ID, what, l)
			}
		}
	}
}

func TestRequiredPhotoSlots(t *testing.T) {
	// The slots each category's appraisal must photograph. Every one needs
	// the serial plate or the IMEI, the fault and the invoice; a TV (returns
	// check the box, remote and stand) and furniture (transport damage) also
	// need the packaging; a TV its accessories; a phone its warranty card;
	// an appliance its installation.
	want := map[fieldsync.Category][]string{
		fieldsync.CategoryTV:        {"serial_plate", "fault", "packaging", "invoice", "accessories"},
		fieldsync.CategoryPhone:     {"imei", "fault", "invoice", "warranty_card"},
		fieldsync.CategoryAppliance: {"serial_plate", "fault", "installation", "invoice"},
		fieldsync.CategoryFurniture: {"serial_plate", "fault", "packaging", "invoice"},
	}
	for _, tp := range All() {
		t.Run(tp.ID, func(t *testing.T) {
			req := tp.RequiredSlots()
			if len(req) == 0 {
				t.Fatal("no required photo slot")
			}
			if !slices.Contains(req, "serial_plate") && !slices.Contains(req, "imei") {
				t.Errorf("required slots %v have neither serial_plate nor imei", req)
			}
			if !slices.Contains(req, "invoice") {
				t.Errorf("required slots %v lack the invoice", req)
			}
			if !reflect.DeepEqual(req, want[tp.Category]) {
				t.Errorf("required slots %v, want %v", req, want[tp.Category])
			}
		})
	}
}

func item(tp fieldsync.Template, id string) (fieldsync.ChecklistItem, bool) {
	for _, it := range tp.Items {
		if it.ID == id {
			return it, true
		}
	}
	return fieldsync.ChecklistItem{}, false
}

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// validAnswer returns an answer that item it accepts.
func validAnswer(it fieldsync.ChecklistItem) json.RawMessage {
	switch it.Type {
	case fieldsync.ItemYesNo:
		return raw(true)
	case fieldsync.ItemChoice:
		return raw(it.Options[0].Value)
	case fieldsync.ItemNumber:
		return raw((*it.Min + *it.Max) / 2)
	}
	return raw("已核实 / checked")
}

func TestCheckAnswer(t *testing.T) {
	type answer func(it fieldsync.ChecklistItem) json.RawMessage
	lit := func(s string) answer {
		return func(fieldsync.ChecklistItem) json.RawMessage { return json.RawMessage(s) }
	}
	tests := []struct {
		name   string
		typ    fieldsync.ItemType
		answer answer
		ok     bool
	}{
		{"yes/no takes true", fieldsync.ItemYesNo, lit(`true`), true},
		{"yes/no takes false", fieldsync.ItemYesNo, lit(`false`), true},
		{"yes/no refuses a string", fieldsync.ItemYesNo, lit(`"yes"`), false},
		{"yes/no refuses a number", fieldsync.ItemYesNo, lit(`1`), false},

		{"choice takes its first option", fieldsync.ItemChoice, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(it.Options[0].Value) }, true},
		{"choice takes its last option", fieldsync.ItemChoice, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(it.Options[len(it.Options)-1].Value) }, true},
		{"choice refuses a value it does not list", fieldsync.ItemChoice, lit(`"not_an_option"`), false},
		{"choice refuses an option's label instead of its value", fieldsync.ItemChoice, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(it.Options[0].Label.ZH) }, false},
		{"choice refuses a boolean", fieldsync.ItemChoice, lit(`true`), false},
		{"choice refuses a list of options", fieldsync.ItemChoice, func(it fieldsync.ChecklistItem) json.RawMessage { return raw([]string{it.Options[0].Value}) }, false},

		{"number takes its minimum", fieldsync.ItemNumber, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(*it.Min) }, true},
		{"number takes its maximum", fieldsync.ItemNumber, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(*it.Max) }, true},
		{"number takes a fraction inside its range", fieldsync.ItemNumber, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(*it.Min + 0.5) }, true},
		{"number refuses a numeric string", fieldsync.ItemNumber, func(it fieldsync.ChecklistItem) json.RawMessage { return raw("12") }, false},
		{"number refuses a boolean", fieldsync.ItemNumber, lit(`true`), false},
		{"number refuses a value below its minimum", fieldsync.ItemNumber, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(*it.Min - 1) }, false},
		{"number refuses a value above its maximum", fieldsync.ItemNumber, func(it fieldsync.ChecklistItem) json.RawMessage { return raw(*it.Max + 1) }, false},

		{"text takes Chinese text", fieldsync.ItemText, lit(`"开机后屏幕闪烁3次自动关机"`), true},
		{"text takes an empty string", fieldsync.ItemText, lit(`""`), true},
		{"text refuses a number", fieldsync.ItemText, lit(`12`), false},
		{"text refuses an object", fieldsync.ItemText, lit(`{"note":"x"}`), false},
		{"text refuses more than MaxLongText bytes", fieldsync.ItemText, func(fieldsync.ChecklistItem) json.RawMessage {
			return raw(strings.Repeat("字", fieldsync.MaxLongText/3+1))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			for _, tp := range All() {
				for _, it := range tp.Items {
					if it.Type != tt.typ {
						continue
					}
					n++
					err := tp.CheckAnswer(it.ID, tt.answer(it))
					switch {
					case tt.ok && err != nil:
						t.Errorf("%s %s: CheckAnswer = %v, want it accepted", tp.ID, it.ID, err)
					case !tt.ok && err == nil:
						t.Errorf("%s %s: CheckAnswer(%s) accepted, want it refused", tp.ID, it.ID, tt.answer(it))
					case !tt.ok && fieldsync.ErrorCode(err) != fieldsync.EInvalid:
						t.Errorf("%s %s: code %q, want %q", tp.ID, it.ID, fieldsync.ErrorCode(err), fieldsync.EInvalid)
					}
				}
			}
			if n == 0 {
				t.Fatalf("no %s item in any template", tt.typ)
			}
		})
	}
	tp, _ := ForCategory(fieldsync.CategoryTV)
	if err := tp.CheckAnswer("no_such_item", raw(true)); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("CheckAnswer of an unknown item = %v, want EInvalid", err)
	}
}

func TestMissing(t *testing.T) {
	for _, tp := range All() {
		t.Run(tp.ID, func(t *testing.T) {
			var required []string
			full := map[string]json.RawMessage{}
			optionalOnly := map[string]json.RawMessage{}
			for _, it := range tp.Items {
				full[it.ID] = validAnswer(it)
				if it.Required {
					required = append(required, it.ID)
				} else {
					optionalOnly[it.ID] = validAnswer(it)
				}
			}
			if len(required) == 0 {
				t.Fatal("no required item")
			}
			if got := tp.Missing(nil); !slices.Equal(got, required) {
				t.Errorf("Missing(no answers) = %v, want every required item %v", got, required)
			}
			if got := tp.Missing(optionalOnly); !slices.Equal(got, required) {
				t.Errorf("Missing(optional answers only) = %v, want %v", got, required)
			}
			if got := tp.Missing(full); len(got) != 0 {
				t.Errorf("Missing(every answer) = %v, want none", got)
			}
			for id, v := range full {
				if err := tp.CheckAnswer(id, v); err != nil {
					t.Errorf("the valid answer to %s is refused: %v", id, err)
				}
			}
			nulled := map[string]json.RawMessage{}
			for k, v := range full {
				nulled[k] = v
			}
			nulled[required[0]] = json.RawMessage(" null")
			if got := tp.Missing(nulled); !slices.Equal(got, required[:1]) {
				t.Errorf("Missing(with %s null) = %v, want [%s]", required[0], got, required[0])
			}
		})
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	tp, _ := ByID("tv-v1")
	tp.Items[0].Label.ZH = "changed"
	tp.PhotoSlots[0].Required = false
	for i := range tp.Items {
		if tp.Items[i].Min != nil {
			*tp.Items[i].Min = -1
		}
		if len(tp.Items[i].Options) > 0 {
			tp.Items[i].Options[0].Value = "changed"
		}
	}
	var fromAll fieldsync.Template
	for _, a := range All() {
		if a.ID == "tv-v1" {
			fromAll = a
		}
	}
	for _, again := range []fieldsync.Template{fromAll, mustFor(t, fieldsync.CategoryTV), mustID(t, "tv-v1")} {
		if again.Items[0].Label.ZH == "changed" || !again.PhotoSlots[0].Required {
			t.Fatal("editing a returned template changed the shipped one")
		}
		for _, it := range again.Items {
			if it.Min != nil && *it.Min == -1 || len(it.Options) > 0 && it.Options[0].Value == "changed" {
				t.Fatalf("editing a returned template changed item %s of the shipped one", it.ID)
			}
		}
	}
}

func mustFor(t *testing.T, c fieldsync.Category) fieldsync.Template {
	tp, ok := ForCategory(c)
	if !ok {
		t.Fatalf("no template for %s", c)
	}
	return tp
}

func mustID(t *testing.T, id string) fieldsync.Template {
	tp, ok := ByID(id)
	if !ok {
		t.Fatalf("no template %s", id)
	}
	return tp
}

// TestParseRejects checks that a broken data file fails at load, not in a
// technician's hands.
func TestParseRejects(t *testing.T) {
	base, err := dataFS.ReadFile("data/tv.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		if !strings.Contains(string(base), old) {
			t.Fatalf("tv.json has no %q", old)
		}
		return strings.Replace(string(base), old, new, 1)
	}
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"an unknown field", edit(`"version": 1,`, `"version": 1, "author": "x",`), `unknown field "author"`},
		{"data after the template", string(base) + "{}", "data after the template"},
		{"malformed JSON", `{"id": "tv-v1",`, "decoding JSON"},
		{"an id that does not match category and version", edit(`"id": "tv-v1"`, `"id": "television"`), `id must be "tv-v1"`},
		{"an unknown category", edit(`"category": "tv"`, `"category": "car"`), "unknown category"},
		{"a repeated item id", edit(`"id": "packaging_intact"`, `"id": "unboxing_screen_broken"`), "empty or repeated"},
		{"an item id that is not snake_case", edit(`"id": "power_on"`, `"id": "PowerOn"`), `item id "PowerOn" is not snake_case`},
		{"an option value that is not snake_case", edit(`"value": "no_picture"`, `"value": "no picture"`), `option value "no picture"`},
		{"a repeated option value", edit(`"value": "lines"`, `"value": "no_picture"`), `option value "no_picture"`},
		{"an option without an English label", edit(`"en": "Horizontal or vertical lines"`, `"en": ""`), "option lines: needs zh-CN and en"},
		{"a photo slot without a Chinese label", edit(`"zh-CN": "包装箱", "en": "Packaging box"`, `"zh-CN": " ", "en": "Packaging box"`), "photo slot packaging: needs zh-CN and en"},
		{"a template name without English", edit(`"en": "TV on-site appraisal"`, `"en": ""`), "name: needs zh-CN and en"},
		{"a number without a unit", edit(`"unit": "in", `, ``), "number item panel_size needs a unit"},
		{"a number whose min is above its max", edit(`"min": 19, "max": 120`, `"min": 120, "max": 19`), "min 120 is above max 19"},
		{"a unit on a yes/no item", edit(`"type": "yes_no", "required": true`, `"type": "yes_no", "unit": "V", "required": true`), "only a number has a unit"},
		{"an unknown item type", edit(`"type": "text"`, `"type": "date"`), `unknown type "date"`},
		{"no required photo slot", noRequiredSlots(t, base), "no required photo slot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parse err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// noRequiredSlots returns tv.json with every photo slot made optional.
func noRequiredSlots(t *testing.T, base []byte) string {
	var tp fieldsync.Template
	if err := json.Unmarshal(base, &tp); err != nil {
		t.Fatal(err)
	}
	for i := range tp.PhotoSlots {
		tp.PhotoSlots[i].Required = false
	}
	return string(raw(tp))
}

func TestLoadChecksTheSet(t *testing.T) {
	files := map[string][]byte{}
	for _, c := range fieldsync.Categories {
		b, err := dataFS.ReadFile("data/" + string(c) + ".json")
		if err != nil {
			t.Fatal(err)
		}
		files["data/"+string(c)+".json"] = b
	}
	fsWith := func(edit func(m fstest.MapFS)) fs.FS {
		m := fstest.MapFS{}
		for name, b := range files {
			m[name] = &fstest.MapFile{Data: b}
		}
		edit(m)
		return m
	}
	tests := []struct {
		name    string
		fsys    fs.FS
		wantErr string // "" means it loads
	}{
		{"the shipped files load", fsWith(func(fstest.MapFS) {}), ""},
		{"a missing category is refused", fsWith(func(m fstest.MapFS) { delete(m, "data/phone.json") }), "no template for category phone"},
		{"a file named after another category is refused", fsWith(func(m fstest.MapFS) {
			m["data/tv2.json"] = m["data/tv.json"]
			delete(m, "data/tv.json")
		}), "name the file tv.json"},
		{"a broken file is refused", fsWith(func(m fstest.MapFS) { m["data/tv.json"] = &fstest.MapFile{Data: []byte("{")} }), "data/tv.json: decoding JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := load(tt.fsys)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if !reflect.DeepEqual(ts, All()) {
					t.Fatal("load of the shipped files differs from All()")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("load err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
