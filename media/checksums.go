package media

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/fieldsync/fieldsync/media/tus"
)

// An upload's SHA-256 goes on from request to request: its state is
// marshalled into the upload's record (HashState) after each, so the
// photo is never read again to be checked.

// uploadHash is the SHA-256 of the bytes the upload holds, to go on with.
func uploadHash(u *tus.Upload) (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(u.HashState); err != nil {
		return nil, fmt.Errorf("media: upload %s hash state: %w", u.ID, err)
	}
	return h, nil
}

func marshalHash(h hash.Hash) ([]byte, error) {
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

// hexSum is h's sum as a photo's name.
func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
