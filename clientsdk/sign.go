package clientsdk

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// Signing a report on the device: the canonical document (sync/canon) is
// built from the device's own records, its SHA-256 signed with the device
// key (devicekey.go), and the sign action carries the hash, the key id
// and the signature beside what the document states that the report does
// not (the photos, the customer's name, the time, slots without photos).
// The server parses the same fields (fieldsync.ParseSignAction), rebuilds
// the document from its records, and seals the report when both agree.

// SignOptions are what a signature states beyond the report itself.
type SignOptions struct {
	// CustomerName is the customer's name as printed beside their
	// signature: required when the customer's signature is attached
	// (AttachSignature, role customer); "" when the customer signs later
	// (remote sign-off).
	CustomerName string
	// Unphotographed gives, for each required photo slot left without a
	// photo, the technician's reason.
	Unphotographed map[string]string
}

// SignReport signs a draft on the device, offline. It refuses, before
// anything is queued and with the server's codes:
//   - EReportIncomplete while a required checklist item is unanswered, or
//     a required photo slot has neither a photo on the device nor a
//     reason in o.Unphotographed (naming them);
//   - EInvalid for what the server would refuse of the action: a reason
//     for a slot that is not a required one of the template, an empty
//     reason, a photo and a reason on one slot, a customer signature
//     without o.CustomerName, two images on a signature slot;
//   - EReportSealed when the report is signed already; ENotFound when the
//     device lacks the report's template, visit, ticket or asset;
//   - ErrNoDeviceKey when the device has no signing key (never signed in,
//     or revoked).
//
// The signature names the photos attached to the report on the device so
// far, the signature images included (Report.SignedPhotos): uploaded
// after it, the server takes them, and no others. It is signed at the
// device's clock, to the second. Report shows the report signed at once,
// with Report.Signature (hash, key id) as pushed; after the server seals
// it, a pull brings status sealed and Report.Seal.
func (c *Client) SignReport(reportID string, o SignOptions) error {
	fields := map[string]json.RawMessage{}
	return c.write(fieldsync.EntityReport, reportID, syncproto.OpAction, "sign", fields, func(rd *reader) error {
		signed, err := c.signFields(rd, reportID, o, true)
		maps.Copy(fields, signed)
		return err
	})
}

// CheckSign returns what SignReport would refuse now, signing and
// queueing nothing: an app calls it before the customer draws, since a
// signature image once attached stays on the report.
func (c *Client) CheckSign(reportID string, o SignOptions) error {
	return c.view(func(rd *reader) error {
		_, err := c.signFields(rd, reportID, o, false)
		return err
	})
}

// signFields returns the sign action's fields for the report as the
// device holds it, signed with the device key; only checks them unless
// sign.
func (c *Client) signFields(rd *reader, reportID string, o SignOptions, sign bool) (map[string]json.RawMessage, error) {
	r, t, err := c.draft(rd, reportID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "template %s of report %s is not on this device: sync before signing", r.TemplateID, reportID)
	}
	if err := r.CheckSignable(*t); err != nil {
		return nil, err
	}
	v, err := rd.visit(r.VisitID)
	if err != nil {
		return nil, err
	}
	ticket, ok, err := get[fieldsync.Ticket](rd.tx, fieldsync.EntityTicket, v.TicketID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "ticket %s of visit %s is not on this device: sync before signing", v.TicketID, v.ID)
	}
	asset, ok, err := get[fieldsync.Asset](rd.tx, fieldsync.EntityAsset, ticket.AssetID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "asset %s of ticket %s is not on this device: sync before signing", ticket.AssetID, ticket.ID)
	}

	ids, entries, err := reportPhotos(rd.tx, reportID)
	if err != nil {
		return nil, err
	}
	// A signature drawn again replaces the drawing before it: the
	// signature names the latest image on each signature slot (the
	// queue's ids grow), every other photo on the report.
	latest := map[string]int64{}
	for i, e := range entries {
		if e.Slot == fieldsync.SlotSignatureCustomer || e.Slot == fieldsync.SlotSignatureTechnician {
			latest[e.Slot] = max(latest[e.Slot], ids[i])
		}
	}
	photos := make([]fieldsync.SlotPhoto, 0, len(entries))
	for i, e := range entries {
		if last, ok := latest[e.Slot]; !ok || ids[i] == last {
			photos = append(photos, fieldsync.SlotPhoto{Slot: e.Slot, SHA256: e.SHA256})
		}
	}
	reasons := make([]fieldsync.SlotReason, 0, len(o.Unphotographed))
	for _, slot := range slices.Sorted(maps.Keys(o.Unphotographed)) {
		reasons = append(reasons, fieldsync.SlotReason{Slot: slot, Reason: o.Unphotographed[slot]})
	}
	fields := map[string]json.RawMessage{
		"signed_at": jsonString(c.opts.Now().UTC().Truncate(time.Second).Format(time.RFC3339)),
	}
	if len(photos) > 0 {
		if fields["photos"], err = json.Marshal(photos); err != nil {
			return nil, err
		}
	}
	if o.CustomerName != "" {
		fields["customer_name"] = jsonString(o.CustomerName)
	}
	if len(reasons) > 0 {
		if fields["unphotographed"], err = json.Marshal(reasons); err != nil {
			return nil, err
		}
	}

	// What the technician gave is checked as the server will check it
	// before anything is signed, so a refusal names the input to fix; the
	// signature's own fields stand in as well-formed blanks meanwhile.
	device := c.opts.DeviceID
	blank := maps.Clone(fields)
	blank["hash"] = jsonString(strings.Repeat("0", 64))
	blank["key_id"] = jsonString("-")
	blank["signature"] = jsonString(base64.RawURLEncoding.EncodeToString(make([]byte, 64)))
	a, err := fieldsync.ParseSignAction(blank, *t, device)
	if err != nil {
		return nil, err
	}
	if err := fieldsync.CheckEvidence(*t, a.Photos, a.Signature.Unphotographed); err != nil {
		return nil, err
	}
	if key, err := deviceKey(rd.tx, keyDeviceKey); err != nil || key == nil || !sign {
		if err == nil && key == nil {
			err = ErrNoDeviceKey
		}
		return nil, err
	}

	// The document of what the server will parse from these fields.
	s, err := canon.SigningOf(&a.Signature, a.Photos)
	if err != nil {
		return nil, err
	}
	doc, err := canon.Build(r, v, &ticket, &asset, s)
	if err != nil {
		return nil, err
	}
	sum, err := doc.Sum()
	if err != nil {
		return nil, err
	}
	hash, err := doc.Hash()
	if err != nil {
		return nil, err
	}
	sig, keyID, err := signDigest(rd.tx, sum[:])
	if err != nil {
		return nil, err
	}
	fields["hash"] = jsonString(hash)
	fields["key_id"] = jsonString(keyID)
	fields["signature"] = jsonString(base64.RawURLEncoding.EncodeToString(sig))
	if _, err := fieldsync.ParseSignAction(fields, *t, device); err != nil {
		return nil, err
	}
	return fields, nil
}

// signatureOf reads the signature a pending sign action carries, as the
// server will keep it; nil when it carries none (a malformed one is the
// server's to refuse). The stamp's node is the device that signed.
func signatureOf(m syncproto.Mutation) *fieldsync.Signature {
	var f struct {
		CustomerName   string                 `json:"customer_name"`
		SignedAt       string                 `json:"signed_at"`
		Hash           string                 `json:"hash"`
		KeyID          string                 `json:"key_id"`
		Value          string                 `json:"signature"`
		Unphotographed []fieldsync.SlotReason `json:"unphotographed"`
	}
	raw, err := json.Marshal(m.Fields)
	if err != nil || json.Unmarshal(raw, &f) != nil || f.Hash == "" {
		return nil
	}
	at, err := time.Parse(time.RFC3339, f.SignedAt)
	if err != nil {
		return nil
	}
	h, _ := syncproto.ParseHLC(m.HLC)
	return &fieldsync.Signature{
		CustomerName: f.CustomerName, SignedAt: at.UTC().Truncate(time.Second), DeviceID: h.Node,
		KeyID: f.KeyID, Hash: f.Hash, Value: f.Value, Unphotographed: f.Unphotographed,
	}
}
