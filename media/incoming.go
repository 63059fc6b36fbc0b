package media

import (
	"bytes"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/tus"
)

// incoming is a PATCH body on its way in. The body waits in a spool file:
// then a checksum can be checked before anything is kept, and exactly the
// bytes the blob store kept are hashed. Whoever reads it, every byte read
// is spooled and hashed first (while the network is the slower), so what
// arrived can always be kept and checked whatever happens to the reader.
type incoming struct {
	spool *os.File
	body  io.Reader         // the raw body, to tell one byte too many
	src   *io.LimitedReader // body, limited to what the upload lacks
	to    io.Writer         // spool and hashes
	n     int64             // bytes read, spooled and hashed
	err   error             // why the body stopped short (a cut), never io.EOF
	photo hash.Hash         // the upload's SHA-256 with the n bytes in it
	chunk hash.Hash         // Upload-Checksum's algorithm over the n bytes, or nil
	want  []byte            // the sum chunk must come to
}

// receive starts taking in body for the upload u; sum is the request's
// Upload-Checksum, or nil. The caller discards what it returns.
func (s *Service) receive(u *tus.Upload, body io.Reader, sum *tus.Checksum) (*incoming, error) {
	photo, err := uploadHash(u)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.SpoolDir, spoolPrefix+u.ID+"-*")
	if err != nil {
		return nil, err
	}
	in := &incoming{spool: f, body: body, src: &io.LimitedReader{R: body, N: u.Length - u.Offset()}, photo: photo}
	to := []io.Writer{f, photo}
	if sum != nil {
		in.chunk, in.want = sum.NewHash(), sum.Sum
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
	if in.err == nil && in.src.N > 0 {
		buf := make([]byte, 64<<10)
		for in.err == nil {
			if _, err := in.Read(buf); err != nil {
				break // in.err says why, unless the body ended
			}
		}
	}
	if in.err == nil {
		var one [1]byte
		// Whatever else this read returns, the body ended where it should.
		if m, _ := in.body.Read(one[:]); m > 0 {
			in.err = fieldsync.Errorf(fieldsync.EInvalid, "the body is longer than what the upload lacks")
			in.n = 0
		}
	}
	return in.n
}

// chunkOK reports whether the bytes read match the request's
// Upload-Checksum; true without one.
func (in *incoming) chunkOK() bool {
	return in.chunk == nil || bytes.Equal(in.chunk.Sum(nil), in.want)
}

// discard removes the spool.
func (s *Service) discard(in *incoming) {
	_ = in.spool.Close() // only read from now, and removed next
	// Gone already when a refusal dropped the upload with its spool files.
	if err := os.Remove(in.spool.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Logger.Warn("removing a spool file failed", "file", in.spool.Name(), "error", err.Error())
	}
}
