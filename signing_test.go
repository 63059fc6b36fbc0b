package fieldsync

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func signTemplate() Template {
	return Template{ID: "tpl", PhotoSlots: []PhotoSlot{{ID: "fault", Required: true}, {ID: "invoice", Required: true}, {ID: "overall"}}}
}

func signFields(t *testing.T, set map[string]any) map[string]json.RawMessage {
	t.Helper()
	base := map[string]any{
		"signed_at": "2026-05-01T10:00:00.9+08:00",
		"hash":      strings.Repeat("ab", 32),
		"key_id":    "dk-1",
		"signature": base64.RawURLEncoding.EncodeToString(make([]byte, 64)),
	}
	for k, v := range set {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	out := map[string]json.RawMessage{}
	for k, v := range base {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func TestParseSignAction(t *testing.T) {
	sha := strings.Repeat("c", 64)
	a, err := ParseSignAction(signFields(t, map[string]any{
		"customer_name":  "王芳",
		"photos":         []SlotPhoto{{Slot: "fault", SHA256: sha}, {Slot: SlotSignatureCustomer, SHA256: strings.Repeat("d", 64)}},
		"unphotographed": []SlotReason{{Slot: "invoice", Reason: "the customer lost it"}},
	}), signTemplate(), "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	s := a.Signature
	if s.DeviceID != "dev-1" || s.CustomerName != "王芳" || !s.SignedAt.Equal(time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)) || s.SignedAt.Location() != time.UTC || len(a.Photos) != 2 || len(s.Unphotographed) != 1 {
		t.Errorf("parsed %+v", a)
	}
	for _, c := range []struct {
		name string
		set  map[string]any
		code string
		want string
	}{
		{"no hash", map[string]any{"hash": nil}, EInvalid, "needs hash"},
		{"no signature", map[string]any{"signature": nil}, EInvalid, "needs signature"},
		{"no key", map[string]any{"key_id": nil}, EInvalid, "needs key_id"},
		{"no time", map[string]any{"signed_at": nil}, EInvalid, "needs signed_at"},
		{"a bad time", map[string]any{"signed_at": "yesterday"}, EInvalid, "RFC 3339"},
		{"hash upper case", map[string]any{"hash": strings.Repeat("AB", 32)}, EInvalid, "64 lower-case hex"},
		{"short signature", map[string]any{"signature": "AAAA"}, EInvalid, "64 bytes in base64url"},
		{"name not a string", map[string]any{"customer_name": 7}, EInvalid, "customer_name must be a string"},
		{"name padded", map[string]any{"customer_name": " Li "}, EInvalid, "begin or end with spaces"},
		{"name too long", map[string]any{"customer_name": strings.Repeat("x", MaxCustomerName+1)}, EInvalid, "at most 200 bytes"},
		{"customer signature without a name", map[string]any{"photos": []SlotPhoto{{Slot: SlotSignatureCustomer, SHA256: sha}}}, EInvalid, "customer_name is required"},
		{"two customer signatures", map[string]any{"customer_name": "Li", "photos": []SlotPhoto{{Slot: SlotSignatureCustomer, SHA256: sha}, {Slot: SlotSignatureCustomer, SHA256: strings.Repeat("e", 64)}}}, EInvalid, "holds two images"},
		{"a reason for an optional slot", map[string]any{"unphotographed": []SlotReason{{Slot: "overall", Reason: "x"}}}, EInvalid, "not a required photo slot"},
		{"a reason for an unknown slot", map[string]any{"unphotographed": []SlotReason{{Slot: "roof", Reason: "x"}}}, EInvalid, "not a required photo slot"},
		{"an empty reason", map[string]any{"unphotographed": []SlotReason{{Slot: "fault", Reason: "  "}}}, EInvalid, "say why slot fault"},
		{"a slot twice", map[string]any{"unphotographed": []SlotReason{{Slot: "fault", Reason: "a"}, {Slot: "fault", Reason: "b"}}}, EInvalid, "named twice"},
		{"reasons not a list", map[string]any{"unphotographed": "none"}, EInvalid, "list of {slot, reason}"},
		{"a photo on no slot", map[string]any{"photos": []SlotPhoto{{Slot: "roof", SHA256: sha}}}, EInvalid, "not a photo slot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSignAction(signFields(t, c.set), signTemplate(), "dev-1")
			if ErrorCode(err) != c.code || !strings.Contains(ErrorDetail(err), c.want) {
				t.Errorf("err = %v, want %s containing %q", err, c.code, c.want)
			}
		})
	}
}

func TestCheckEvidence(t *testing.T) {
	sha := strings.Repeat("c", 64)
	for _, c := range []struct {
		name    string
		photos  []SlotPhoto
		reasons []SlotReason
		code    string
		want    string
	}{
		{"every required slot has a photo", []SlotPhoto{{"fault", sha}, {"invoice", sha}}, nil, "", ""},
		{"a photo and a reason", []SlotPhoto{{"fault", sha}}, []SlotReason{{"invoice", "lost"}}, "", ""},
		{"nothing", nil, nil, EReportIncomplete, "required photo slots empty: fault, invoice"},
		{"signature images fill no slot", []SlotPhoto{{SlotSignatureCustomer, sha}, {"fault", sha}}, nil, EReportIncomplete, "empty: invoice"},
		{"both for one slot", []SlotPhoto{{"fault", sha}, {"invoice", sha}}, []SlotReason{{"fault", "x"}}, EInvalid, "slot fault has a photo and a reason"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckEvidence(signTemplate(), c.photos, c.reasons)
			if ErrorCode(err) != c.code || !strings.Contains(ErrorDetail(err), c.want) {
				t.Errorf("err = %v, want %q containing %q", err, c.code, c.want)
			}
		})
	}
}

func TestSignatureVerifyWith(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseDeviceKey(base64.RawURLEncoding.EncodeToString(pub), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("document"))
	s := Signature{Hash: hex.EncodeToString(sum[:]), Value: base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, sum[:]))}
	if err := s.VerifyWith(k); err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("another document"))
	for name, bad := range map[string]Signature{
		"another hash":       {Hash: hex.EncodeToString(other[:]), Value: s.Value},
		"no signature":       {Hash: s.Hash},
		"a signature of msg": {Hash: s.Hash, Value: base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte("document")))},
		"a hash not hex":     {Hash: strings.Repeat("z", 64), Value: s.Value},
	} {
		if err := bad.VerifyWith(k); ErrorCode(err) != EBadDeviceSignature || !strings.Contains(err.Error(), k.ID) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
