package photo

import "testing"

// FuzzParseExif feeds the EXIF reader TIFF blocks as a photo may carry
// them: whatever their offsets and counts claim, it reads within the
// block, never panics, and what it finds is within range.
func FuzzParseExif(f *testing.F) {
	f.Add(buildTIFF(shanghai))
	f.Add([]byte("II*\x00\x08\x00\x00\x00"))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		x := parseExif(b)
		if g := x.gps; g != nil && (g.Lat < -90 || g.Lat > 90 || g.Lng < -180 || g.Lng > 180 || g.Lat != g.Lat || g.Lng != g.Lng) {
			t.Fatalf("parseExif(%x) gives a position out of range: %+v", b, *g)
		}
		if x.orientation < 0 || x.orientation > 8 {
			t.Fatalf("parseExif(%x) gives orientation %d", b, x.orientation)
		}
	})
}
