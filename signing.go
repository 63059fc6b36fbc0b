package fieldsync

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Codes of a sign action the server refuses for what it signed.
const (
	// ESealHashMismatch: the report the device signed is not the report
	// the server holds (the canonical documents' hashes differ).
	ESealHashMismatch = "seal_hash_mismatch"
	// EBadDeviceSignature: the device signature does not verify with the
	// device's registered key, or that key could not sign then.
	EBadDeviceSignature = "bad_device_signature"
)

// Bounds of what a signature carries.
const (
	MaxCustomerName = 200 // bytes of the customer's printed name
	MaxSlotReason   = 500 // bytes of why a slot has no photo
)

// Signature is what a device's sign action adds to a report: the facts of
// the signing that the canonical document covers beyond the report's own
// fields (see sync/canon), and the device's Ed25519 signature of the
// document's SHA-256. The server keeps it exactly as the device sent it,
// so the document can be rebuilt byte for byte.
type Signature struct {
	// CustomerName is the customer's name as printed beside their
	// signature; "" when the customer did not sign on the device.
	CustomerName string `json:"customer_name,omitempty"`
	// SignedAt is when the device says it was signed, to the second in
	// UTC: the time the document states (Report.SignedAt is the time the
	// server kept, bounded by StepTime).
	SignedAt time.Time `json:"signed_at"`
	DeviceID string    `json:"device_id"`
	// KeyID names the device key that signed (DeviceKey.ID).
	KeyID string `json:"key_id"`
	// Hash is the canonical document's SHA-256, 64 lower-case hex digits.
	Hash string `json:"hash"`
	// Value is the Ed25519 signature of Hash's 32 bytes, base64url
	// without padding.
	Value string `json:"value"`
	// Unphotographed lists the required slots left without a photo, each
	// with the technician's reason, sorted by slot.
	Unphotographed []SlotReason `json:"unphotographed,omitempty"`
}

// SlotReason says why a required photo slot has no photo.
type SlotReason struct {
	Slot   string `json:"slot"`
	Reason string `json:"reason"`
}

// Digest returns the 32 bytes the device key signed (Hash decoded).
func (s *Signature) Digest() ([]byte, bool) {
	if !ValidSHA256(s.Hash) {
		return nil, false
	}
	b, err := hex.DecodeString(s.Hash)
	return b, err == nil
}

// VerifyWith returns nil when Value is k's signature of the hash, else
// EBadDeviceSignature naming the key.
func (s *Signature) VerifyWith(k *DeviceKey) error {
	digest, ok := s.Digest()
	sig, err := base64.RawURLEncoding.DecodeString(s.Value)
	if !ok || err != nil || len(sig) != ed25519.SignatureSize || !k.Verify(digest, sig) {
		return Errorf(EBadDeviceSignature, "the signature does not verify with device key %s", k.ID)
	}
	return nil
}

// SignatureImages splits the photos a signature names into the signature
// images (the one on each signature slot, "" when none) and the evidence
// photos. EInvalid when a signature slot holds two images.
func SignatureImages(photos []SlotPhoto) (customer, technician string, evidence []SlotPhoto, err error) {
	for _, p := range photos {
		var into *string
		switch p.Slot {
		case SlotSignatureCustomer:
			into = &customer
		case SlotSignatureTechnician:
			into = &technician
		default:
			evidence = append(evidence, p)
			continue
		}
		if *into != "" && *into != p.SHA256 {
			return "", "", nil, Errorf(EInvalid, "slot %s holds two images; a signature is one drawing: name only the latest", p.Slot)
		}
		*into = p.SHA256
	}
	return customer, technician, evidence, nil
}

// SignAction is the fields of a report's sign action, decoded.
type SignAction struct {
	Photos    []SlotPhoto
	Signature Signature
}

// ParseSignAction reads a sign action's fields as a device pushes them:
//
//	photos          [{slot, sha256}] the photos the signature covers (ParseSignedPhotos)
//	customer_name   the customer's printed name (required with a customer signature image)
//	signed_at       the device's time of signing, RFC 3339
//	unphotographed  [{slot, reason}] required slots left without a photo, and why
//	hash            hex SHA-256 of the canonical document
//	key_id          the device key that signed
//	signature       base64url Ed25519 signature of the hash's 32 bytes
//
// device names the pushing device. EInvalid names the field to fix.
func ParseSignAction(fields map[string]json.RawMessage, t Template, device string) (SignAction, error) {
	var a SignAction
	photos, err := ParseSignedPhotos(fields["photos"], t)
	if err != nil {
		return a, err
	}
	a.Photos = photos
	s := &a.Signature
	s.DeviceID = device
	str := func(name string, into *string, required bool) error {
		raw, ok := fields[name]
		if !ok {
			if required {
				return Errorf(EInvalid, "a sign action needs %s: sign with the current SDK, which signs the report with the device key", name)
			}
			return nil
		}
		if json.Unmarshal(raw, into) != nil {
			return Errorf(EInvalid, "%s must be a string", name)
		}
		return nil
	}
	var at string
	for _, f := range []struct {
		name     string
		into     *string
		required bool
	}{{"customer_name", &s.CustomerName, false}, {"signed_at", &at, true}, {"hash", &s.Hash, true}, {"key_id", &s.KeyID, true}, {"signature", &s.Value, true}} {
		if err := str(f.name, f.into, f.required); err != nil {
			return a, err
		}
	}
	when, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return a, Errorf(EInvalid, "signed_at must be an RFC 3339 time, not %q", at)
	}
	s.SignedAt = when.UTC().Truncate(time.Second)
	if !ValidSHA256(s.Hash) {
		return a, Errorf(EInvalid, "hash must be 64 lower-case hex digits (the SHA-256 of the canonical document)")
	}
	if s.KeyID == "" || len(s.KeyID) > 64 {
		return a, Errorf(EInvalid, "key_id must name the device key that signed")
	}
	if sig, err := base64.RawURLEncoding.DecodeString(s.Value); err != nil || len(sig) != ed25519.SignatureSize {
		return a, Errorf(EInvalid, "signature must be an Ed25519 signature: 64 bytes in base64url without padding")
	}
	if err := checkCustomerName(s.CustomerName); err != nil {
		return a, err
	}
	if raw, ok := fields["unphotographed"]; ok {
		if json.Unmarshal(raw, &s.Unphotographed) != nil {
			return a, Errorf(EInvalid, "unphotographed must be a list of {slot, reason}")
		}
	}
	if err := checkSlotReasons(s.Unphotographed, t); err != nil {
		return a, err
	}
	slices.SortFunc(s.Unphotographed, func(x, y SlotReason) int { return strings.Compare(x.Slot, y.Slot) })
	customer, _, _, err := SignatureImages(photos)
	if err != nil {
		return a, err
	}
	if customer != "" && s.CustomerName == "" {
		return a, Errorf(EInvalid, "customer_name is required with the customer's signature: the name printed beside it")
	}
	return a, nil
}

func checkCustomerName(name string) error {
	switch {
	case !utf8.ValidString(name) || len(name) > MaxCustomerName:
		return Errorf(EInvalid, "customer_name must be UTF-8 of at most %d bytes", MaxCustomerName)
	case name != strings.TrimSpace(name):
		return Errorf(EInvalid, "customer_name must not begin or end with spaces")
	}
	return nil
}

// checkSlotReasons checks the reasons for slots left without a photo: each
// on a required slot of t, once, with a reason.
func checkSlotReasons(reasons []SlotReason, t Template) error {
	required := t.RequiredSlots()
	seen := map[string]bool{}
	for i, r := range reasons {
		switch {
		case !slices.Contains(required, r.Slot):
			return Errorf(EInvalid, "unphotographed[%d]: %q is not a required photo slot of template %s (required: %s)", i, r.Slot, t.ID, strings.Join(required, ", "))
		case seen[r.Slot]:
			return Errorf(EInvalid, "unphotographed[%d]: slot %s is named twice", i, r.Slot)
		case strings.TrimSpace(r.Reason) == "":
			return Errorf(EInvalid, "unphotographed[%d]: say why slot %s has no photo", i, r.Slot)
		case !utf8.ValidString(r.Reason) || len(r.Reason) > MaxSlotReason:
			return Errorf(EInvalid, "unphotographed[%d]: the reason must be UTF-8 of at most %d bytes", i, MaxSlotReason)
		}
		seen[r.Slot] = true
	}
	return nil
}

// CheckEvidence returns EReportIncomplete, naming them, while a required
// photo slot of t has neither a photo among photos nor a reason among
// reasons; EInvalid when a slot has both.
func CheckEvidence(t Template, photos []SlotPhoto, reasons []SlotReason) error {
	var missing []string
	for _, slot := range t.RequiredSlots() {
		has := slices.ContainsFunc(photos, func(p SlotPhoto) bool { return p.Slot == slot })
		why := slices.ContainsFunc(reasons, func(r SlotReason) bool { return r.Slot == slot })
		switch {
		case has && why:
			return Errorf(EInvalid, "slot %s has a photo and a reason for having none; drop the reason", slot)
		case !has && !why:
			missing = append(missing, slot)
		}
	}
	if len(missing) > 0 {
		return Errorf(EReportIncomplete, "required photo slots empty: %s (attach a photo, or record why it cannot be taken)", strings.Join(missing, ", "))
	}
	return nil
}

// SealVersion names the form of a seal's statement.
const SealVersion = "fieldsync-seal/1"

// Seal is the server's attestation of a signed report: it signs the
// statement of the fields below (all but Signature, as RFC 8785 JSON;
// sync/seal) with its Ed25519 key KeyID, and appends that statement to
// the transparency log at LogIndex.
type Seal struct {
	Version  string `json:"version"`
	ReportID string `json:"report_id"`
	// Hash is the canonical document's SHA-256 (hex) the device signed.
	Hash            string `json:"hash"`
	DeviceID        string `json:"device_id"`
	DeviceKeyID     string `json:"device_key_id"`
	DeviceSignature string `json:"device_signature"` // base64url
	SealedAt        string `json:"sealed_at"`        // RFC 3339 UTC, to the second
	LogIndex        int64  `json:"log_index"`
	KeyID           string `json:"key_id"` // the server key's kid, as in the JWKS
	// Signature is the server's Ed25519 signature of the statement,
	// base64url without padding.
	Signature string `json:"signature,omitempty"`
}
