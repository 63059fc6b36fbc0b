package seal

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// Key is the server key that seals: its kid (as in the JWKS) and its
// private half.
type Key struct {
	ID      string
	Private ed25519.PrivateKey
}

// New makes the seal of report r, signed by its device (r.Signature), at
// now, to be appended at log index, and signs it with k. It returns the
// seal and its statement, the record to append. EInvalid when r carries
// no device signature.
func New(r *fieldsync.Report, now time.Time, index int64, k Key) (fieldsync.Seal, []byte, error) {
	sig := r.Signature
	if sig == nil {
		return fieldsync.Seal{}, nil, fieldsync.Errorf(fieldsync.EInvalid, "report %s carries no device signature to seal", r.ID)
	}
	s := fieldsync.Seal{
		Version: fieldsync.SealVersion, ReportID: r.ID, Hash: sig.Hash,
		DeviceID: sig.DeviceID, DeviceKeyID: sig.KeyID, DeviceSignature: sig.Value,
		SealedAt: now.UTC().Truncate(time.Second).Format(canon.TimeLayout), LogIndex: index, KeyID: k.ID,
	}
	stmt, err := Statement(s)
	if err != nil {
		return fieldsync.Seal{}, nil, err
	}
	s.Signature = base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.Private, stmt))
	return s, stmt, nil
}

// Statement returns what the server key signs and the log records: s
// without its signature, as RFC 8785 JSON.
func Statement(s fieldsync.Seal) ([]byte, error) {
	s.Signature = ""
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "seal: %v", err)
	}
	return canon.JSON(b)
}

// Parse reads a seal as a bundle carries it (JSON with its signature).
// EInvalid says what is wrong.
func Parse(b []byte) (fieldsync.Seal, error) {
	var s fieldsync.Seal
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fieldsync.Errorf(fieldsync.EInvalid, "not a seal: %v", err)
	}
	if s.Version != fieldsync.SealVersion {
		return s, fieldsync.Errorf(fieldsync.EInvalid, "seal version %q is not %s", s.Version, fieldsync.SealVersion)
	}
	return s, nil
}

// Verify returns nil when s's signature is pub's over its statement, else
// EInvalid naming the key.
func Verify(s fieldsync.Seal, pub ed25519.PublicKey) error {
	stmt, err := Statement(s)
	if err != nil {
		return err
	}
	return verify("seal", stmt, s.Signature, s.KeyID, pub)
}

// verify returns nil when sig (base64url) is pub's signature of stmt,
// else EInvalid naming what and the key.
func verify(what string, stmt []byte, sig, kid string, pub ed25519.PublicKey) error {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, stmt, raw) {
		return fieldsync.Errorf(fieldsync.EInvalid, "%s: signature invalid for key kid %s", what, kid)
	}
	return nil
}
