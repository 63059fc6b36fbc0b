package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fieldsync/fieldsync/media/tus"
)

// ErrNotFound is returned by a BlobStore for an object or upload it does
// not hold.
var ErrNotFound = errors.New("media: not found")

// ErrExists is returned by Finish when an object with that hash is stored
// already: the upload's bytes are discarded, the stored object is kept.
var ErrExists = errors.New("media: object exists")

// BlobStore keeps uploads in progress and finished objects. An upload's
// progress lives in a tus.State, an opaque value the caller persists (in the
// server's store) after every call that returns one, so an upload resumes
// after a restart of the server; a store keeps nothing about uploads in
// memory. Objects are named by the hex SHA-256 of their bytes and are
// never overwritten. Implementations: localstore (a directory) and s3store
// (S3 through minio-go).
type BlobStore interface {
	// Begin starts an upload of size bytes.
	Begin(ctx context.Context, uploadID string, size int64) (tus.State, error)
	// Append adds the bytes of r to the upload, which holds st.Offset
	// bytes so far. It consumes r to its end or first error and returns
	// the new state holding every byte it kept, also when it returns an
	// error (a cut connection keeps what arrived). It never holds the
	// bytes of r in memory beyond a bounded buffer.
	Append(ctx context.Context, uploadID string, st tus.State, r io.Reader) (tus.State, error)
	// Finish publishes the upload as the object sha256 (lower-case hex,
	// already verified by the caller) and forgets the upload. The object is
	// the st.Offset bytes the upload holds followed by the bytes of last,
	// which must hold exactly the st.Size-st.Offset bytes still missing
	// (last may be nil when none are). Giving the final bytes to Finish
	// rather than to Append lets a store write a photo that arrives whole
	// once, straight under its name. If the object exists Finish discards
	// the upload and returns ErrExists. After a failure the upload still
	// holds st, so Finish may be called again with the same arguments.
	Finish(ctx context.Context, uploadID string, st tus.State, last io.Reader, sha256 string) error
	// Abort discards an upload and every part of it.
	Abort(ctx context.Context, uploadID string, st tus.State) error

	// Stat returns an object's size, or ErrNotFound.
	Stat(ctx context.Context, key string) (int64, error)
	// Open reads length bytes of an object from offset (length < 0: to
	// the end), or ErrNotFound.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Put stores a derived object (a thumbnail) under key, replacing it:
	// derived objects can always be made again from the evidence.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
}

// Keys of objects: evidence by hash, derived objects beside it.
func EvidenceKey(sha256 string) string { return "photos/" + sha256 }

// ThumbKey names the thumbnail of an evidence object.
func ThumbKey(sha256 string) string { return "thumbs/" + sha256 + ".jpg" }

// ValidKey accepts object keys like "photos/<sha256>" and
// "thumbs/<sha256>.jpg": lower-case letters, digits and "/._-", relative,
// with no empty, "." or ".." element, so that a key names one file under a
// directory and one object in a bucket, the same on every store.
func ValidKey(key string) error {
	ok := len(key) > 0 && len(key) <= 512 && !strings.Contains(key, "..")
	for _, elem := range strings.Split(key, "/") {
		ok = ok && elem != "" && elem != "." && validChars(elem)
	}
	if !ok {
		return fmt.Errorf("media: invalid key %q", key)
	}
	return nil
}

// ValidUploadID accepts one path element of the same letters, as the
// service's UUIDs are, so each upload owns the name uploads/<id>.
func ValidUploadID(id string) bool {
	return len(id) > 0 && len(id) <= 128 && id != "." && !strings.Contains(id, "..") && validChars(id)
}

func validChars(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
