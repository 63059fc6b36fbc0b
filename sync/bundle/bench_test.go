package bundle_test

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/bundle/bundletest"
)

// BenchmarkVerify measures what `fieldsync verify` does with a bundle of
// 20 photos of 4 MB (read the ZIP from disk, check everything) against
// the reference of `sha256sum` hashing the same 20 files, in the same
// run. The photos are random bytes: Verify hashes them and never decodes
// them, and random bytes are stored in the ZIP as a JPEG is.
//
//	go test -run '^$' -bench Verify -benchtime 10x ./sync/bundle
func BenchmarkVerify(b *testing.B) {
	const n, size = 20, 4 << 20
	rnd := rand.New(rand.NewSource(1))
	photos := make([][]byte, n)
	dir := b.TempDir()
	var files []string
	for i := range photos {
		photos[i] = make([]byte, size)
		rnd.Read(photos[i])
		f := filepath.Join(dir, fmt.Sprintf("photo-%02d.jpg", i))
		if err := os.WriteFile(f, photos[i], 0o600); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	srv := bundletest.NewServer(b)
	sd := srv.Seal(b, bundletest.Options{Photos: photos})
	path := filepath.Join(dir, "bundle.zip")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := bundle.Write(out, sd.Bundle); err != nil {
		b.Fatal(err)
	}
	out.Close()
	jwks := bundletest.JWKS(b, srv.Key)

	b.Run("bundle", func(b *testing.B) {
		b.SetBytes(n * size)
		for b.Loop() {
			bd, err := bundle.ReadFile(path, bundle.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			if res := bundle.Verify(bd, jwks, nil); !res.OK() {
				b.Fatal(res.Failures())
			}
		}
	})
	b.Run("sha256sum", func(b *testing.B) {
		bin, err := exec.LookPath("sha256sum")
		if err != nil {
			b.Skip("sha256sum is not installed")
		}
		b.SetBytes(n * size)
		for b.Loop() {
			if out, err := exec.Command(bin, files...).CombinedOutput(); err != nil {
				b.Fatalf("sha256sum: %v %s", err, out)
			}
		}
	})
}
