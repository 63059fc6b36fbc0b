package fieldsync

import (
	"strings"
	"time"
)

// Share link bounds: a link lives DefaultLinkDays unless its creator asks
// for 1 to MaxLinkDays.
const (
	DefaultLinkDays = 30
	MaxLinkDays     = 365
)

// ShareLink lets whoever holds its token read one report, its photos and
// its seal, and sign it off, without an account. The token itself is
// never stored: the store keeps its SHA-256, so a copy of the data file
// opens no link.
type ShareLink struct {
	ID        string     `json:"id"`
	ReportID  string     `json:"report_id"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

// LinkExpiry returns when a link made at now for days days expires: days
// nil is DefaultLinkDays; other values outside 1..MaxLinkDays are EInvalid.
func LinkExpiry(days *int, now time.Time) (time.Time, error) {
	n := DefaultLinkDays
	if days != nil {
		n = *days
	}
	if n < 1 || n > MaxLinkDays {
		return time.Time{}, Errorf(EInvalid, "expires_in_days must be from 1 to %d, not %d", MaxLinkDays, n)
	}
	return now.AddDate(0, 0, n), nil
}

// Usable returns nil when the link opens its report at now: ELinkRevoked
// once revoked (whatever its expiry), else ELinkExpired from ExpiresAt on.
func (l *ShareLink) Usable(now time.Time) error {
	if l.RevokedAt != nil {
		return Errorf(ELinkRevoked, "this link was revoked on %s; ask for a new one", l.RevokedAt.UTC().Format(time.DateOnly))
	}
	if !now.Before(l.ExpiresAt) {
		return Errorf(ELinkExpired, "this link expired on %s; ask for a new one", l.ExpiresAt.UTC().Format(time.DateOnly))
	}
	return nil
}

// Revoke marks the link revoked by actor at now; revoking a revoked link
// keeps its first revocation.
func (l *ShareLink) Revoke(actor string, now time.Time) {
	if l.RevokedAt == nil {
		l.RevokedAt, l.RevokedBy = &now, actor
	}
}

// SignOffVersion names the form of a sign-off's statement.
const SignOffVersion = "fieldsync-signoff/1"

// MaxSignOffReason bounds a refusal's reason, in bytes.
const MaxSignOffReason = 2000

// SignOffDecision is what the customer did with the report a link showed.
type SignOffDecision string

const (
	SignOffSigned  SignOffDecision = "signed"
	SignOffRefused SignOffDecision = "refused"
)

// SignOff is a customer's remote answer to a signed report: their
// signature, or their refusal with a reason. A report takes one. It is
// sealed like a report: its statement (itself without Signature, as RFC
// 8785 JSON) is signed with the server key and appended to the
// transparency log at LogIndex.
type SignOff struct {
	Version  string          `json:"version"`
	ReportID string          `json:"report_id"`
	Hash     string          `json:"hash"` // the canonical document's SHA-256 the customer reviewed
	Decision SignOffDecision `json:"decision"`
	// CustomerName is the name the customer printed; required to sign,
	// optional to refuse.
	CustomerName string `json:"customer_name,omitempty"`
	// SignatureSHA256 names the PNG drawn from their strokes (signed only).
	SignatureSHA256 string `json:"signature_sha256,omitempty"`
	Reason          string `json:"reason,omitempty"` // why they refused (refused only)
	At              string `json:"at"`               // RFC 3339 UTC, to the second
	LinkID          string `json:"link_id"`
	LogIndex        int64  `json:"log_index"`
	KeyID           string `json:"key_id"` // the server key's kid, as in the JWKS
	// Signature is the server's Ed25519 signature of the statement,
	// base64url without padding.
	Signature string `json:"signature,omitempty"`
}

// Validate trims the customer's name and reason and checks the sign-off
// as the customer sent it: a known decision and the hash they reviewed;
// to sign, their name and the hash of their drawn signature and no
// reason; to refuse, a reason and no signature. EInvalid names what to
// fix.
func (s *SignOff) Validate() error {
	s.CustomerName, s.Reason = strings.TrimSpace(s.CustomerName), strings.TrimSpace(s.Reason)
	if (s.Hash != "" || s.Decision != SignOffRefused) && !ValidSHA256(s.Hash) {
		return Errorf(EInvalid, "hash must be the 64 lower-case hex digits of the report's hash, as the page showed it")
	}
	switch s.Decision {
	case SignOffRefused:
		if err := requireText("reason", s.Reason, MaxSignOffReason); err != nil {
			return Errorf(EInvalid, "%s: say why you refuse to sign", ErrorDetail(err))
		}
		if s.SignatureSHA256 != "" {
			return Errorf(EInvalid, "a refusal carries no signature strokes")
		}
		return optionalText("customer_name", s.CustomerName, MaxCustomerName)
	case SignOffSigned:
		if s.Reason != "" {
			return Errorf(EInvalid, "reason is for a refusal; to sign, send customer_name and strokes only")
		}
		if err := requireText("customer_name", s.CustomerName, MaxCustomerName); err != nil {
			return err
		}
		if !ValidSHA256(s.SignatureSHA256) {
			return Errorf(EInvalid, "strokes are required to sign")
		}
		return nil
	}
	return Errorf(EInvalid, "decision must be signed or refused, not %q", s.Decision)
}

// Against checks the sign-off against its report r: r must be signed or
// sealed by its technician, with the device signature on the server
// (EInvalidTransition otherwise), and the hash the customer reviewed must
// be its document's (EReportChanged otherwise). A refusal sent without a
// hash refuses the report as it is.
func (s *SignOff) Against(r *Report) error {
	if r.Status == ReportDraft {
		return Errorf(EInvalidTransition, "report %s is a draft: the technician signs it before the customer can", r.ID)
	}
	if r.Signature == nil {
		return Errorf(EInvalidTransition, "report %s's signature has not reached the server yet; try again later", r.ID)
	}
	if s.Hash == "" && s.Decision == SignOffRefused {
		s.Hash = r.Signature.Hash
	}
	if s.Hash != r.Signature.Hash {
		return Errorf(EReportChanged, "the report changed since you opened it; reload and review it again")
	}
	return nil
}
