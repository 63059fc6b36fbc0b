package s3store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/blobtest"
	"github.com/fieldsync/fieldsync/media/s3store"
)

// TestStore runs every S3 check against one MinIO server (starting one
// costs more than the checks), with a new bucket for each backend.
func TestStore(t *testing.T) {
	srv := testenv.MinIO(t)
	client := srv.Client(t)
	var buckets atomic.Int64
	t.Run("contract", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blobtest.Backend {
			cfg := config(srv, fmt.Sprintf("fieldsync-%d", buckets.Add(1)))
			return blobtest.Backend{
				Open: func(t *testing.T) media.BlobStore { return open(t, cfg) },
				Leftovers: func(t *testing.T) []string {
					return leftovers(t, client, cfg.Bucket)
				},
				ReadRaw: func(t *testing.T, key string) io.ReadCloser {
					obj, err := client.GetObject(t.Context(), cfg.Bucket, key, minio.GetObjectOptions{})
					if err != nil {
						t.Fatalf("GetObject(%s): %v", key, err)
					}
					return obj
				},
			}
		})
	})
	t.Run("multipart layout", func(t *testing.T) { testMultipartLayout(t, srv) })
	t.Run("New creates the bucket once", func(t *testing.T) { testNewCreatesBucket(t, srv) })
	t.Run("a photo under a part is one PUT", func(t *testing.T) { testOnePut(t, srv) })
	t.Run("abort finds a multipart upload a lost state forgot", func(t *testing.T) { testAbortForgotten(t, srv) })
}

// testOnePut checks from the outside that a photo under one part never
// begins a multipart upload: Begin asks nothing of S3, and Finish given
// the whole photo leaves only the photo.
func testOnePut(t *testing.T, srv *testenv.MinIOServer) {
	client := srv.Client(t)
	cfg := config(srv, "one-put")
	ctx := t.Context()
	s := open(t, cfg)
	data := bytes.Repeat([]byte("photo bytes "), (4<<20)/12)
	st, err := s.Begin(ctx, "u1", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, client, cfg.Bucket); len(left) > 0 {
		t.Fatalf("after Begin: %q, want nothing in S3", left)
	}
	sha := sha(data)
	if err := s.Finish(ctx, "u1", st, io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))), sha); err != nil {
		t.Fatal(err)
	}
	if got := objects(t, client, cfg.Bucket, ""); len(got) != 1 || got[0] != media.EvidenceKey(sha) {
		t.Errorf("objects after Finish: %q, want only %s", got, media.EvidenceKey(sha))
	}
	if left := leftovers(t, client, cfg.Bucket); len(left) > 0 {
		t.Errorf("left after Finish: %q", left)
	}
}

// testAbortForgotten replays a crash after an Append began the multipart
// upload but before its State was saved: Abort with the State from
// before still finds and removes it.
func testAbortForgotten(t *testing.T, srv *testenv.MinIOServer) {
	client := srv.Client(t)
	cfg := config(srv, "abort-forgotten")
	ctx := t.Context()
	s := open(t, cfg)
	data := bytes.Repeat([]byte("x"), 6<<20)
	saved, err := s.Begin(ctx, "u1", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "u1", saved, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, client, cfg.Bucket); len(left) != 2 {
		t.Fatalf("after an Append of 6 MiB: %q, want a multipart upload and an incomplete part", left)
	}
	if err := s.Abort(ctx, "u1", saved); err != nil {
		t.Fatalf("Abort with the State saved before: %v", err)
	}
	if left := leftovers(t, client, cfg.Bucket); len(left) > 0 {
		t.Errorf("left after Abort: %q", left)
	}
}

func sha(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// testMultipartLayout checks from the outside, with plain minio-go, that
// an upload lives in S3 as the package doc says and its State as
// documented: full parts in a multipart upload, the rest as the
// incomplete part, nothing else.
func testMultipartLayout(t *testing.T, srv *testenv.MinIOServer) {
	client := srv.Client(t)
	core := minio.Core{Client: client}
	cfg := config(srv, "layout")
	ctx := t.Context()
	s := open(t, cfg)

	data := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16) // 12 MiB
	st, err := s.Begin(ctx, "u1", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if st, err = s.Append(ctx, "u1", st, bytes.NewReader(data[:11<<20])); err != nil {
		t.Fatal(err)
	}

	var bs struct {
		UploadID string `json:"upload_id"`
		Parts    []struct {
			Number int    `json:"number"`
			ETag   string `json:"etag"`
			Size   int64  `json:"size"`
		} `json:"parts"`
		Pending int64 `json:"pending"`
	}
	if err := json.Unmarshal(st.Backend, &bs); err != nil {
		t.Fatalf("State.Backend %s: %v", st.Backend, err)
	}
	if len(bs.Parts) != 2 || bs.Pending != 1<<20 || st.Offset != 11<<20 {
		t.Fatalf("after 11 MiB: %d parts, %d pending, offset %d; want 2 parts of 5 MiB and 1 MiB pending (%s)",
			len(bs.Parts), bs.Pending, st.Offset, st.Backend)
	}

	parts, err := core.ListObjectParts(ctx, cfg.Bucket, "uploads/u1/data", bs.UploadID, 0, 100)
	if err != nil {
		t.Fatalf("ListObjectParts: %v", err)
	}
	if len(parts.ObjectParts) != 2 {
		t.Fatalf("S3 holds %d parts, want 2", len(parts.ObjectParts))
	}
	for i, p := range parts.ObjectParts {
		if p.PartNumber != bs.Parts[i].Number || p.Size != 5<<20 || strings.Trim(p.ETag, `"`) != bs.Parts[i].ETag {
			t.Errorf("part %d in S3: number %d, size %d, etag %s; state says %+v", i, p.PartNumber, p.Size, p.ETag, bs.Parts[i])
		}
	}
	info, err := client.StatObject(ctx, cfg.Bucket, "uploads/u1/3.part", minio.StatObjectOptions{})
	if err != nil || info.Size != 1<<20 {
		t.Fatalf("incomplete part: size %d, %v; want 1 MiB", info.Size, err)
	}
	if got := objects(t, client, cfg.Bucket, ""); len(got) != 1 {
		t.Errorf("objects during the upload: %q, want only the incomplete part", got)
	}

	if st, err = s.Append(ctx, "u1", st, bytes.NewReader(data[11<<20:])); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	sha := hex.EncodeToString(h[:])
	if err := s.Finish(ctx, "u1", st, nil, sha); err != nil {
		t.Fatal(err)
	}
	if got := objects(t, client, cfg.Bucket, ""); len(got) != 1 || got[0] != media.EvidenceKey(sha) {
		t.Errorf("objects after Finish: %q, want only %s", got, media.EvidenceKey(sha))
	}
	if left := leftovers(t, client, cfg.Bucket); len(left) > 0 {
		t.Errorf("left after Finish: %q", left)
	}
}

func testNewCreatesBucket(t *testing.T, srv *testenv.MinIOServer) {
	cfg := config(srv, "made-by-new")
	open(t, cfg)
	open(t, cfg) // an existing bucket is fine
	ok, err := srv.Client(t).BucketExists(t.Context(), cfg.Bucket)
	if err != nil || !ok {
		t.Fatalf("BucketExists = %v, %v", ok, err)
	}
}

func config(srv *testenv.MinIOServer, bucket string) s3store.Config {
	return s3store.Config{Endpoint: srv.Endpoint, Bucket: bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Insecure: true}
}

func open(t *testing.T, cfg s3store.Config) *s3store.Store {
	t.Helper()
	s, err := s3store.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// leftovers lists incomplete multipart uploads anywhere in the bucket and
// objects under uploads/.
func leftovers(t *testing.T, client *minio.Client, bucket string) []string {
	t.Helper()
	var left []string
	for u := range client.ListIncompleteUploads(t.Context(), bucket, "", true) {
		if u.Err != nil {
			t.Fatalf("ListIncompleteUploads: %v", u.Err)
		}
		left = append(left, "multipart upload "+u.Key)
	}
	return append(left, objects(t, client, bucket, "uploads/")...)
}

func objects(t *testing.T, client *minio.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	for obj := range client.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("ListObjects: %v", obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}
