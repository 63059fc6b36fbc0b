package testenv_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image/jpeg"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testenv"
)

func TestNoiseJPEGsAreSizedBySeedAndDimensions(t *testing.T) {
	dims := func(i int) (int, int) { return 64 + 16*i, 48 }
	got := testenv.NoiseJPEGs(3, 7, dims)
	for i, data := range got {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("photo %d does not decode: %v", i, err)
		}
		if w, h := dims(i); cfg.Width != w || cfg.Height != h {
			t.Errorf("photo %d is %d×%d, want %d×%d", i, cfg.Width, cfg.Height, w, h)
		}
		if w, h := dims(i); !bytes.Equal(data, testenv.NoiseJPEG(w, h, 7+int64(i))) {
			t.Errorf("photo %d is not NoiseJPEG with seed %d", i, 7+i)
		}
	}
}

func TestFreshPhotosAreNewBytesOfTheSamePicture(t *testing.T) {
	base := testenv.NoiseJPEG(32, 32, 1)
	seen := map[string]bool{}
	for range 2 {
		for _, p := range testenv.FreshPhotos([][]byte{base, base}) {
			if sum := sha256.Sum256(p.Data); hex.EncodeToString(sum[:]) != p.SHA256 {
				t.Fatalf("SHA256 %s is not the data's", p.SHA256)
			}
			if seen[p.SHA256] || bytes.Equal(p.Data, base) {
				t.Fatalf("a fresh photo repeats bytes seen before")
			}
			seen[p.SHA256] = true
			if cfg, err := jpeg.DecodeConfig(bytes.NewReader(p.Data)); err != nil || cfg.Width != 32 {
				t.Fatalf("a fresh copy is not the same JPEG: %+v %v", cfg, err)
			}
			if _, err := jpeg.Decode(bytes.NewReader(p.Data)); err != nil {
				t.Fatalf("a fresh copy does not decode: %v", err)
			}
		}
	}
}

func TestBufferIsReadWhileWritten(t *testing.T) {
	var b testenv.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			b.Write([]byte("x"))
		}
	}()
	for range 100 {
		_ = b.String() // the race detector watches this
	}
	<-done
	if got := b.String(); len(got) != 100 {
		t.Fatalf("Buffer holds %d bytes, want 100", len(got))
	}
}
