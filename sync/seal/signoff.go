package seal

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// SignOff seals a customer's sign-off s, to be appended at log index, with
// k: it sets the version, index and key id, signs the statement and
// returns it, the record to append.
func SignOff(s *fieldsync.SignOff, index int64, k Key) ([]byte, error) {
	s.Version, s.LogIndex, s.KeyID = fieldsync.SignOffVersion, index, k.ID
	stmt, err := SignOffStatement(*s)
	if err != nil {
		return nil, err
	}
	s.Signature = base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.Private, stmt))
	return stmt, nil
}

// SignOffStatement returns what the server key signs and the log records:
// s without its signature, as RFC 8785 JSON.
func SignOffStatement(s fieldsync.SignOff) ([]byte, error) {
	s.Signature = ""
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "sign-off: %v", err)
	}
	return canon.JSON(b)
}

// VerifySignOff returns nil when s's signature is pub's over its
// statement, else EInvalid naming the key.
func VerifySignOff(s fieldsync.SignOff, pub ed25519.PublicKey) error {
	stmt, err := SignOffStatement(s)
	if err != nil {
		return err
	}
	return verify("sign-off", stmt, s.Signature, s.KeyID, pub)
}
