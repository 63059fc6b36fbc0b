package fieldsync

import (
	"strings"
	"testing"
	"time"
)

func TestLinkExpiryAndUsable(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	n := func(v int) *int { return &v }
	for _, tt := range []struct {
		days *int
		want time.Time
		code string
	}{
		{nil, now.AddDate(0, 0, 30), ""},
		{n(1), now.AddDate(0, 0, 1), ""},
		{n(365), now.AddDate(0, 0, 365), ""},
		{n(0), time.Time{}, EInvalid},
		{n(366), time.Time{}, EInvalid},
		{n(-3), time.Time{}, EInvalid},
	} {
		got, err := LinkExpiry(tt.days, now)
		if ErrorCode(err) != tt.code || (err == nil && !got.Equal(tt.want)) {
			t.Errorf("LinkExpiry(%v) = %s, %v", tt.days, got, err)
		}
	}
	l := ShareLink{ExpiresAt: now.Add(time.Hour)}
	if err := l.Usable(now); err != nil {
		t.Fatal(err)
	}
	if err := l.Usable(now.Add(time.Hour)); ErrorCode(err) != ELinkExpired {
		t.Fatalf("at expiry: %v", err)
	}
	l.Revoke("disp", now)
	l.Revoke("admin", now.Add(time.Minute))
	if l.RevokedBy != "disp" || ErrorCode(l.Usable(now.Add(2*time.Hour))) != ELinkRevoked {
		t.Fatalf("revoked: %+v", l)
	}
}

func TestSignOffValidate(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tt := range []struct {
		name string
		s    SignOff
		code string
	}{
		{"signed", SignOff{Hash: h, Decision: SignOffSigned, CustomerName: " 王芳 ", SignatureSHA256: h}, ""},
		{"signed without name", SignOff{Hash: h, Decision: SignOffSigned, CustomerName: "  ", SignatureSHA256: h}, EInvalid},
		{"signed without strokes", SignOff{Hash: h, Decision: SignOffSigned, CustomerName: "王芳"}, EInvalid},
		{"signed with a reason", SignOff{Hash: h, Decision: SignOffSigned, CustomerName: "王芳", SignatureSHA256: h, Reason: "x"}, EInvalid},
		{"signed without hash", SignOff{Decision: SignOffSigned, CustomerName: "王芳", SignatureSHA256: h}, EInvalid},
		{"name too long", SignOff{Hash: h, Decision: SignOffSigned, CustomerName: strings.Repeat("a", MaxCustomerName+1), SignatureSHA256: h}, EInvalid},
		{"refused", SignOff{Hash: h, Decision: SignOffRefused, Reason: "屏幕仍有竖线"}, ""},
		{"refused without hash", SignOff{Decision: SignOffRefused, Reason: "no"}, ""},
		{"refused with a bad hash", SignOff{Hash: "x", Decision: SignOffRefused, Reason: "no"}, EInvalid},
		{"refused without reason", SignOff{Hash: h, Decision: SignOffRefused}, EInvalid},
		{"refused with strokes", SignOff{Hash: h, Decision: SignOffRefused, Reason: "no", SignatureSHA256: h}, EInvalid},
		{"reason too long", SignOff{Hash: h, Decision: SignOffRefused, Reason: strings.Repeat("a", MaxSignOffReason+1)}, EInvalid},
		{"control character", SignOff{Hash: h, Decision: SignOffRefused, Reason: "a\x00b"}, EInvalid},
		{"unknown decision", SignOff{Hash: h, Decision: "maybe"}, EInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			if err := s.Validate(); ErrorCode(err) != tt.code {
				t.Fatalf("Validate() = %v, want code %q", err, tt.code)
			}
			if tt.code == "" && s.CustomerName != strings.TrimSpace(tt.s.CustomerName) {
				t.Errorf("name %q not trimmed", s.CustomerName)
			}
		})
	}
}

func TestSignOffAgainst(t *testing.T) {
	h, other := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	signed := Report{ID: "r", Status: ReportSigned, Signature: &Signature{Hash: h}}
	for _, tt := range []struct {
		name string
		r    Report
		s    SignOff
		code string
	}{
		{"signed, same hash", signed, SignOff{Hash: h, Decision: SignOffSigned}, ""},
		{"sealed, same hash", Report{Status: ReportSealed, Signature: &Signature{Hash: h}}, SignOff{Hash: h, Decision: SignOffSigned}, ""},
		{"changed", signed, SignOff{Hash: other, Decision: SignOffSigned}, EReportChanged},
		{"draft", Report{Status: ReportDraft}, SignOff{Hash: h, Decision: SignOffSigned}, EInvalidTransition},
		{"signature not here yet", Report{Status: ReportSigned}, SignOff{Hash: h, Decision: SignOffSigned}, EInvalidTransition},
		{"refusal of the report as it is", signed, SignOff{Decision: SignOffRefused}, ""},
		{"refusal of another version", signed, SignOff{Hash: other, Decision: SignOffRefused}, EReportChanged},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			if err := s.Against(&tt.r); ErrorCode(err) != tt.code {
				t.Fatalf("Against() = %v, want code %q", err, tt.code)
			}
			if tt.code == "" && s.Hash != h {
				t.Errorf("hash %q, want the report's", s.Hash)
			}
		})
	}
}
