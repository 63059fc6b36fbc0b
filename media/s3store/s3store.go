// Package s3store keeps photo evidence in an S3 bucket through minio-go:
// the media.BlobStore for servers that share their photos.
//
// An upload lives in S3, so between requests nothing lives in the
// server's memory or on its disk and an upload resumes on any server from
// its tus.State alone. Layout in the bucket (upload ids are one path
// element, so each upload owns the prefix uploads/<id>/):
//
//	uploads/<id>/data      target of the upload's S3 multipart upload,
//	                       begun with its first full part, completed by Finish
//	uploads/<id>/<n>.part  the "incomplete part": bytes of part n that do
//	                       not yet fill a part (S3 parts but the last must
//	                       hold at least 5 MiB), as tusd's s3store keeps them
//	photos/<sha256>        evidence, written by Finish
//	thumbs/<sha256>.jpg    derived objects written by Put
//
// Most photos are smaller than one part. Such an upload never begins a
// multipart upload: Finish writes the incomplete part and the last bytes
// to photos/<sha256> in one PUT, and a photo sent in one request costs
// one PUT, as much as storing it without tus. A larger upload's multipart
// upload is completed at uploads/<id>/data and copied to its name within
// S3, because S3 cannot complete it under another key than it began with
// and the hash is the name.
//
// The incomplete part is named by its part number so that the state a
// crash kept in the caller's store stays readable: an Append that fills
// part n and starts part n+1 writes a new object and leaves n.part as it
// was. Finish and Abort remove everything under uploads/<id>/, multipart
// uploads included.
package s3store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/tus"
)

// Config says where the bucket is.
type Config struct {
	Endpoint  string // host:port
	Bucket    string // created by New if missing
	AccessKey string
	SecretKey string
	Region    string
	Insecure  bool // plain HTTP
}

// Store is a media.BlobStore on an S3 bucket.
type Store struct {
	client *minio.Client
	core   minio.Core
	bucket string
}

var _ media.BlobStore = (*Store)(nil)

const (
	// partSize is the size of every part but the last: S3's minimum, so an
	// Append spools at most this much.
	partSize = 5 << 20
	// maxParts is S3's limit on parts, which caps an upload at about 48.8 GiB.
	maxParts = 10000
	// maxCopyPart is the largest range one UploadPartCopy may copy, and
	// maxPut the largest object one PUT may write.
	maxCopyPart = 5 << 30
	maxPut      = 5 << 30
	// flushTimeout bounds saving what an Append received after its context
	// ended: a cut connection cancels the request's context, and what
	// arrived before the cut is to be kept.
	flushTimeout = 30 * time.Second
)

// New connects to the bucket, creating it if missing.
func New(ctx context.Context, cfg Config) (*Store, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3store: bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil && errorCode(err) != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("s3store: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	return &Store{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket}, nil
}

// state is what State.Backend holds: the multipart upload, its parts in
// order, and how many bytes wait in the incomplete part object.
type state struct {
	UploadID string `json:"upload_id"`
	Parts    []part `json:"parts"`
	Pending  int64  `json:"pending"`
}

type part struct {
	Number int    `json:"number"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
}

// Begin starts an upload. It asks nothing of S3: the multipart upload
// begins with the first full part, which most photos never fill.
func (s *Store) Begin(ctx context.Context, uploadID string, size int64) (tus.State, error) {
	if !media.ValidUploadID(uploadID) {
		return tus.State{}, fmt.Errorf("s3store: invalid upload id %q", uploadID)
	}
	if size < 0 || size > maxParts*partSize {
		return tus.State{}, fmt.Errorf("s3store: upload %s: size %d outside 0..%d", uploadID, size, int64(maxParts*partSize))
	}
	return encode(tus.State{Size: size}, state{Parts: []part{}})
}

// Append spools the incomplete part and then r through one temporary
// file of at most partSize bytes, uploads every full part, and stores the
// rest as the incomplete part. The returned State counts exactly what S3
// holds durably: after a failure, the parts uploaded so far and, if it
// could be saved, the tail.
func (s *Store) Append(ctx context.Context, uploadID string, st tus.State, r io.Reader) (tus.State, error) {
	bs, err := decode(uploadID, st)
	if err != nil {
		return st, err
	}
	spool, err := os.CreateTemp("", "fieldsync-s3store-*")
	if err != nil {
		return st, fmt.Errorf("s3store: upload %s: %w", uploadID, err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()

	// The tail of the last Append comes first; reading it also tells an
	// upload that was aborted. With no tail, ask for the upload itself.
	if bs.Pending > 0 {
		if err := s.readTail(ctx, uploadID, bs, spool); err != nil {
			return st, err
		}
	} else if bs.UploadID != "" {
		if _, err := s.core.ListObjectParts(ctx, s.bucket, dataKey(uploadID), bs.UploadID, 0, 1); err != nil {
			return st, s.uploadErr(uploadID, err)
		}
	}

	kept := st            // the last State that S3 holds in full
	spooled := bs.Pending // bytes in the spool, all of part len(bs.Parts)+1
	src := io.LimitReader(r, st.Size-st.Offset)
	buf := make([]byte, 64<<10)
	var appendErr error
	for {
		n, err := io.CopyBuffer(onlyWriter{spool}, io.LimitReader(src, partSize-spooled), buf)
		spooled += n
		if err != nil {
			appendErr = fmt.Errorf("s3store: upload %s: %w", uploadID, err)
			break
		}
		if spooled < partSize {
			break // src is done
		}
		if bs.UploadID == "" {
			id, err := s.core.NewMultipartUpload(ctx, s.bucket, dataKey(uploadID), minio.PutObjectOptions{})
			if err != nil {
				appendErr = fmt.Errorf("s3store: upload %s: begin multipart upload: %w", uploadID, err)
				break
			}
			// Kept at once: a State that lost the id would leave the
			// multipart upload to Abort's listing.
			bs.UploadID = id
			if kept, err = encode(st, bs); err != nil {
				return kept, err
			}
		}
		number := len(bs.Parts) + 1
		p, err := s.core.PutObjectPart(ctx, s.bucket, dataKey(uploadID), bs.UploadID, number,
			io.NewSectionReader(spool, 0, spooled), spooled, minio.PutObjectPartOptions{})
		if err != nil {
			appendErr = s.uploadErr(uploadID, err)
			break
		}
		bs.Parts = append(bs.Parts, part{Number: number, ETag: p.ETag, Size: spooled})
		bs.Pending, spooled = 0, 0
		if kept, err = encode(st, bs); err != nil {
			return kept, err
		}
		if err := spool.Truncate(0); err != nil {
			return kept, fmt.Errorf("s3store: upload %s: %w", uploadID, err)
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return kept, fmt.Errorf("s3store: upload %s: %w", uploadID, err)
		}
	}
	if appendErr == nil && sum(bs.Parts)+spooled == st.Size && hasMore(r) {
		appendErr = fmt.Errorf("s3store: upload %s: more than its %d bytes", uploadID, st.Size)
	}

	if spooled > bs.Pending {
		// New bytes wait in the spool: they become the incomplete part of
		// part len(bs.Parts)+1. Saved even when ctx has ended, so a cut
		// connection keeps what arrived.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
		_, err := s.core.PutObject(fctx, s.bucket, tailKey(uploadID, len(bs.Parts)+1),
			io.NewSectionReader(spool, 0, spooled), spooled, "", "", minio.PutObjectOptions{})
		cancel()
		if err != nil {
			return kept, errors.Join(appendErr, fmt.Errorf("s3store: upload %s: saving the incomplete part: %w", uploadID, err))
		}
		bs.Pending = spooled
		if kept, err = encode(st, bs); err != nil {
			return kept, err
		}
	}
	return kept, appendErr
}

// Finish publishes the upload as photos/<sha256>. Every write of evidence
// carries If-None-Match: *, so S3 itself refuses to replace an object,
// also when two uploads of one photo finish at once.
//
// An upload that holds no full part is written in one PUT: its incomplete
// part, if any, then last, streamed as last gives them when there is no
// incomplete part. A larger upload has last appended as parts, its
// multipart upload completed at uploads/<id>/data, and that copied to
// its name.
func (s *Store) Finish(ctx context.Context, uploadID string, st tus.State, last io.Reader, sha256 string) error {
	bs, err := decode(uploadID, st)
	if err != nil {
		return err
	}
	if !fieldsync.ValidSHA256(sha256) {
		return fmt.Errorf("s3store: not a lower-case hex SHA-256: %q", sha256)
	}
	if st.Offset < st.Size && last == nil {
		return fmt.Errorf("s3store: upload %s holds %d of %d bytes", uploadID, st.Offset, st.Size)
	}
	final := media.EvidenceKey(sha256)
	if len(bs.Parts) == 0 && st.Size <= maxPut {
		switch err := s.putWhole(ctx, uploadID, st, bs, last, final, sha256); {
		case errors.Is(err, media.ErrExists):
			return s.discard(ctx, uploadID, bs)
		case err != nil:
			return err
		}
		return s.removeUpload(ctx, uploadID, bs)
	}

	if _, err := s.Stat(ctx, final); err == nil {
		return s.discard(ctx, uploadID, bs)
	} else if !errors.Is(err, media.ErrNotFound) {
		return err
	}
	// A Finish retried after the completion below finds it done; appending
	// again to a completed upload would fail.
	if size, err := s.Stat(ctx, dataKey(uploadID)); err != nil || size != st.Size {
		if st.Offset < st.Size {
			if st, err = s.Append(ctx, uploadID, st, last); err != nil {
				return err
			}
			if st.Offset != st.Size {
				return fmt.Errorf("s3store: upload %s holds %d of %d bytes after its last", uploadID, st.Offset, st.Size)
			}
			if bs, err = decode(uploadID, st); err != nil {
				return err
			}
		}
		if err := s.complete(ctx, uploadID, st, bs); err != nil {
			return err
		}
	}
	switch err := s.publish(ctx, dataKey(uploadID), final, st.Size); {
	case errors.Is(err, media.ErrExists):
		return s.discard(ctx, uploadID, bs)
	case err != nil:
		// uploads/<id>/data stays: Finish may be called again, or Abort.
		return fmt.Errorf("s3store: publish upload %s: %w", uploadID, err)
	}
	return s.removeUpload(ctx, uploadID, bs)
}

// putWhole writes the incomplete part and then the rest from last to key
// in one PUT, unless key exists (media.ErrExists).
func (s *Store) putWhole(ctx context.Context, uploadID string, st tus.State, bs state, last io.Reader, key, sha256 string) error {
	rest := st.Size - st.Offset
	var body io.Reader
	if r, ok := last.(*io.SectionReader); ok && bs.Pending == 0 && r.Size() == rest {
		// Already a file's bytes, seekable: minio-go can send it again
		// on a retry without a copy here.
		if at, err := r.Seek(0, io.SeekCurrent); err != nil || at != 0 {
			return fmt.Errorf("s3store: upload %s: the last bytes' reader is not at its start", uploadID)
		}
		body = r
	} else if bs.Pending == 0 {
		// Streamed as it comes: a reader with too few or too many bytes
		// fails the PUT before S3 has them all, so publishes nothing.
		body = &exactly{r: last, left: rest}
	} else {
		spool, err := os.CreateTemp("", "fieldsync-s3store-*")
		if err != nil {
			return fmt.Errorf("s3store: upload %s: %w", uploadID, err)
		}
		defer os.Remove(spool.Name())
		defer spool.Close()
		if bs.Pending > 0 {
			if err := s.readTail(ctx, uploadID, bs, spool); err != nil {
				return err
			}
		}
		if last != nil {
			n, err := io.CopyBuffer(onlyWriter{spool}, io.LimitReader(last, rest), make([]byte, 64<<10))
			switch {
			case err != nil:
				return fmt.Errorf("s3store: upload %s: %w", uploadID, err)
			case n != rest:
				return fmt.Errorf("s3store: upload %s: last held %d of the %d bytes missing", uploadID, n, rest)
			case hasMore(last):
				return fmt.Errorf("s3store: upload %s: more than its %d bytes", uploadID, st.Size)
			}
		}
		body = io.NewSectionReader(spool, 0, st.Size)
	}
	// An unsigned payload, not the chunk by chunk signing minio-go uses
	// over plain HTTP, nor the payload's SHA-256 in the signature: the
	// caller has checked the bytes (media.Service holds back their last
	// until it has), and MinIO checking them again costs a fifth of a
	// PUT's time (BENCHMARKS.md).
	once := minio.PutObjectOptions{DisableContentSha256: true}
	once.SetMatchETagExcept("*") // If-None-Match: *
	_, err := s.core.PutObject(ctx, s.bucket, key, body, st.Size, "", "", once)
	if err = existsErr(err); err != nil && !errors.Is(err, media.ErrExists) {
		return fmt.Errorf("s3store: publish upload %s: %w", uploadID, err)
	}
	return err
}

// complete makes uploads/<id>/data whole: the incomplete part becomes the
// last part (copied within S3), then the multipart upload is completed.
// A Finish retried after the completion finds the object there.
func (s *Store) complete(ctx context.Context, uploadID string, st tus.State, bs state) error {
	parts := make([]minio.CompletePart, 0, len(bs.Parts)+1)
	for _, p := range bs.Parts {
		parts = append(parts, minio.CompletePart{PartNumber: p.Number, ETag: p.ETag})
	}
	number := len(bs.Parts) + 1
	var err error
	switch {
	case bs.Pending > 0:
		var p minio.CompletePart
		p, err = s.core.CopyObjectPart(ctx, s.bucket, tailKey(uploadID, number), s.bucket, dataKey(uploadID),
			bs.UploadID, number, 0, bs.Pending, nil)
		parts = append(parts, p)
	case len(bs.Parts) == 0: // an empty upload still needs one part
		var p minio.ObjectPart
		p, err = s.core.PutObjectPart(ctx, s.bucket, dataKey(uploadID), bs.UploadID, number,
			bytes.NewReader(nil), 0, minio.PutObjectPartOptions{})
		parts = append(parts, minio.CompletePart{PartNumber: number, ETag: p.ETag})
	}
	if err == nil {
		_, err = s.core.CompleteMultipartUpload(ctx, s.bucket, dataKey(uploadID), bs.UploadID, parts, minio.PutObjectOptions{})
	}
	if err == nil {
		return nil
	}
	// Gone: completed by an earlier Finish, or aborted.
	if code := errorCode(err); code == "NoSuchUpload" || code == "NoSuchKey" {
		size, serr := s.Stat(ctx, dataKey(uploadID))
		if serr == nil && size == st.Size {
			return nil
		}
		return fmt.Errorf("s3store: upload %s: %w", uploadID, media.ErrNotFound)
	}
	return fmt.Errorf("s3store: upload %s: %w", uploadID, err)
}

// publish copies src to dst unless dst exists (media.ErrExists).
func (s *Store) publish(ctx context.Context, src, dst string, size int64) error {
	var once minio.PutObjectOptions
	once.SetMatchETagExcept("*") // If-None-Match: *
	if size == 0 {
		_, err := s.core.PutObject(ctx, s.bucket, dst, bytes.NewReader(nil), 0, "", "", once)
		return existsErr(err)
	}
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, dst, minio.PutObjectOptions{})
	if err != nil {
		return err
	}
	var parts []minio.CompletePart
	for off := int64(0); off < size && err == nil; off += maxCopyPart {
		var p minio.CompletePart
		p, err = s.core.CopyObjectPart(ctx, s.bucket, src, s.bucket, dst, id, len(parts)+1, off, min(maxCopyPart, size-off), nil)
		parts = append(parts, p)
	}
	if err == nil {
		_, err = s.core.CompleteMultipartUpload(ctx, s.bucket, dst, id, parts, once)
	}
	if err != nil {
		if aerr := s.core.AbortMultipartUpload(context.WithoutCancel(ctx), s.bucket, dst, id); aerr != nil && errorCode(aerr) != "NoSuchUpload" {
			err = errors.Join(err, aerr)
		}
	}
	return existsErr(err)
}

// discard drops an upload whose object exists and reports media.ErrExists.
func (s *Store) discard(ctx context.Context, uploadID string, bs state) error {
	if err := s.abort(ctx, uploadID, bs); err != nil && !errors.Is(err, media.ErrNotFound) {
		return err
	}
	return media.ErrExists
}

// Abort removes every trace of the upload: its multipart uploads and the
// objects under uploads/<id>/. It returns media.ErrNotFound if st says it
// stored bytes and nothing was there.
func (s *Store) Abort(ctx context.Context, uploadID string, st tus.State) error {
	bs, err := decode(uploadID, st)
	if err != nil {
		return err
	}
	return s.abort(ctx, uploadID, bs)
}

func (s *Store) abort(ctx context.Context, uploadID string, bs state) error {
	n, err := s.clear(ctx, uploadID)
	if err != nil {
		return fmt.Errorf("s3store: abort upload %s: %w", uploadID, err)
	}
	if n == 0 && (bs.UploadID != "" || bs.Pending > 0) {
		return fmt.Errorf("s3store: upload %s: %w", uploadID, media.ErrNotFound)
	}
	return nil
}

// removeUpload clears what a finished upload leaves. An upload that stored
// nothing before its last bytes left nothing, and costs no request.
func (s *Store) removeUpload(ctx context.Context, uploadID string, bs state) error {
	if bs.UploadID == "" && bs.Pending == 0 {
		return nil
	}
	if _, err := s.clear(ctx, uploadID); err != nil {
		return fmt.Errorf("s3store: upload %s: %w", uploadID, err)
	}
	return nil
}

// clear aborts every multipart upload of uploads/<id>/data, also one whose
// id a lost State forgot, and removes the objects under uploads/<id>/. It
// says how many it found.
func (s *Store) clear(ctx context.Context, uploadID string) (int, error) {
	n := 0
	for marker, idMarker := "", ""; ; {
		res, err := s.core.ListMultipartUploads(ctx, s.bucket, dataKey(uploadID), marker, idMarker, "", 1000)
		if err != nil {
			return n, err
		}
		for _, u := range res.Uploads {
			if u.Key != dataKey(uploadID) {
				continue
			}
			if err := s.core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID); err != nil && errorCode(err) != "NoSuchUpload" {
				return n, err
			}
			n++
		}
		if !res.IsTruncated {
			break
		}
		marker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
	m, err := s.removePrefix(ctx, uploadPrefix(uploadID))
	return n + m, err
}

// removePrefix removes every object under prefix and says how many.
func (s *Store) removePrefix(ctx context.Context, prefix string) (int, error) {
	n := 0
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return n, obj.Err
		}
		if err := s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Stat returns the size of the object key.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if err := media.ValidKey(key); err != nil {
		return 0, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, objectErr(key, err)
	}
	return info.Size, nil
}

// Open reads length bytes of the object key from offset with a ranged
// GET (length < 0: to the end; past the end: what there is). An offset
// past the end is an error.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := media.ValidKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("s3store: open %s: negative offset %d", key, offset)
	}
	if length == 0 {
		return s.openEmpty(ctx, key, offset)
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0:
		err := opts.SetRange(offset, offset+length-1)
		if err != nil {
			return nil, fmt.Errorf("s3store: open %s: %w", key, err)
		}
	case offset > 0:
		if err := opts.SetRange(offset, 0); err != nil {
			return nil, fmt.Errorf("s3store: open %s: %w", key, err)
		}
	}
	body, _, _, err := s.core.GetObject(ctx, s.bucket, key, opts)
	if errorCode(err) == "InvalidRange" {
		// S3 refuses a range that starts at the end; the local store and
		// io.SectionReader give an empty read there.
		return s.openEmpty(ctx, key, offset)
	}
	if err != nil {
		return nil, objectErr(key, err)
	}
	return body, nil
}

func (s *Store) openEmpty(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	size, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset > size {
		return nil, fmt.Errorf("s3store: open %s: offset %d past its %d bytes", key, offset, size)
	}
	return io.NopCloser(strings.NewReader("")), nil
}

// Put stores a derived object in one PUT, replacing it; S3 writes an
// object whole or not at all. Evidence (media.EvidenceKey) is never
// written this way.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := media.ValidKey(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, media.EvidenceKey("")) {
		return fmt.Errorf("s3store: put %s: evidence is only stored by Finish", key)
	}
	// minio-go retries a seekable body ten times with backoff, also when it
	// has the wrong length; refuse that at once.
	if sk, ok := r.(io.Seeker); ok {
		if n, err := remaining(sk); err == nil && n != size {
			return fmt.Errorf("s3store: put %s: the reader holds %d bytes, not %d", key, n, size)
		}
	}
	// DisableMultipart keeps minio-go from buffering parts in memory; a
	// derived object is far below the 5 GiB of one PUT.
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{DisableMultipart: true})
	if err != nil {
		return fmt.Errorf("s3store: put %s: %w", key, err)
	}
	return nil
}

// remaining is how many bytes a seekable reader holds from where it is.
func remaining(sk io.Seeker) (int64, error) {
	at, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	_, err = sk.Seek(at, io.SeekStart)
	return end - at, err
}

// readTail copies the first bs.Pending bytes of the incomplete part into
// spool. The object may hold more, written by an Append whose State was
// never saved; those bytes are not the upload's yet.
func (s *Store) readTail(ctx context.Context, uploadID string, bs state, spool *os.File) error {
	var opts minio.GetObjectOptions
	if err := opts.SetRange(0, bs.Pending-1); err != nil {
		return fmt.Errorf("s3store: upload %s: %w", uploadID, err)
	}
	body, _, _, err := s.core.GetObject(ctx, s.bucket, tailKey(uploadID, len(bs.Parts)+1), opts)
	if errorCode(err) == "NoSuchKey" {
		return fmt.Errorf("s3store: upload %s: incomplete part: %w", uploadID, media.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("s3store: upload %s: incomplete part: %w", uploadID, err)
	}
	defer body.Close()
	n, err := io.Copy(onlyWriter{spool}, body)
	if err == nil && n != bs.Pending {
		err = fmt.Errorf("%d bytes, its state says %d", n, bs.Pending)
	}
	if err != nil {
		return fmt.Errorf("s3store: upload %s: incomplete part: %w", uploadID, err)
	}
	return nil
}

// uploadErr maps a vanished multipart upload to media.ErrNotFound.
func (s *Store) uploadErr(uploadID string, err error) error {
	if errorCode(err) == "NoSuchUpload" {
		return fmt.Errorf("s3store: upload %s: %w", uploadID, media.ErrNotFound)
	}
	return fmt.Errorf("s3store: upload %s: %w", uploadID, err)
}

func decode(uploadID string, st tus.State) (state, error) {
	var bs state
	if !media.ValidUploadID(uploadID) {
		return bs, fmt.Errorf("s3store: invalid upload id %q", uploadID)
	}
	if err := json.Unmarshal(st.Backend, &bs); err != nil {
		return bs, fmt.Errorf("s3store: upload %s: state: %w", uploadID, err)
	}
	ok := (bs.UploadID != "" || len(bs.Parts) == 0) && bs.Pending >= 0 && bs.Pending <= partSize && st.Offset <= st.Size
	for i, p := range bs.Parts {
		ok = ok && p.Number == i+1 && p.ETag != "" && p.Size >= partSize
	}
	if !ok || sum(bs.Parts)+bs.Pending != st.Offset {
		return bs, fmt.Errorf("s3store: upload %s: inconsistent state (offset %d, size %d, %s)", uploadID, st.Offset, st.Size, st.Backend)
	}
	return bs, nil
}

func encode(st tus.State, bs state) (tus.State, error) {
	b, err := json.Marshal(bs)
	if err != nil {
		return st, fmt.Errorf("s3store: state: %w", err)
	}
	st.Offset = sum(bs.Parts) + bs.Pending
	st.Backend = b
	return st, nil
}

func sum(parts []part) int64 {
	var n int64
	for _, p := range parts {
		n += p.Size
	}
	return n
}

func dataKey(uploadID string) string      { return uploadPrefix(uploadID) + "data" }
func uploadPrefix(uploadID string) string { return "uploads/" + uploadID + "/" }
func tailKey(uploadID string, number int) string {
	return fmt.Sprintf("%s%d.part", uploadPrefix(uploadID), number)
}

// errorCode is the S3 error code of err, which may be wrapped.
func errorCode(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

func objectErr(key string, err error) error {
	if code := errorCode(err); code == "NoSuchKey" || code == "NotFound" {
		return fmt.Errorf("s3store: %s: %w", key, media.ErrNotFound)
	}
	return fmt.Errorf("s3store: %s: %w", key, err)
}

func existsErr(err error) error {
	if errorCode(err) == "PreconditionFailed" {
		return media.ErrExists
	}
	return err
}

// hasMore reports whether r holds another byte; it is asked only after
// the upload's last byte, so the byte read is one too many anyway.
func hasMore(r io.Reader) bool {
	var one [1]byte
	n, _ := io.ReadFull(r, one[:])
	return n > 0
}

// exactly reads left bytes of r, failing instead of returning the last of
// them if r holds more, and with io.ErrUnexpectedEOF if it holds fewer.
type exactly struct {
	r    io.Reader
	left int64
}

func (e *exactly) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case e.left == 0 && err == nil && hasMore(e.r):
		return 0, errors.New("s3store: more bytes than the upload lacks")
	case e.left > 0 && err == io.EOF:
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// onlyWriter hides *os.File's ReadFrom, so io.CopyBuffer uses the bounded
// buffer it is given.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
