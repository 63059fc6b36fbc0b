package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
)

// Builders of the fixtures: pictures from the standard encoders, and the
// EXIF and HEIF structures written byte by byte, as the specifications
// lay them out, so that each test shows what it feeds in.

// quadrants is a w×h picture whose four quarters are red (top left),
// green (top right), blue (bottom left) and white (bottom right): every
// turn and mirror of it looks different.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 0, 0, 255}
			switch {
			case x >= w/2 && y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2 && y >= h/2:
				c = color.RGBA{0, 0, 255, 255}
			case x >= w/2 && y >= h/2:
				c = color.RGBA{255, 255, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t testing.TB, w, h int) []byte { return encodeJPEG(t, quadrants(w, h)) }
func pngOf(t testing.TB, w, h int) []byte  { return encodePNG(t, quadrants(w, h)) }

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exifSpec is what a test puts in EXIF; zero fields are left out.
type exifSpec struct {
	order               binary.ByteOrder // default little-endian ("II")
	orientation         uint16
	dateTime, offset    string
	latRef, lngRef      string
	lat, lng            [3][2]uint32 // degrees, minutes, seconds as num/den
	hasLat, hasLng      bool
	exifIFDAt, gpsIFDAt uint32 // when set, the pointers say this instead
}

// tiffEntry is an IFD entry to write: its value bytes go inline when they
// fit in four, else into the data area after the IFDs.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// buildTIFF writes the TIFF structure of EXIF: the header, IFD0 (with the
// Exif and GPS IFD pointers when those have entries), the Exif IFD, the
// GPS IFD, then every value longer than four bytes.
func buildTIFF(s exifSpec) []byte {
	bo := s.order
	if bo == nil {
		bo = binary.LittleEndian
	}
	u16 := func(v uint16) []byte { b := make([]byte, 2); bo.PutUint16(b, v); return b }
	u32 := func(v uint32) []byte { b := make([]byte, 4); bo.PutUint32(b, v); return b }
	ascii := func(tag uint16, v string) tiffEntry {
		return tiffEntry{tag, typeASCII, uint32(len(v) + 1), append([]byte(v), 0)}
	}
	rationals := func(tag uint16, r [3][2]uint32) tiffEntry {
		var d []byte
		for _, x := range r {
			d = append(append(d, u32(x[0])...), u32(x[1])...)
		}
		return tiffEntry{tag, typeRational, 3, d}
	}

	var exif, gps []tiffEntry
	if s.dateTime != "" {
		exif = append(exif, ascii(tagDateTimeOriginal, s.dateTime))
	}
	if s.offset != "" {
		exif = append(exif, ascii(tagOffsetTimeOriginal, s.offset))
	}
	if s.latRef != "" {
		gps = append(gps, ascii(tagGPSLatitudeRef, s.latRef))
	}
	if s.hasLat {
		gps = append(gps, rationals(tagGPSLatitude, s.lat))
	}
	if s.lngRef != "" {
		gps = append(gps, ascii(tagGPSLongitudeRef, s.lngRef))
	}
	if s.hasLng {
		gps = append(gps, rationals(tagGPSLongitude, s.lng))
	}

	ifdLen := func(n int) uint32 { return uint32(2 + 12*n + 4) }
	var ifd0 []tiffEntry
	if s.orientation != 0 {
		ifd0 = append(ifd0, tiffEntry{tagOrientation, typeShort, 1, u16(s.orientation)})
	}
	n0 := len(ifd0)
	if len(exif) > 0 {
		n0++
	}
	if len(gps) > 0 {
		n0++
	}
	exifAt := 8 + ifdLen(n0)
	gpsAt := exifAt + ifdLen(len(exif))
	dataAt := gpsAt + ifdLen(len(gps))
	if len(exif) > 0 {
		if s.exifIFDAt != 0 {
			exifAt = s.exifIFDAt
		}
		ifd0 = append(ifd0, tiffEntry{tagExifIFD, typeLong, 1, u32(exifAt)})
	}
	if len(gps) > 0 {
		if s.gpsIFDAt != 0 {
			gpsAt = s.gpsIFDAt
		}
		ifd0 = append(ifd0, tiffEntry{tagGPSIFD, typeLong, 1, u32(gpsAt)})
	}

	var out, data []byte
	if bo == binary.ByteOrder(binary.BigEndian) {
		out = []byte("MM")
	} else {
		out = []byte("II")
	}
	out = append(append(out, u16(42)...), u32(8)...)
	writeIFD := func(es []tiffEntry) {
		out = append(out, u16(uint16(len(es)))...)
		for _, e := range es {
			out = append(append(append(out, u16(e.tag)...), u16(e.typ)...), u32(e.count)...)
			if len(e.data) <= 4 {
				out = append(out, append(e.data, make([]byte, 4-len(e.data))...)...)
			} else {
				out = append(out, u32(dataAt+uint32(len(data)))...)
				data = append(data, e.data...)
			}
		}
		out = append(out, u32(0)...) // no next IFD
	}
	writeIFD(ifd0)
	writeIFD(exif)
	writeIFD(gps)
	return append(out, data...)
}

// withAPP1 puts tiff as an APP1 Exif segment right after the SOI of jpg.
func withAPP1(jpg, tiff []byte) []byte {
	return withSegment(jpg, 0xE1, append(append([]byte{}, exifHeader...), tiff...))
}

// withSegment puts a marker segment right after the SOI of jpg.
func withSegment(jpg []byte, marker byte, payload []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	seg = append(seg, payload...)
	return append(append(append([]byte{}, jpg[:2]...), seg...), jpg[2:]...)
}

// pngChunk is a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(append(c, typ...), data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// withPNGChunk puts a chunk right after the IHDR of p.
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	const afterIHDR = 8 + 8 + 13 + 4
	return append(append(append([]byte{}, p[:afterIHDR]...), pngChunk(typ, data)...), p[afterIHDR:]...)
}

// box and fullBox write ISO BMFF boxes.
func box(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

func fullBoxBytes(typ string, version byte, flags uint32, payload ...[]byte) []byte {
	vf := binary.BigEndian.AppendUint32(nil, uint32(version)<<24|flags)
	return box(typ, append([][]byte{vf}, payload...)...)
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// heicFile is a minimal HEIC: ftyp; meta with hdlr, pitm (item 1), iinf
// (item 1 hvc1, item 2 Exif when exif is given), iloc (item 2 in mdat),
// iprp with a 512×512 tile-sized ispe and the primary's w×h ispe, and
// ipma giving item 1 the second; then mdat with the Exif item: a 4-byte
// offset, "Exif\0\0", the TIFF bytes. No coded picture: Inspect never
// looks at one.
func heicFile(w, h uint32, exif []byte) []byte {
	ftyp := box("ftyp", []byte("heic"), be32(0), []byte("mif1heic"))
	var payload []byte
	if exif != nil {
		payload = append(append(be32(uint32(len(exifHeader))), exifHeader...), exif...)
	}
	meta := func(exifAt uint32) []byte {
		infes := [][]byte{be16(1), fullBoxBytes("infe", 2, 0, be16(1), be16(0), []byte("hvc1"), []byte{0})}
		var ilocItems [][]byte
		count := uint16(0)
		if exif != nil {
			infes[0] = be16(2)
			infes = append(infes, fullBoxBytes("infe", 2, 0, be16(2), be16(0), []byte("Exif"), []byte{0}))
			// iloc v0: offset 4 bytes, length 4 bytes, no base offset.
			ilocItems = append(ilocItems, be16(2), be16(0), be16(1), be32(exifAt), be32(uint32(len(payload))))
			count = 1
		}
		return fullBoxBytes("meta", 0, 0,
			fullBoxBytes("hdlr", 0, 0, be32(0), []byte("pict"), make([]byte, 13)),
			fullBoxBytes("pitm", 0, 0, be16(1)),
			fullBoxBytes("iinf", 0, 0, infes...),
			fullBoxBytes("iloc", 0, 0, append([][]byte{{0x44, 0x00}, be16(count)}, ilocItems...)...),
			box("iprp",
				box("ipco",
					fullBoxBytes("ispe", 0, 0, be32(512), be32(512)),
					fullBoxBytes("ispe", 0, 0, be32(w), be32(h))),
				fullBoxBytes("ipma", 0, 0, be32(1), be16(1), []byte{1, 0x80 | 2})),
		)
	}
	exifAt := uint32(len(ftyp) + len(meta(0)) + 8)
	return bytes.Join([][]byte{ftyp, meta(exifAt), box("mdat", payload)}, nil)
}

// allocated returns the bytes f allocates on the heap. Small objects are
// counted a span at a time, large ones (past 32 KiB) at once: enough to
// see a buffer sized by what a file claims.
func allocated(f func()) uint64 {
	before := heapAllocs()
	f()
	return heapAllocs() - before
}

// heapAllocs is the bytes allocated on the heap so far. It is read from
// runtime/metrics, which does not stop the world as ReadMemStats does
// (0.5 µs against 50 µs: it would slow fuzzing fivefold).
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
