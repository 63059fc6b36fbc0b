package media

import (
	"context"
	"errors"
	"io"

	"github.com/fieldsync/fieldsync"
)

// Open returns a stored photo or its thumbnail as a seekable reader, so
// that HTTP range requests read only the bytes they ask for.
func (s *Service) Open(ctx context.Context, p *fieldsync.Photo, thumb bool) (io.ReadSeekCloser, error) {
	key, size := EvidenceKey(p.SHA256), p.Size
	if thumb {
		if !p.Thumbnail {
			return nil, fieldsync.Errorf(fieldsync.ENotFound, "photo %s has no thumbnail", p.SHA256)
		}
		key = ThumbKey(p.SHA256)
		n, err := s.Blobs.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		size = n
	}
	return &blobReader{ctx: ctx, blobs: s.Blobs, key: key, size: size}, nil
}

// blobReader reads an object from the offset it was sought to: the store
// is asked for the bytes only when they are read.
type blobReader struct {
	ctx       context.Context
	blobs     BlobStore
	key       string
	size, off int64
	rc        io.ReadCloser
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	if b.rc == nil {
		rc, err := b.blobs.Open(b.ctx, b.key, b.off, -1)
		if err != nil {
			return 0, err
		}
		b.rc = rc
	}
	n, err := b.rc.Read(p)
	b.off += int64(n)
	return n, err
}

func (b *blobReader) Seek(offset int64, whence int) (int64, error) {
	var to int64
	switch whence {
	case io.SeekStart:
		to = offset
	case io.SeekCurrent:
		to = b.off + offset
	case io.SeekEnd:
		to = b.size + offset
	}
	if to < 0 {
		return b.off, errors.New("media: seek before the start")
	}
	if to != b.off && b.rc != nil {
		_ = b.rc.Close() // read no further; the next Read opens at the new offset
		b.rc = nil
	}
	b.off = to
	return to, nil
}

func (b *blobReader) Close() error {
	if b.rc != nil {
		return b.rc.Close()
	}
	return nil
}
