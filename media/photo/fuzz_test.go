package photo

import (
	"bytes"
	"testing"
)

// FuzzInspect feeds arbitrary bytes, as an upload may be, to Sniff and
// Inspect: neither may panic, and Inspect may not allocate more than its
// fixed bounds (the meta box of a HEIC, an EXIF block, the decoders'
// header buffers) whatever lengths the bytes claim.
func FuzzInspect(f *testing.F) {
	tiff := buildTIFF(shanghai)
	for _, seed := range [][]byte{
		withAPP1(jpegOf(f, 16, 16), tiff),
		withPNGChunk(pngOf(f, 16, 16), "eXIf", tiff),
		heicFile(4032, 3024, tiff),
		readTestdata(f, "tiny.webp"),
		readTestdata(f, "exif.webp"),
		readTestdata(f, "exif.heic"),
		readTestdata(f, "exif.jpg"),
		jpegBomb(f),
		pngBomb(f),
		webpBomb(f),
		tiff,
		nil,
	} {
		f.Add(seed)
	}
	const maxAlloc = 4 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		Sniff(b)
		var (
			info Info
			err  error
		)
		if n := allocated(func() { info, err = Inspect(bytes.NewReader(b), int64(len(b))) }); n > maxAlloc+uint64(len(b)) {
			t.Fatalf("Inspect of %d bytes allocated %d", len(b), n)
		}
		if err != nil {
			return
		}
		if info.Width < 0 || info.Height < 0 || int64(info.Width)*int64(info.Height) > MaxPixels {
			t.Fatalf("Inspect accepted %d×%d", info.Width, info.Height)
		}
		if info.Orientation < 0 || info.Orientation > 8 {
			t.Fatalf("Orientation %d", info.Orientation)
		}
		if g := info.GPS; g != nil && (g.Lat < -90 || g.Lat > 90 || g.Lng < -180 || g.Lng > 180) {
			t.Fatalf("GPS %+v out of range", *g)
		}
	})
}
