package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
)

// NoiseJPEG encodes a w×h picture of noise drawn from seed at quality 90.
// Noise does not compress, about 0.9 bytes a pixel, so the dimensions set
// the file's size; the same arguments give the same bytes.
func NoiseJPEG(w, h int, seed int64) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rand.New(rand.NewSource(seed)).Read(img.Pix)
	var buf bytes.Buffer
	// Encoding into memory fails only on sizes no JPEG can hold.
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// NoiseJPEGs makes n noise JPEGs on every core, the i-th of dims(i)
// pixels with seed+i: a photo-sized one takes about a second to encode.
func NoiseJPEGs(n int, seed int64, dims func(i int) (w, h int)) [][]byte {
	out := make([][]byte, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				w, h := dims(i)
				out[i] = NoiseJPEG(w, h, seed+int64(i))
			}
		})
	}
	wg.Wait()
	return out
}

// Photo is a photo's bytes and the hex SHA-256 a device declares for them.
type Photo struct {
	Data   []byte
	SHA256 string
}

var freshSeq atomic.Int64

// FreshPhotos copies bases with a JPEG comment segment (COM) after the SOI
// marker that no copy made in this process had: the same pixels, but new
// bytes and so a new SHA-256, so that a server deduplicates none of them.
func FreshPhotos(bases [][]byte) []Photo {
	out := make([]Photo, len(bases))
	for i, base := range bases {
		com := fmt.Appendf(nil, "fieldsync test copy %d", freshSeq.Add(1))
		data := make([]byte, 0, len(base)+4+len(com))
		data = append(data, base[:2]...)
		data = append(data, 0xFF, 0xFE, byte((len(com)+2)>>8), byte(len(com)+2))
		data = append(data, com...)
		data = append(data, base[2:]...)
		sum := sha256.Sum256(data)
		out[i] = Photo{Data: data, SHA256: hex.EncodeToString(sum[:])}
	}
	return out
}
