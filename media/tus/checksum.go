package tus

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"

	"github.com/fieldsync/fieldsync"
)

// ChecksumAlgorithms lists what Upload-Checksum may use
// (Tus-Checksum-Algorithm).
const ChecksumAlgorithms = "sha1,sha256,md5"

// Checksum is an Upload-Checksum: the bytes of the request that carries
// it must hash to Sum.
type Checksum struct {
	Algorithm string // one of ChecksumAlgorithms
	Sum       []byte
}

// ParseChecksum reads an Upload-Checksum header value, "<algorithm>
// <base64 sum>". A value that does not parse, or names an algorithm not
// in ChecksumAlgorithms, is an EInvalid error.
func ParseChecksum(v string) (*Checksum, error) {
	alg, sum, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "Upload-Checksum must be \"<algorithm> <base64>\"")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sum))
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "Upload-Checksum is not base64")
	}
	c := &Checksum{Algorithm: alg, Sum: raw}
	if c.NewHash() == nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "unsupported checksum algorithm %q (sha1, sha256, md5)", alg)
	}
	return c, nil
}

// String is the Upload-Checksum header value.
func (c Checksum) String() string {
	return c.Algorithm + " " + base64.StdEncoding.EncodeToString(c.Sum)
}

// NewHash returns a new hash of c's algorithm, or nil for one not in
// ChecksumAlgorithms.
func (c Checksum) NewHash() hash.Hash {
	switch c.Algorithm {
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "md5":
		return md5.New()
	}
	return nil
}
