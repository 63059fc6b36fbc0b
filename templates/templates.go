package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync"
)

//go:embed data/*.json
var dataFS embed.FS

// all holds the parsed templates sorted by category. It is parsed once at
// init; the embedded files are checked by the tests, so mustLoad cannot
// fail in a built binary.
var all = mustLoad(dataFS)

func mustLoad(fsys fs.FS) []fieldsync.Template {
	ts, err := load(fsys)
	if err != nil {
		panic(err)
	}
	return ts
}

// load parses every data/*.json file of fsys and checks the set: one
// template per category, each file named after its category.
func load(fsys fs.FS) ([]fieldsync.Template, error) {
	names, err := fs.Glob(fsys, "data/*.json")
	if err != nil {
		return nil, err
	}
	var out []fieldsync.Template
	cats := map[fieldsync.Category]bool{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		t, err := parse(data)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		if want := string(t.Category) + ".json"; path.Base(name) != want {
			return nil, fmt.Errorf("templates: %s holds the %s template; name the file %s", name, t.Category, want)
		}
		cats[t.Category] = true // unique: the file name is the category
		out = append(out, t)
	}
	for _, c := range fieldsync.Categories {
		if !cats[c] {
			return nil, fmt.Errorf("templates: no template for category %s", c)
		}
	}
	slices.SortFunc(out, func(a, b fieldsync.Template) int { return strings.Compare(string(a.Category), string(b.Category)) })
	return out, nil
}

// idPattern is a stable snake_case id.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// parse decodes one template strictly and checks it: Template.Validate,
// plus the rules of shipped data that Validate leaves open — the id is
// "<category>-v<version>", ids are snake_case, every label (template,
// item, option, slot) has zh-CN and en, option values are unique within
// their item, a number item has a unit and Min <= Max, and at least one
// photo slot is required.
func parse(data []byte) (fieldsync.Template, error) {
	var t fieldsync.Template
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return fieldsync.Template{}, fmt.Errorf("decoding JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldsync.Template{}, errors.New("decoding JSON: data after the template object")
	}
	if err := t.Validate(); err != nil {
		return fieldsync.Template{}, err
	}
	if err := check(&t); err != nil {
		return fieldsync.Template{}, fmt.Errorf("template %s: %w", t.ID, err)
	}
	return t, nil
}

func check(t *fieldsync.Template) error {
	if want := fmt.Sprintf("%s-v%d", t.Category, t.Version); t.ID != want {
		return fmt.Errorf("id must be %q (category and version)", want)
	}
	if err := bilingual(t.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	for _, it := range t.Items {
		if !idPattern.MatchString(it.ID) {
			return fmt.Errorf("item id %q is not snake_case", it.ID)
		}
		if err := bilingual(it.Label); err != nil {
			return fmt.Errorf("item %s: %w", it.ID, err)
		}
		if it.Type != fieldsync.ItemChoice && len(it.Options) > 0 {
			return fmt.Errorf("item %s: only a choice has options", it.ID)
		}
		values := map[string]bool{}
		for _, o := range it.Options {
			if !idPattern.MatchString(o.Value) || values[o.Value] {
				return fmt.Errorf("item %s: option value %q is not snake_case or is repeated", it.ID, o.Value)
			}
			values[o.Value] = true
			if err := bilingual(o.Label); err != nil {
				return fmt.Errorf("item %s option %s: %w", it.ID, o.Value, err)
			}
		}
		if it.Type == fieldsync.ItemNumber {
			if it.Unit == "" {
				return fmt.Errorf("number item %s needs a unit", it.ID)
			}
			if it.Min != nil && it.Max != nil && *it.Min > *it.Max {
				return fmt.Errorf("number item %s: min %v is above max %v", it.ID, *it.Min, *it.Max)
			}
		} else if it.Unit != "" || it.Min != nil || it.Max != nil {
			return fmt.Errorf("item %s: only a number has a unit, min or max", it.ID)
		}
	}
	for _, s := range t.PhotoSlots {
		if !idPattern.MatchString(s.ID) {
			return fmt.Errorf("photo slot id %q is not snake_case", s.ID)
		}
		if err := bilingual(s.Label); err != nil {
			return fmt.Errorf("photo slot %s: %w", s.ID, err)
		}
	}
	if len(t.RequiredSlots()) == 0 {
		return errors.New("no required photo slot")
	}
	return nil
}

func bilingual(l fieldsync.Text) error {
	if strings.TrimSpace(l.ZH) == "" || strings.TrimSpace(l.EN) == "" {
		return errors.New("needs zh-CN and en labels")
	}
	return nil
}

// All returns every shipped template, sorted by category.
func All() []fieldsync.Template {
	out := make([]fieldsync.Template, len(all))
	for i := range all {
		out[i] = clone(all[i])
	}
	return out
}

// ForCategory returns the template for product category c.
func ForCategory(c fieldsync.Category) (fieldsync.Template, bool) {
	for i := range all {
		if all[i].Category == c {
			return clone(all[i]), true
		}
	}
	return fieldsync.Template{}, false
}

// ByID returns the template with id, e.g. "tv-v1".
func ByID(id string) (fieldsync.Template, bool) {
	for i := range all {
		if all[i].ID == id {
			return clone(all[i]), true
		}
	}
	return fieldsync.Template{}, false
}

// clone deep-copies t, so that no caller can change the shared templates.
func clone(t fieldsync.Template) fieldsync.Template {
	t.Items = slices.Clone(t.Items)
	for i := range t.Items {
		it := &t.Items[i]
		it.Options = slices.Clone(it.Options)
		if it.Min != nil {
			v := *it.Min
			it.Min = &v
		}
		if it.Max != nil {
			v := *it.Max
			it.Max = &v
		}
	}
	t.PhotoSlots = slices.Clone(t.PhotoSlots)
	return t
}
