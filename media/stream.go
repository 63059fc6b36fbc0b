package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
	"github.com/fieldsync/fieldsync/media/tus"
)

// streamTimeout bounds a write that stores a photo while it arrives: the
// server's read timeout bounds the body, this the blob store.
const streamTimeout = 5 * time.Minute

// stream stores the photo of upload u, whose every byte comes in the body
// in, while the bytes arrive, so that receiving a photo and storing it
// overlap. The photo's type and dimensions are checked on its first
// bytes, before any is stored. Then all of them go to the blob store's
// Finish through a gate that holds back the read completing them until
// the photo's SHA-256 (and the request's Upload-Checksum) is checked:
// bytes that fail are never published.
//
// It returns the photo once its bytes passed and are stored. It returns
// nil, and publishes nothing, when the write is to go on as any other
// from the spool, which says why in its order or stores the photo from
// there: the photo is stored already (the bytes are only checked), its
// first bytes are refused, the body was cut, the bytes failed a check, or
// the store failed (a slow client can outlast S3's patience; the spool
// then sends the photo at disk speed). An error is a failure to learn
// whether the photo is stored.
func (s *Service) stream(ctx context.Context, u *tus.Upload, in *incoming) (*fieldsync.Photo, error) {
	if stored, err := s.stored(ctx, u.SHA256); err != nil || stored {
		return nil, err
	}
	head := make([]byte, min(headLen, u.Length))
	if _, err := io.ReadFull(in, head); err != nil {
		return nil, nil // a cut: in keeps what arrived, and why it stopped
	}
	info, err := photo.Inspect(bytes.NewReader(head), int64(len(head)))
	if err != nil {
		// Refused, but the spool says why, in its order: bytes damaged on
		// the way (the chunk's checksum) before a bad image.
		return nil, nil
	}
	// From here the request's end (a cut) shows as the body's read error;
	// what arrived must still be kept.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), streamTimeout)
	defer cancel()
	g := &gate{r: io.MultiReader(bytes.NewReader(head), in), left: u.Length, ok: func() bool {
		return in.chunkOK() && hexSum(in.photo) == u.SHA256
	}}
	// Also ErrExists only once the bytes passed: a store may find the
	// object there before reading any, and knowing a photo's hash is no
	// proof of holding it.
	if err := s.Blobs.Finish(ctx, u.ID, u.Blob, g, u.SHA256); (err == nil || errors.Is(err, ErrExists)) && g.passed() {
		return s.photoOf(u, info), nil
	}
	return nil, nil // the spool says why, or stores the photo
}

// errRefused ends a gate's stream of bytes that failed their check.
var errRefused = errors.New("media: the bytes failed their check")

// gate passes left bytes of r on, but holds back the read that would
// complete them until ok approves them all; a refusal ends the reader's
// stream with errRefused instead of its last bytes.
type gate struct {
	r       io.Reader
	left    int64
	ok      func() bool
	refused bool
}

// passed reports whether every byte went through and ok approved them.
func (g *gate) passed() bool { return g.left == 0 && !g.refused }

func (g *gate) Read(p []byte) (int, error) {
	switch {
	case g.refused:
		return 0, errRefused
	case g.left <= 0:
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= int64(n)
	if g.left == 0 {
		if g.refused = !g.ok(); g.refused {
			return 0, errRefused
		}
		return n, nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
