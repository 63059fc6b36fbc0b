package media

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
)

// streamTimeout bounds a write that stores a photo while it arrives: the
// server's read timeout bounds the body, this the blob store.
const streamTimeout = 5 * time.Minute

// incoming is a PATCH body on its way in. Whoever reads it, every byte
// read is spooled and hashed first, so what arrived can always be kept
// and checked whatever happens to the reader.
type incoming struct {
	spool *os.File
	body  io.Reader // the raw body, to tell one byte too many
	src   io.Reader // body, limited to what the upload lacks
	to    io.Writer // spool and hashes
	n     int64     // bytes read, spooled and hashed
	err   error     // why the body stopped short (a cut), never io.EOF
	photo hash.Hash // the upload's SHA-256 with the n bytes in it
	chunk hash.Hash // Upload-Checksum's algorithm over the n bytes, or nil
}

// receive starts taking in body for the upload u; sum is the request's
// Upload-Checksum, or nil.
func (s *Service) receive(u *Upload, body io.Reader, sum *Checksum) (*incoming, error) {
	photo, err := u.hash()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.SpoolDir, "patch-*")
	if err != nil {
		return nil, err
	}
	in := &incoming{spool: f, body: body, src: io.LimitReader(body, u.Length-u.Offset()), photo: photo}
	to := []io.Writer{f, photo}
	if sum != nil {
		in.chunk = newChecksumHash(sum.Algorithm)
		to = append(to, in.chunk)
	}
	in.to = io.MultiWriter(to...)
	return in, nil
}

func (in *incoming) Read(p []byte) (int, error) {
	if in.err != nil {
		return 0, in.err
	}
	n, err := in.src.Read(p)
	if n > 0 {
		if _, werr := in.to.Write(p[:n]); werr != nil {
			// The spool failed (a full disk): these bytes are not received.
			in.err = werr
			return 0, werr
		}
		in.n += int64(n)
	}
	if err != nil && err != io.EOF {
		in.err = err
	}
	return n, err
}

// drain reads the rest of the body into the spool and returns how many
// bytes the spool holds. A body longer than what the upload lacks is
// refused, not silently cut: nothing of it counts.
func (in *incoming) drain() int64 {
	buf := make([]byte, 64<<10)
	for in.err == nil {
		if _, err := in.Read(buf); err != nil {
			break
		}
	}
	if in.err == nil {
		var one [1]byte
		if m, _ := in.body.Read(one[:]); m > 0 {
			in.err = fieldsync.Errorf(fieldsync.EInvalid, "the body is longer than what the upload lacks")
			in.n = 0
		}
	}
	return in.n
}

func (in *incoming) close() {
	in.spool.Close()
	os.Remove(in.spool.Name())
}

// stream publishes an upload whose every byte comes with this request
// while the bytes arrive, so that receiving a photo and storing it
// overlap. The photo's type and dimensions are checked on its first
// bytes, before any is stored. Then all of them go to the blob store's
// Finish through a gate that holds back the read completing them until
// the photo's SHA-256 (and the request's Upload-Checksum) is checked:
// bytes that fail are never published. ok is false, and nothing
// published, when the write is to go on as any other from the spool: the
// photo is stored already, its first bytes are refused (the ordinary path
// says why, in its order), the body was cut, or the store failed (a slow
// client can outlast S3's patience; the spool then sends the photo at
// disk speed).
func (s *Service) stream(ctx context.Context, u *Upload, in *incoming, sum *Checksum) (p *fieldsync.Photo, ok bool, err error) {
	switch _, err := s.Store.Photo(ctx, u.SHA256); {
	case err == nil:
		return nil, false, nil // stored already: the bytes are only checked
	case fieldsync.ErrorCode(err) != fieldsync.ENotFound:
		return nil, true, err
	}
	head := make([]byte, min(headLen, u.Length))
	if _, err := io.ReadFull(in, head); err != nil {
		return nil, false, nil
	}
	info, err := photo.Inspect(bytes.NewReader(head), int64(len(head)))
	if err != nil {
		// Refused, but the ordinary path says why, in its order: bytes
		// damaged on the way (the chunk's checksum) before a bad image.
		return nil, false, nil
	}
	p = s.photoOf(u, info)
	// From here the request's end (a cut) shows as the body's read error;
	// what arrived must still be kept.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), streamTimeout)
	defer cancel()

	var errChunk, errPhoto = errors.New("media: chunk checksum"), errors.New("media: photo hash")
	g := &gate{r: io.MultiReader(bytes.NewReader(head), in), left: u.Length, check: func() error {
		if sum != nil && !bytes.Equal(in.chunk.Sum(nil), sum.Sum) {
			return errChunk
		}
		if hex.EncodeToString(in.photo.Sum(nil)) != u.SHA256 {
			return errPhoto
		}
		return nil
	}}
	err = s.Blobs.Finish(ctx, u.ID, u.Blob, g, u.SHA256)
	switch {
	case (err == nil || errors.Is(err, ErrExists)) && g.passed():
		// Also ErrExists only once the bytes passed: a store may find the
		// object there before reading any, and knowing a photo's hash is
		// no proof of holding it.
		done := *u
		if done.HashState, err = marshalHash(in.photo); err != nil {
			return nil, true, err
		}
		p, err = s.record(ctx, u, &done, p, u.Length)
		return p, true, err
	case g.refused == errChunk:
		s.Metrics.Refused.WithLabelValues("checksum").Inc()
		return nil, true, fieldsync.Errorf(fieldsync.EChecksumMismatch, "the chunk does not match its Upload-Checksum; nothing of it was kept")
	case g.refused == errPhoto:
		return nil, true, s.checkHash(ctx, u, in.photo)
	}
	return nil, false, nil
}

// gate passes left bytes of r on, but holds back the read that would
// complete them until check approves them all; a refusal ends the
// reader's stream with the error instead of its last bytes.
type gate struct {
	r       io.Reader
	left    int64
	check   func() error
	refused error
}

// passed reports whether every byte went through and check approved them.
func (g *gate) passed() bool { return g.left == 0 && g.refused == nil }

func (g *gate) Read(p []byte) (int, error) {
	switch {
	case g.refused != nil:
		return 0, g.refused
	case g.left <= 0:
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= int64(n)
	if g.left == 0 {
		if g.refused = g.check(); g.refused != nil {
			return 0, g.refused
		}
		return n, nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
