package canon

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync"
	"github.com/gowebpki/jcs"
)

// Version names this form of the document; a change of any field's name,
// meaning or presence rule is a new version.
const Version = "fieldsync-report/1"

// TimeLayout is the form of signed_at: RFC 3339 in UTC, whole seconds.
const TimeLayout = "2006-01-02T15:04:05Z"

// Document is what a report's signature covers. Optional fields that are
// empty are left out of the JSON, never written as null, "", [] or {}: a
// value that is absent on one side and empty on the other canonicalizes
// the same.
type Document struct {
	Version     string `json:"version"`
	ReportID    string `json:"report_id"`
	VisitID     string `json:"visit_id"`
	TicketID    string `json:"ticket_id"`
	AssetID     string `json:"asset_id"`
	AssetSerial string `json:"asset_serial,omitempty"`
	TemplateID  string `json:"template_id"`
	// Corrects is the report this one is an addendum of; absent for a
	// report that corrects none.
	Corrects string `json:"corrects,omitempty"`
	// SlipNo is the report's appraisal slip number (fieldsync.SlipNo),
	// printed on it; absent for a report made without one.
	SlipNo string `json:"slip_no,omitempty"`
	// Answers holds every answered checklist item; a cleared (null)
	// answer is no answer and is left out.
	Answers        map[string]json.RawMessage `json:"answers,omitempty"`
	Findings       string                     `json:"findings,omitempty"`
	Cause          string                     `json:"cause,omitempty"`
	Responsibility fieldsync.Responsibility   `json:"responsibility,omitempty"`
	// CustomerName is the customer's name as printed beside the
	// signature; absent when the customer did not sign on the device.
	CustomerName string `json:"customer_name,omitempty"`
	SignedAt     string `json:"signed_at"` // TimeLayout
	DeviceID     string `json:"device_id"`
	// Photos are sorted by slot, then SHA-256, each once.
	Photos []fieldsync.SlotPhoto `json:"photos,omitempty"`
	// The SHA-256 (lower-case hex) of the signature images (PNG).
	CustomerSignature   string `json:"customer_signature_sha256,omitempty"`
	TechnicianSignature string `json:"technician_signature_sha256,omitempty"`
	// Unphotographed are the required slots left without a photo, with
	// the technician's reason, sorted by slot.
	Unphotographed []fieldsync.SlotReason `json:"unphotographed,omitempty"`
	// Warranty is the warranty decision the device made, with the
	// question it answered and the day decided for
	// (fieldsync.ReportWarranty), as the customer saw it; absent when the
	// report has none.
	Warranty *fieldsync.ReportWarranty `json:"warranty,omitempty"`
	// Pickup is the pick-up slip of a return or an exchange
	// (fieldsync.ReportPickup): the accessory check the customer signs and
	// what it deducts; absent when the report has none.
	Pickup *fieldsync.ReportPickup `json:"pickup,omitempty"`
	// Work is the work done (fieldsync.WorkLine), in the report's order;
	// absent when the report records none.
	Work []fieldsync.WorkLine `json:"work,omitempty"`
	// Quote is the priced paid work and the customer's decision on it
	// (fieldsync.ReportQuote), the price they accepted or declined;
	// absent when the report has none.
	Quote *fieldsync.ReportQuote `json:"quote,omitempty"`
}

// Signing is what a signature adds to the records it covers. The server
// must keep these as the device sent them (signed_at as the device's
// clock said, not the time the server recorded) to rebuild the document.
type Signing struct {
	CustomerName string
	SignedAt     time.Time // kept to the second, in UTC
	DeviceID     string
	Photos       []fieldsync.SlotPhoto // in any order
	// Hex SHA-256 of the signature images; "" for one not drawn.
	CustomerSignature   string
	TechnicianSignature string
	Unphotographed      []fieldsync.SlotReason // in any order
}

// SigningOf returns the Signing that sig and the photos it names (the
// signature images among them) describe: what the server rebuilds a
// report's document from.
func SigningOf(sig *fieldsync.Signature, photos []fieldsync.SlotPhoto) (Signing, error) {
	customer, technician, evidence, err := fieldsync.SignatureImages(photos)
	if err != nil {
		return Signing{}, err
	}
	return Signing{
		CustomerName: sig.CustomerName, SignedAt: sig.SignedAt, DeviceID: sig.DeviceID, Photos: evidence,
		CustomerSignature: customer, TechnicianSignature: technician, Unphotographed: sig.Unphotographed,
	}, nil
}

// Build makes the document of report r of visit v, on ticket t about
// asset a, signed as s says. It reads r's answers, findings, cause,
// responsibility, warranty decision, quote, pick-up slip, work, slip
// number and template, never its status, clocks, the server's warranty
// check or its quote_stale flag, so the tablet may build it before its
// own record says signed. EInvalid names what is missing or inconsistent:
// records that do not belong together, a required field empty, a bad
// hash, a photo named twice, text that is not UTF-8 (which JSON could
// only carry altered).
func Build(r *fieldsync.Report, v *fieldsync.Visit, t *fieldsync.Ticket, a *fieldsync.Asset, s Signing) (Document, error) {
	switch {
	case r.VisitID != v.ID:
		return Document{}, fieldsync.Errorf(fieldsync.EInvalid, "report %s is of visit %s, not %s", r.ID, r.VisitID, v.ID)
	case v.TicketID != t.ID:
		return Document{}, fieldsync.Errorf(fieldsync.EInvalid, "visit %s is on ticket %s, not %s", v.ID, v.TicketID, t.ID)
	case t.AssetID != a.ID:
		return Document{}, fieldsync.Errorf(fieldsync.EInvalid, "ticket %s is about asset %s, not %s", t.ID, t.AssetID, a.ID)
	}
	at := s.SignedAt.UTC().Truncate(time.Second)
	if y := at.Year(); s.SignedAt.IsZero() || y < 1 || y > 9999 {
		return Document{}, fieldsync.Errorf(fieldsync.EInvalid, "signed_at is required, between years 1 and 9999")
	}
	d := Document{
		Version: Version, ReportID: r.ID, VisitID: v.ID, TicketID: t.ID, AssetID: a.ID, AssetSerial: a.Serial,
		TemplateID: r.TemplateID, Corrects: r.Corrects, SlipNo: r.SlipNo, Findings: r.Findings, Cause: r.Cause, Responsibility: r.Responsibility,
		CustomerName: s.CustomerName, SignedAt: at.Format(TimeLayout), DeviceID: s.DeviceID,
		CustomerSignature: s.CustomerSignature, TechnicianSignature: s.TechnicianSignature,
		Warranty: r.Warranty, Pickup: r.Pickup, Quote: r.Quote,
	}
	if len(r.Work) > 0 {
		d.Work = r.Work
	}
	for item, raw := range r.Answers {
		if !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			if d.Answers == nil {
				d.Answers = make(map[string]json.RawMessage, len(r.Answers))
			}
			d.Answers[item] = raw
		}
	}
	d.Photos = slices.SortedFunc(slices.Values(s.Photos), comparePhotos)
	d.Unphotographed = slices.SortedFunc(slices.Values(s.Unphotographed), func(a, b fieldsync.SlotReason) int { return strings.Compare(a.Slot, b.Slot) })
	if err := d.validate(); err != nil {
		return Document{}, err
	}
	return d, nil
}

func comparePhotos(a, b fieldsync.SlotPhoto) int {
	return cmp.Or(strings.Compare(a.Slot, b.Slot), strings.Compare(a.SHA256, b.SHA256))
}

// validate checks what Build promises of a document; EInvalid names the
// field.
func (d *Document) validate() error {
	if d.Version != Version {
		return fieldsync.Errorf(fieldsync.EInvalid, "version %q is not %s", d.Version, Version)
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"report_id", d.ReportID, true}, {"visit_id", d.VisitID, true}, {"ticket_id", d.TicketID, true},
		{"asset_id", d.AssetID, true}, {"asset_serial", d.AssetSerial, false}, {"template_id", d.TemplateID, true}, {"corrects", d.Corrects, false},
		{"findings", d.Findings, false}, {"cause", d.Cause, false}, {"customer_name", d.CustomerName, false},
		{"device_id", d.DeviceID, true},
	} {
		if f.required && f.v == "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "%s is required", f.name)
		}
		if !utf8.ValidString(f.v) {
			return fieldsync.Errorf(fieldsync.EInvalid, "%s is not valid UTF-8", f.name)
		}
	}
	if d.SlipNo != "" {
		if _, err := fieldsync.ParseSlipNo(d.SlipNo); err != nil {
			return err
		}
	}
	if d.Corrects == d.ReportID {
		return fieldsync.Errorf(fieldsync.EInvalid, "corrects: report %s cannot correct itself", d.ReportID)
	}
	if at, err := time.Parse(TimeLayout, d.SignedAt); err != nil || at.Format(TimeLayout) != d.SignedAt {
		return fieldsync.Errorf(fieldsync.EInvalid, "signed_at %q is not RFC 3339 UTC to the second (%s)", d.SignedAt, TimeLayout)
	}
	if d.Responsibility != "" && !d.Responsibility.Valid() {
		return fieldsync.Errorf(fieldsync.EInvalid, "responsibility %q is not one of quality, customer_damage, transport, unknown", d.Responsibility)
	}
	for _, item := range slices.Sorted(maps.Keys(d.Answers)) {
		raw := d.Answers[item]
		switch {
		case item == "" || !utf8.ValidString(item):
			return fieldsync.Errorf(fieldsync.EInvalid, "answers: item id %q must be non-empty UTF-8", item)
		case !json.Valid(raw) || !utf8.Valid(raw):
			return fieldsync.Errorf(fieldsync.EInvalid, "answers.%s is not valid UTF-8 JSON", item)
		case bytes.Equal(bytes.TrimSpace(raw), []byte("null")):
			return fieldsync.Errorf(fieldsync.EInvalid, "answers.%s is null; an unanswered item is left out", item)
		}
	}
	for i, p := range d.Photos {
		switch {
		case p.Slot == "" || !utf8.ValidString(p.Slot):
			return fieldsync.Errorf(fieldsync.EInvalid, "photos[%d]: slot must be non-empty UTF-8", i)
		case !fieldsync.ValidSHA256(p.SHA256):
			return fieldsync.Errorf(fieldsync.EInvalid, "photos[%d]: sha256 must be 64 lower-case hex digits", i)
		case i > 0 && d.Photos[i-1] == p:
			return fieldsync.Errorf(fieldsync.EInvalid, "photos: %s on %s is named twice", p.SHA256, p.Slot)
		case i > 0 && comparePhotos(d.Photos[i-1], p) > 0:
			return fieldsync.Errorf(fieldsync.EInvalid, "photos[%d]: photos must be sorted by slot, then sha256", i)
		}
	}
	for i, u := range d.Unphotographed {
		switch {
		case u.Slot == "" || !utf8.ValidString(u.Slot) || u.Reason == "" || !utf8.ValidString(u.Reason):
			return fieldsync.Errorf(fieldsync.EInvalid, "unphotographed[%d]: slot and reason must be non-empty UTF-8", i)
		case i > 0 && d.Unphotographed[i-1].Slot >= u.Slot:
			return fieldsync.Errorf(fieldsync.EInvalid, "unphotographed[%d]: slots must be sorted, each once", i)
		}
	}
	if d.Warranty != nil {
		raw, err := json.Marshal(d.Warranty)
		if err != nil || !utf8.Valid(raw) {
			return fieldsync.Errorf(fieldsync.EInvalid, "warranty is not valid UTF-8 JSON")
		}
		if _, err := fieldsync.ParseReportWarranty(raw); err != nil {
			return err
		}
	}
	if d.Pickup != nil {
		raw, err := json.Marshal(d.Pickup)
		if err != nil {
			return fieldsync.Errorf(fieldsync.EInvalid, "pickup is not valid JSON")
		}
		if _, err := fieldsync.ParseReportPickup(raw); err != nil {
			return err
		}
	}
	if d.Work != nil {
		raw, err := json.Marshal(d.Work)
		if err != nil || !utf8.Valid(raw) {
			return fieldsync.Errorf(fieldsync.EInvalid, "work is not valid UTF-8 JSON")
		}
		if _, err := fieldsync.ParseReportWork(raw); err != nil {
			return err
		}
	}
	if d.Quote != nil {
		raw, err := json.Marshal(d.Quote)
		if err != nil || !utf8.Valid(raw) {
			return fieldsync.Errorf(fieldsync.EInvalid, "quote is not valid UTF-8 JSON")
		}
		if _, err := fieldsync.ParseReportQuote(raw); err != nil {
			return err
		}
	}
	for _, f := range [][2]string{{"customer_signature_sha256", d.CustomerSignature}, {"technician_signature_sha256", d.TechnicianSignature}} {
		if f[1] != "" && !fieldsync.ValidSHA256(f[1]) {
			return fieldsync.Errorf(fieldsync.EInvalid, "%s must be 64 lower-case hex digits", f[0])
		}
	}
	return nil
}

// Bytes returns the document's canonical form: RFC 8785 JSON, UTF-8, no
// whitespace, no trailing newline. It fails only for an answer that is
// not JSON, which Build never lets through.
func (d Document) Bytes() ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "document: %v", err)
	}
	return JSON(b)
}

// Sum returns the SHA-256 of Bytes: what the device key signs.
func (d Document) Sum() ([sha256.Size]byte, error) {
	b, err := d.Bytes()
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// Hash returns Sum as 64 lower-case hex digits, the form a sign action
// and a seal carry.
func (d Document) Hash() (string, error) {
	sum, err := d.Sum()
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum[:]), nil
}

// JSON returns the RFC 8785 canonical form of the JSON value b. EInvalid
// for anything that is not one JSON value in UTF-8, for duplicate object
// names, and for numbers no IEEE 754 double holds.
func JSON(b []byte) ([]byte, error) {
	out, err := jcs.Transform(b)
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "not canonicalizable JSON: %v", err)
	}
	return out, nil
}

// Parse reads a canonical document back, as `fieldsync verify` does from
// a bundle. It takes only what Build makes: bytes already in canonical
// form, of this Version, with no unknown field and no empty optional one,
// so Parse(b).Bytes() is b again. EInvalid says what is wrong.
func Parse(b []byte) (Document, error) {
	c, err := JSON(b)
	if err != nil {
		return Document{}, err
	}
	if !bytes.Equal(c, b) {
		return Document{}, fieldsync.Errorf(fieldsync.EInvalid, "the document is not in RFC 8785 canonical form")
	}
	var d Document
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Document{}, fieldsync.Errorf(fieldsync.EInvalid, "not a %s document: %v", Version, err)
	}
	if err := d.validate(); err != nil {
		return Document{}, err
	}
	again, err := d.Bytes()
	if err != nil {
		return Document{}, err
	}
	if !bytes.Equal(again, b) {
		return Document{}, fieldsync.Errorf(fieldsync.EInvalid, "the document writes an empty value where %s leaves the field out", Version)
	}
	return d, nil
}
