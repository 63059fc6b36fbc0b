package fieldsync

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// Responsibility is who the appraisal holds responsible for the fault;
// it drives the warranty decision.
type Responsibility string

const (
	ResponsibilityQuality        Responsibility = "quality"         // a defect of the product
	ResponsibilityCustomerDamage Responsibility = "customer_damage" // misuse, drops, liquid
	ResponsibilityTransport      Responsibility = "transport"       // damaged on the way
	ResponsibilityUnknown        Responsibility = "unknown"
)

// Responsibilities lists every value.
var Responsibilities = []Responsibility{ResponsibilityQuality, ResponsibilityCustomerDamage, ResponsibilityTransport, ResponsibilityUnknown}

// Valid reports whether s is one of Responsibilities.
func (s Responsibility) Valid() bool { return oneOf(s, Responsibilities) }

// ReportStatus: draft → signed → sealed. A signed report is immutable;
// corrections are addenda.
type ReportStatus string

const (
	ReportDraft  ReportStatus = "draft"
	ReportSigned ReportStatus = "signed"
	ReportSealed ReportStatus = "sealed"
)

// Report is the inspection / appraisal report (鉴定单) of a visit.
type Report struct {
	ID         string `json:"id"`
	VisitID    string `json:"visit_id"`
	TemplateID string `json:"template_id"`
	// SlipNo is the appraisal slip number (鉴定单号, see SlipNo) the
	// device issued when it made the report: set with the report's first
	// fields, never changed; "" for a report made without one.
	SlipNo string `json:"slip_no,omitempty"`
	// Corrects names the sealed report this one is an addendum of: set
	// when the report is made (CheckCorrects), never changed.
	Corrects       string         `json:"corrects,omitempty"`
	Answers        Answers        `json:"answers"` // checklist item id -> value
	Findings       string         `json:"findings,omitempty"`
	Cause          string         `json:"cause,omitempty"`
	Responsibility Responsibility `json:"responsibility,omitempty"`
	RequiredSlots  []string       `json:"required_slots,omitempty"` // photo slots the template asks for
	Status         ReportStatus   `json:"status"`
	SignedAt       *time.Time     `json:"signed_at,omitempty"`
	SignedBy       string         `json:"signed_by,omitempty"` // the technician whose device signed
	// Clocks holds, per field ("findings", "answers.<item>"…), the hybrid
	// logical clock of the edit that set it: drafts merge field by field.
	Clocks map[string]string `json:"clocks,omitempty"`
	// Extra keeps fields this server does not know, sent by newer clients:
	// at most MaxExtraFields of them in MaxExtraBytes.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
	// Received holds, by step field (created_at, signed_at), when the
	// server received the step; the field holds when the device says it
	// happened (see StepTime).
	Received map[string]time.Time `json:"received,omitempty"`
	// ClockSkew lists the steps whose device time was far from the time
	// kept (MaxClockSkew), at most one per field.
	ClockSkew []ClockSkew `json:"clock_skew,omitempty"`
	// SignedPhotos are the photos the signature covers: those on the
	// device when it was signed, which may reach the server after the
	// signature. A signed report takes these and no others.
	SignedPhotos []SlotPhoto `json:"signed_photos,omitempty"`
	// Warranty is the warranty decision the device made and the customer
	// signs (ReportWarranty); WarrantyServer is the server's own, kept
	// beside it when the two disagree, and WarrantyDisputed flags that for
	// the dispatcher. The device's decision is never overwritten.
	Warranty         *ReportWarranty `json:"warranty,omitempty"`
	WarrantyServer   *WarrantyCheck  `json:"warranty_server,omitempty"`
	WarrantyDisputed bool            `json:"warranty_disputed,omitempty"`
	// Pickup is the pick-up slip of a return or an exchange
	// (ReportPickup), which the customer signs.
	Pickup *ReportPickup `json:"pickup,omitempty"`
	// Work is the work done (WorkLine); a visit that completes with it
	// gets a work order and its repaired parts certificates.
	Work []WorkLine `json:"work,omitempty"`
	// Quote is the priced paid work and the customer's decision on it,
	// as the device priced it and the customer signs it (ReportQuote).
	// QuoteStale names the server's price list version when the quote
	// was priced on another (the list changed while the tablet was
	// offline): the quote is kept as the customer agreed to it and the
	// dispatcher sees the flag.
	Quote      *ReportQuote `json:"quote,omitempty"`
	QuoteStale string       `json:"quote_stale,omitempty"`
	// WarrantySettled is the dispatcher's ruling on a disputed decision
	// (SettleWarranty); it is not part of the signed document.
	WarrantySettled *WarrantySettlement `json:"warranty_settled,omitempty"`
	// Signature is the device's signature, from its sign action.
	Signature *Signature `json:"signature,omitempty"`
	// Seal is the server's, once every photo the signature names is
	// stored (status sealed).
	Seal      *Seal     `json:"seal,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SlotPhoto names a photo by the report slot it fills.
type SlotPhoto struct {
	Slot   string `json:"slot"`
	SHA256 string `json:"sha256"`
}

// MaxSignedPhotos bounds the photos one signature may name.
const MaxSignedPhotos = 256

// ParseSignedPhotos reads the photos a sign action names (its "photos"
// field, absent when it names none): each on a slot of t, by its hex
// SHA-256, each once. EInvalid names what is wrong.
func ParseSignedPhotos(raw json.RawMessage, t Template) ([]SlotPhoto, error) {
	if raw == nil {
		return nil, nil
	}
	var photos []SlotPhoto
	if err := json.Unmarshal(raw, &photos); err != nil {
		return nil, Errorf(EInvalid, "photos must be a list of {slot, sha256}")
	}
	if len(photos) > MaxSignedPhotos {
		return nil, Errorf(EInvalid, "a signature names at most %d photos, not %d", MaxSignedPhotos, len(photos))
	}
	seen := make(map[SlotPhoto]bool, len(photos))
	for i, p := range photos {
		if err := t.CheckSlot(p.Slot); err != nil {
			return nil, Errorf(EInvalid, "photos[%d]: %s", i, ErrorDetail(err))
		}
		if !ValidSHA256(p.SHA256) {
			return nil, Errorf(EInvalid, "photos[%d]: sha256 must be 64 lower-case hex digits", i)
		}
		if seen[p] {
			return nil, Errorf(EInvalid, "photos[%d]: %s on %s is named twice", i, p.SHA256, p.Slot)
		}
		seen[p] = true
	}
	return photos, nil
}

// TakesPhoto returns nil when the photo sha may be attached to slot: any
// photo on a draft, only those its signature names on a signed report
// (EReportSealed otherwise).
func (r *Report) TakesPhoto(slot, sha string) error {
	if r.Status == ReportDraft || slices.Contains(r.SignedPhotos, SlotPhoto{Slot: slot, SHA256: sha}) {
		return nil
	}
	return Errorf(EReportSealed, "report %s is %s and its signature does not name photo %s on %s; it takes no other photo", r.ID, r.Status, sha, slot)
}

// NewReport starts a draft of visit v that a device created at deviceAt
// and the server received at received: created_at is the StepTime, never
// before the visit's creation.
func NewReport(id string, v *Visit, deviceAt, received time.Time) Report {
	at, skewed := StepTime(deviceAt, received, &v.CreatedAt)
	r := Report{ID: id, VisitID: v.ID, Status: ReportDraft, CreatedAt: at, UpdatedAt: received}
	r.Received, r.ClockSkew = stepRecord(nil, nil, "created_at", deviceAt, received, at, skewed)
	return r
}

// Editable returns EReportSealed unless the report is a draft.
func (r *Report) Editable() error {
	if r.Status != ReportDraft {
		return Errorf(EReportSealed, "report %s is %s and cannot change; add an addendum", r.ID, r.Status)
	}
	return nil
}

// Sign moves a draft to signed at now, never before its creation.
// EReportSealed if it is not a draft.
func (r *Report) Sign(now time.Time) error {
	_, _, err := r.sign(now, now, nil)
	return err
}

// SignAt moves a draft to signed as a device logged it: at deviceAt by
// the device's clock, received by the server at received. signed_at is
// the StepTime, never before the report's creation nor the arrival of its
// visit v (nil: unknown); the receipt is kept in Received and a far-off
// device time in ClockSkew. EReportSealed if it is not a draft. Maps and
// slices r shares with a copy are replaced, not changed.
func (r *Report) SignAt(deviceAt, received time.Time, v *Visit) error {
	at, skewed, err := r.sign(deviceAt, received, v)
	if err != nil {
		return err
	}
	r.Received, r.ClockSkew = stepRecord(r.Received, r.ClockSkew, "signed_at", deviceAt, received, at, skewed)
	return nil
}

func (r *Report) sign(deviceAt, received time.Time, v *Visit) (at time.Time, skewed bool, err error) {
	if err := r.Editable(); err != nil {
		return at, false, err
	}
	var arrived *time.Time
	if v != nil {
		arrived = v.ArrivedAt
	}
	at, skewed = StepTime(deviceAt, received, &r.CreatedAt, arrived)
	r.Status, r.SignedAt, r.UpdatedAt = ReportSigned, &at, received
	return at, skewed, nil
}

// Sealed moves a signed report to sealed with the server's seal s.
// EInvalidTransition unless it is signed.
func (r *Report) Sealed(s Seal, now time.Time) error {
	if r.Status != ReportSigned {
		return Errorf(EInvalidTransition, "only a signed report can be sealed, not a %s one", r.Status)
	}
	r.Status, r.Seal, r.UpdatedAt = ReportSealed, &s, now
	return nil
}

// CheckCorrects returns nil when r, a report being made with Corrects
// set, may be an addendum of orig, the report Corrects names (nil when
// there is none the creator may see). A sealed report never changes; a
// correction is an addendum: its own report, signed and sealed the same
// way, of the same visit and template, of a report that is not itself an
// addendum (a report lists all its corrections). EInvalid names the
// field; EInvalidTransition while orig is a draft (edit it instead) or
// signed but not yet sealed (its seal comes once its photos are in).
func (r *Report) CheckCorrects(orig *Report) error {
	switch {
	case orig == nil:
		return Errorf(EInvalid, "corrects: no report %q", r.Corrects)
	case orig.ID == r.ID:
		return Errorf(EInvalid, "corrects: report %s cannot correct itself", r.ID)
	case orig.VisitID != r.VisitID:
		return Errorf(EInvalid, "corrects: report %s is of visit %s, not %s: an addendum is of the visit of the report it corrects", orig.ID, orig.VisitID, r.VisitID)
	case orig.TemplateID != r.TemplateID:
		return Errorf(EInvalid, "corrects: report %s is on template %s, not %s: an addendum is on the template of the report it corrects", orig.ID, orig.TemplateID, r.TemplateID)
	case orig.Corrects != "":
		return Errorf(EInvalid, "corrects: report %s is itself an addendum of %s: correct %s", orig.ID, orig.Corrects, orig.Corrects)
	case orig.Status == ReportDraft:
		return Errorf(EInvalidTransition, "report %s is a draft: edit it rather than add an addendum", orig.ID)
	case orig.Status == ReportSigned:
		return Errorf(EInvalidTransition, "report %s is signed, not sealed: wait for its seal", orig.ID)
	case orig.Status != ReportSealed:
		return Errorf(EInvalidTransition, "report %s is %s, not sealed", orig.ID, orig.Status)
	}
	return nil
}

// CheckSignable returns EReportIncomplete, naming them, while required
// items of t are unanswered, or while the report's quote is pending:
// signing needs every answer and the customer's decision.
func (r *Report) CheckSignable(t Template) error {
	if missing := t.Missing(r.Answers); len(missing) > 0 {
		return Errorf(EReportIncomplete, "required items unanswered: %s", strings.Join(missing, ", "))
	}
	return r.checkQuoteDecided()
}

// Clone returns a copy of r that shares nothing r's methods change.
func (r *Report) Clone() Report {
	c := *r
	c.Answers = maps.Clone(r.Answers)
	c.Extra = maps.Clone(r.Extra)
	c.Clocks = maps.Clone(r.Clocks)
	c.RequiredSlots = slices.Clone(r.RequiredSlots)
	c.Received = maps.Clone(r.Received)
	c.ClockSkew = slices.Clone(r.ClockSkew)
	c.SignedPhotos = slices.Clone(r.SignedPhotos)
	if r.SignedAt != nil {
		at := *r.SignedAt
		c.SignedAt = &at
	}
	if r.Signature != nil {
		s := *r.Signature
		s.Unphotographed = slices.Clone(s.Unphotographed)
		c.Signature = &s
	}
	if r.Seal != nil {
		s := *r.Seal
		c.Seal = &s
	}
	if r.Warranty != nil {
		w := *r.Warranty
		c.Warranty = &w
	}
	if r.WarrantyServer != nil {
		w := *r.WarrantyServer
		c.WarrantyServer = &w
	}
	if r.Pickup != nil {
		p := *r.Pickup
		p.Accessories, p.Deductions = slices.Clone(p.Accessories), slices.Clone(p.Deductions)
		c.Pickup = &p
	}
	c.Work = slices.Clone(r.Work)
	if r.Quote != nil {
		q := *r.Quote
		q.Lines = slices.Clone(q.Lines)
		c.Quote = &q
	}
	return c
}

// maxExtraName bounds the name of a field kept in Extra.
const maxExtraName = 64

// Bounds of a report's Extra: a newer client's fields are kept, but not
// without limit. Bytes count names and values as sent.
const (
	MaxExtraFields = 32
	MaxExtraBytes  = 16 << 10
)

// CheckReportText checks the text of findings or cause: UTF-8 of at most
// MaxLongText bytes. EInvalid names the field.
func CheckReportText(field, s string) error { return optionalText(field, s, MaxLongText) }

// CheckReportField checks one field of an edit (see SetFields for the
// fields), answers against t; with t nil, as on a device that has not
// pulled the template, only their shape. EInvalid says what is wrong,
// EUnknownField names a field too long to keep.
func CheckReportField(name string, raw json.RawMessage, t *Template) error {
	_, err := parseReportField(name, raw, t)
	return err
}

// SetFields lays an edit's fields over a draft. An edit carries, by name,
// the fields it changes, as JSON:
//   - visit_id, template_id: strings naming the report's visit and
//     template, set once and never changed;
//   - corrects: the id of the report this one is an addendum of, set
//     only with the report's first fields (the creator checks it with
//     CheckCorrects), never added or changed later;
//   - slip_no: the report's appraisal slip number (ParseSlipNo), set
//     only with the report's first fields (the creator checks who issued
//     it and that no other report holds it), never added or changed later;
//   - answers: an object of checklist item id to value, each answer its own
//     field ("answers.<item>");
//   - findings, cause: text (CheckReportText);
//   - responsibility: one of Responsibilities;
//   - warranty: the device's warranty decision (ParseReportWarranty);
//   - pickup: the pick-up slip of a return or exchange (ParseReportPickup);
//   - work: the work done (ParseReportWork);
//   - quote: the priced paid work and the customer's decision
//     (ParseReportQuote);
//   - any other name of at most 64 bytes: a newer client's field, kept in
//     Extra ("extra.<name>") rather than lost.
//
// A field takes its new value only if newer(field) holds, the field named
// as in Clocks ("findings", "answers.<item>", "extra.<name>"): the server asks
// whether the edit's clock is newer than the one that set the current value,
// so edits from two tablets merge field by field and the later edit of one
// field wins; a device replaying its own pending edits in order over the
// server's state passes a func that always holds.
//
// Every field is checked (CheckReportField) before any is set, so an error
// leaves r as it was: EReportSealed unless r is a draft, EInvalid for a bad
// value or a visit_id or template_id other than the report's, EUnknownField,
// EExtraTooLarge when the fields it would keep in Extra pass MaxExtraFields
// or MaxExtraBytes. It returns the values it set, by field as in Clocks (visit_id and
// template_id, which are not edits, are never among them).
func (r *Report) SetFields(fields map[string]json.RawMessage, t *Template, newer func(field string) bool) (map[string]json.RawMessage, error) {
	if err := r.Editable(); err != nil {
		return nil, err
	}
	parsed := make([]reportField, 0, len(fields))
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		f, err := parseReportField(name, fields[name], t)
		if err != nil {
			return nil, err
		}
		if id := r.identity(name); id != nil && *id != f.text {
			switch {
			case name == "corrects" && r.VisitID != "":
				// A report is made with its visit: corrects comes with it or never.
				return nil, Errorf(EInvalid, "corrects is set when a report is made and cannot change: make a new report to correct another")
			case name == "slip_no" && r.VisitID != "":
				return nil, Errorf(EInvalid, "slip_no is issued when a report is made and cannot change")
			case name != "corrects" && name != "slip_no" && *id != "":
				return nil, Errorf(EInvalid, "%s cannot change", name)
			}
		}
		parsed = append(parsed, f)
	}
	if err := r.checkExtra(parsed, newer); err != nil {
		return nil, err
	}
	changed := map[string]json.RawMessage{}
	set := func(field string, v json.RawMessage) bool {
		if !newer(field) {
			return false
		}
		changed[field] = v
		return true
	}
	for _, f := range parsed {
		switch f.name {
		case "visit_id", "template_id", "corrects", "slip_no":
			*r.identity(f.name) = f.text
		case "answers":
			for item, v := range f.answers {
				if set("answers."+item, v) {
					if r.Answers == nil {
						r.Answers = map[string]json.RawMessage{}
					}
					r.Answers[item] = v
				}
			}
		case "findings":
			if set(f.name, f.raw) {
				r.Findings = f.text
			}
		case "cause":
			if set(f.name, f.raw) {
				r.Cause = f.text
			}
		case "responsibility":
			if set(f.name, f.raw) {
				r.Responsibility = Responsibility(f.text)
			}
		case "warranty":
			if set(f.name, f.raw) {
				r.Warranty = f.warranty
			}
		case "pickup":
			if set(f.name, f.raw) {
				r.Pickup = f.pickup
			}
		case "work":
			if set(f.name, f.raw) {
				r.Work = f.work
			}
		case "quote":
			if set(f.name, f.raw) {
				r.Quote = f.quote
			}
		default:
			if set("extra."+f.name, f.raw) {
				if r.Extra == nil {
					r.Extra = map[string]json.RawMessage{}
				}
				r.Extra[f.name] = f.raw
			}
		}
	}
	return changed, nil
}

// checkExtra returns EExtraTooLarge when the unknown fields of an edit
// that newer lets through would leave Extra over its bounds. An edit that
// sets no unknown field passes, whatever Extra already holds.
func (r *Report) checkExtra(parsed []reportField, newer func(field string) bool) error {
	sizes := make(map[string]int, len(r.Extra))
	for name, v := range r.Extra {
		sizes[name] = len(name) + len(v)
	}
	grows := false
	for _, f := range parsed {
		if f.kept() && newer("extra."+f.name) {
			sizes[f.name], grows = len(f.name)+len(f.raw), true
		}
	}
	if !grows {
		return nil
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	if len(sizes) > MaxExtraFields || total > MaxExtraBytes {
		return Errorf(EExtraTooLarge, "a report keeps at most %d unknown fields of at most %d bytes in all (names and values); this edit would leave %d of %d bytes", MaxExtraFields, MaxExtraBytes, len(sizes), total)
	}
	return nil
}

// kept reports whether f is a field this build does not know, kept in
// Extra.
func (f reportField) kept() bool {
	switch f.name {
	case "visit_id", "template_id", "corrects", "slip_no", "answers", "findings", "cause", "responsibility", "warranty", "pickup", "work", "quote":
		return false
	}
	return true
}

// identity returns r's field that visit_id, template_id, corrects or
// slip_no names, nil for any other name.
func (r *Report) identity(name string) *string {
	switch name {
	case "visit_id":
		return &r.VisitID
	case "template_id":
		return &r.TemplateID
	case "corrects":
		return &r.Corrects
	case "slip_no":
		return &r.SlipNo
	}
	return nil
}

// reportField is one field of an edit, checked and decoded.
type reportField struct {
	name     string
	raw      json.RawMessage
	text     string                     // of the fields whose value is a string
	answers  map[string]json.RawMessage // of answers
	warranty *ReportWarranty            // of warranty
	pickup   *ReportPickup              // of pickup
	work     []WorkLine                 // of work
	quote    *ReportQuote               // of quote
}

func parseReportField(name string, raw json.RawMessage, t *Template) (reportField, error) {
	f := reportField{name: name, raw: raw}
	switch name {
	case "visit_id", "template_id":
		if json.Unmarshal(raw, &f.text) != nil {
			return f, Errorf(EInvalid, "%s must be a string", name)
		}
	case "corrects":
		if json.Unmarshal(raw, &f.text) != nil || f.text == "" {
			return f, Errorf(EInvalid, "corrects must be the id of the report this one corrects")
		}
	case "slip_no":
		if json.Unmarshal(raw, &f.text) != nil {
			return f, Errorf(EInvalid, "slip_no must be a string")
		}
		if _, err := ParseSlipNo(f.text); err != nil {
			return f, err
		}
	case "answers":
		if json.Unmarshal(raw, &f.answers) != nil {
			return f, Errorf(EInvalid, "answers must be an object of item id to value")
		}
		if t == nil {
			break
		}
		for _, item := range slices.Sorted(maps.Keys(f.answers)) {
			if err := t.CheckAnswer(item, f.answers[item]); err != nil {
				return f, err
			}
		}
	case "findings", "cause":
		if json.Unmarshal(raw, &f.text) != nil {
			return f, Errorf(EInvalid, "%s must be text", name)
		}
		return f, CheckReportText(name, f.text)
	case "responsibility":
		if json.Unmarshal(raw, &f.text) != nil || !Responsibility(f.text).Valid() {
			return f, Errorf(EInvalid, "responsibility must be quality, customer_damage, transport or unknown")
		}
	case "warranty":
		w, err := ParseReportWarranty(raw)
		if err != nil {
			return f, err
		}
		f.warranty = &w
	case "pickup":
		p, err := ParseReportPickup(raw)
		if err != nil {
			return f, err
		}
		f.pickup = &p
	case "work":
		w, err := ParseReportWork(raw)
		if err != nil {
			return f, err
		}
		f.work = w
	case "quote":
		q, err := ParseReportQuote(raw)
		if err != nil {
			return f, err
		}
		f.quote = &q
	default:
		if len(name) > maxExtraName {
			return f, Errorf(EUnknownField, "field name too long: at most %d bytes", maxExtraName)
		}
	}
	return f, nil
}
