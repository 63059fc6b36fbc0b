package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/fieldsync/fieldsync"
)

// SignOffKey names the PNG of a signature a customer drew through a share
// link: not evidence uploaded by a device, but kept beside it, by hash.
func SignOffKey(sha256 string) string { return "signoffs/" + sha256 + ".png" }

// PutSignOff stores png, a customer's drawn signature, under its SHA-256.
// The same bytes are stored under the same name, so storing them again
// changes nothing.
func (s *Service) PutSignOff(ctx context.Context, png []byte) error {
	sum := sha256.Sum256(png)
	return s.Blobs.Put(ctx, SignOffKey(hex.EncodeToString(sum[:])), bytes.NewReader(png), int64(len(png)))
}

// SignOff returns a stored signature PNG as a photo record (its hash,
// size and type), or ErrNotFound.
func (s *Service) SignOff(ctx context.Context, sha string) (*fieldsync.Photo, error) {
	n, err := s.Blobs.Stat(ctx, SignOffKey(sha))
	if err != nil {
		return nil, err
	}
	return &fieldsync.Photo{SHA256: sha, Size: n, Type: "image/png"}, nil
}

// OpenSignOff reads a signature PNG SignOff returned, as Open reads a
// photo; it has no thumbnail (ENotFound).
func (s *Service) OpenSignOff(ctx context.Context, p *fieldsync.Photo, thumb bool) (io.ReadSeekCloser, error) {
	if thumb {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "signature %s has no thumbnail", p.SHA256)
	}
	return &blobReader{ctx: ctx, blobs: s.Blobs, key: SignOffKey(p.SHA256), size: p.Size}, nil
}
