package testenv_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/fieldsync/fieldsync/internal/testenv"
)

func TestMinIORoundTrip(t *testing.T) {
	srv := testenv.MinIO(t)
	c := srv.Client(t)
	ctx := t.Context()

	const bucket, key = "fieldsync-test", "reports/visit-1.pdf"
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}

	want := []byte("a visit report, or at least its bytes")
	_, err := c.PutObject(ctx, bucket, key, bytes.NewReader(want), int64(len(want)),
		minio.PutObjectOptions{ContentType: "application/pdf"})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	got := getObject(ctx, t, c, bucket, key)
	if !bytes.Equal(got, want) {
		t.Errorf("GetObject = %q, want %q", got, want)
	}

	info, err := c.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("StatObject: %v", err)
	}
	if info.Size != int64(len(want)) {
		t.Errorf("StatObject size = %d, want %d", info.Size, len(want))
	}
}

func getObject(ctx context.Context, t *testing.T, c *minio.Client, bucket, key string) []byte {
	t.Helper()
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("reading object: %v", err)
	}
	return b
}
