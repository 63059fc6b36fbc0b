package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

func key(t *testing.T, id string) Key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Key{ID: id, Private: priv}
}

func signed() *fieldsync.Report {
	return &fieldsync.Report{ID: "rep-1", Signature: &fieldsync.Signature{
		DeviceID: "dev-1", KeyID: "dk-1", Hash: strings.Repeat("ab", 32), Value: "c2ln",
	}}
}

func TestSealVerifiesAndEveryFieldCounts(t *testing.T) {
	k := key(t, "kid-1")
	now := time.Date(2026, 5, 1, 8, 0, 0, 999, time.FixedZone("CST", 8*3600))
	s, stmt, err := New(signed(), now, 41, k)
	if err != nil {
		t.Fatal(err)
	}
	if s.SealedAt != "2026-05-01T00:00:00Z" || s.LogIndex != 41 || s.KeyID != "kid-1" {
		t.Errorf("seal = %+v", s)
	}
	again, _ := Statement(s)
	if string(again) != string(stmt) || strings.Contains(string(stmt), s.Signature) {
		t.Errorf("statement %s is not the seal without its signature", stmt)
	}
	if err := Verify(s, k.Private.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	other := key(t, "kid-2")
	for name, change := range map[string]func(*fieldsync.Seal){
		"report_id":        func(s *fieldsync.Seal) { s.ReportID = "rep-2" },
		"hash":             func(s *fieldsync.Seal) { s.Hash = strings.Repeat("cd", 32) },
		"device_id":        func(s *fieldsync.Seal) { s.DeviceID = "dev-2" },
		"device_key_id":    func(s *fieldsync.Seal) { s.DeviceKeyID = "dk-2" },
		"device_signature": func(s *fieldsync.Seal) { s.DeviceSignature = "c2lo" },
		"sealed_at":        func(s *fieldsync.Seal) { s.SealedAt = "2026-05-01T00:00:01Z" },
		"log_index":        func(s *fieldsync.Seal) { s.LogIndex = 42 },
		"key_id":           func(s *fieldsync.Seal) { s.KeyID = "kid-2" },
		"signature":        func(s *fieldsync.Seal) { s.Signature = s.Signature[:10] + flip(s.Signature[10]) + s.Signature[11:] },
	} {
		c := s
		change(&c)
		if err := Verify(c, k.Private.Public().(ed25519.PublicKey)); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
			t.Errorf("changing %s: Verify = %v, want invalid", name, err)
		}
	}
	if err := Verify(s, other.Private.Public().(ed25519.PublicKey)); err == nil || !strings.Contains(err.Error(), "kid kid-1") {
		t.Errorf("another key: %v", err)
	}
}

func TestNewNeedsADeviceSignature(t *testing.T) {
	if _, _, err := New(&fieldsync.Report{ID: "r"}, time.Now(), 0, key(t, "k")); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("New without signature = %v", err)
	}
}

func TestParse(t *testing.T) {
	s, _, err := New(signed(), time.Now(), 3, key(t, "k"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"version":"fieldsync-seal/9"}`, "is not fieldsync-seal/1"},
		{`[1]`, "not a seal"},
	} {
		if _, err := Parse([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want %q", c.in, err, c.want)
		}
	}
	stmt, _ := Statement(s)
	if p, err := Parse(stmt); err != nil || p.Hash != s.Hash {
		t.Errorf("Parse(statement) = %+v, %v", p, err)
	}
}

// flip returns a base64url character other than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
