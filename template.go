package fieldsync

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Text is a label in the languages the product speaks.
type Text struct {
	ZH string `json:"zh-CN"`
	EN string `json:"en"`
}

// ItemType is the kind of answer a checklist item takes.
type ItemType string

const (
	ItemYesNo  ItemType = "yes_no" // JSON true / false
	ItemChoice ItemType = "choice" // one of Options' values
	ItemNumber ItemType = "number" // a number in Unit, within Min..Max when set
	ItemText   ItemType = "text"   // free text up to MaxLongText
)

// ChecklistItem is one question of a report template.
type ChecklistItem struct {
	ID       string   `json:"id"`
	Label    Text     `json:"label"`
	Type     ItemType `json:"type"`
	Options  []Option `json:"options,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Required bool     `json:"required"`
}

// Option is a choice's allowed value with its label.
type Option struct {
	Value string `json:"value"`
	Label Text   `json:"label"`
}

// PhotoSlot is a photo of evidence the report needs.
type PhotoSlot struct {
	ID       string `json:"id"`
	Label    Text   `json:"label"`
	Required bool   `json:"required"`
}

// Template is the checklist and photo slots of a report for one product
// category.
type Template struct {
	ID         string          `json:"id"`
	Version    int             `json:"version"`
	Category   Category        `json:"category"`
	Name       Text            `json:"name"`
	Items      []ChecklistItem `json:"items"`
	PhotoSlots []PhotoSlot     `json:"photo_slots"`
}

// Validate checks the template's own shape: unique ids, known types,
// choices with options.
func (t *Template) Validate() error {
	if t.ID == "" || t.Version < 1 {
		return fmt.Errorf("template needs an id and a version >= 1")
	}
	if err := ValidateCategory(t.Category); err != nil {
		return fmt.Errorf("template %s: %w", t.ID, err)
	}
	seen := map[string]bool{}
	for _, it := range t.Items {
		if it.ID == "" || seen[it.ID] {
			return fmt.Errorf("template %s: item id %q empty or repeated", t.ID, it.ID)
		}
		seen[it.ID] = true
		if it.Label.ZH == "" || it.Label.EN == "" {
			return fmt.Errorf("template %s: item %s needs zh-CN and en labels", t.ID, it.ID)
		}
		switch it.Type {
		case ItemYesNo, ItemText, ItemNumber:
		case ItemChoice:
			if len(it.Options) < 2 {
				return fmt.Errorf("template %s: choice %s needs at least two options", t.ID, it.ID)
			}
		default:
			return fmt.Errorf("template %s: item %s has unknown type %q", t.ID, it.ID, it.Type)
		}
	}
	slots := map[string]bool{}
	for _, s := range t.PhotoSlots {
		if s.ID == "" || slots[s.ID] {
			return fmt.Errorf("template %s: photo slot id %q empty or repeated", t.ID, s.ID)
		}
		slots[s.ID] = true
	}
	return nil
}

// The slots of the two signature images (PNGs drawn from the strokes,
// see media/signature), which every report has whatever its template.
const (
	SlotSignatureCustomer   = "signature_customer"
	SlotSignatureTechnician = "signature_technician"
)

// CheckSlot returns EInvalid, naming the slot and the template's slots,
// unless slot is one of t's photo slot ids or a signature slot: a
// report's photos go only where its template has a place for them.
func (t *Template) CheckSlot(slot string) error {
	ids := make([]string, len(t.PhotoSlots), len(t.PhotoSlots)+2)
	for i, s := range t.PhotoSlots {
		if s.ID == slot {
			return nil
		}
		ids[i] = s.ID
	}
	if slot == SlotSignatureCustomer || slot == SlotSignatureTechnician {
		return nil
	}
	ids = append(ids, SlotSignatureCustomer, SlotSignatureTechnician)
	return Errorf(EInvalid, "slot %q is not a photo slot of template %s; use one of %s", slot, t.ID, strings.Join(ids, ", "))
}

// RequiredSlots returns the ids of the photo slots that must be filled.
func (t *Template) RequiredSlots() []string {
	var out []string
	for _, s := range t.PhotoSlots {
		if s.Required {
			out = append(out, s.ID)
		}
	}
	return out
}

// CheckAnswer validates one answer against item id. EInvalid names the
// item and what it takes.
func (t *Template) CheckAnswer(id string, raw json.RawMessage) error {
	var it *ChecklistItem
	for i := range t.Items {
		if t.Items[i].ID == id {
			it = &t.Items[i]
		}
	}
	if it == nil {
		return Errorf(EInvalid, "template %s has no item %q", t.ID, id)
	}
	if strings.TrimSpace(string(raw)) == "null" {
		return nil // clears the answer; Missing reports it if required
	}
	switch it.Type {
	case ItemYesNo:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return Errorf(EInvalid, "%s takes true or false", id)
		}
	case ItemChoice:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Errorf(EInvalid, "%s takes one of its options as a string", id)
		}
		for _, o := range it.Options {
			if o.Value == s {
				return nil
			}
		}
		return Errorf(EInvalid, "%s has no option %q", id, s)
	case ItemNumber:
		var f float64
		if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Errorf(EInvalid, "%s takes a number (%s)", id, it.Unit)
		}
		if it.Min != nil && f < *it.Min || it.Max != nil && f > *it.Max {
			return Errorf(EInvalid, "%s is out of range", id)
		}
	case ItemText:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Errorf(EInvalid, "%s takes text up to %d bytes", id, MaxLongText)
		}
		if !utf8.Valid(raw) { // json.Unmarshal would make it U+FFFD
			return Errorf(EInvalid, "%s is not valid UTF-8", id)
		}
		return optionalText(id, s, MaxLongText)
	}
	return nil
}

// Missing returns the required items without an answer, for signing.
func (t *Template) Missing(answers map[string]json.RawMessage) []string {
	var out []string
	for _, it := range t.Items {
		if v, ok := answers[it.ID]; it.Required && (!ok || unanswered(v)) {
			out = append(out, it.ID)
		}
	}
	return out
}

// unanswered reports whether a stored answer is no answer at all: null,
// or empty text.
func unanswered(v json.RawMessage) bool {
	switch strings.TrimSpace(string(v)) {
	case "null", `""`:
		return true
	}
	return false
}
