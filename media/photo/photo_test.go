package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"testing"
	"time"
)

func TestSniff(t *testing.T) {
	heicMif1 := box("ftyp", []byte("mif1"), be32(0), []byte("mif1heic"))
	tests := []struct {
		name string
		head []byte
		want Type
	}{
		{"a JPEG is known by FF D8 FF", jpegOf(t, 8, 8), JPEG},
		{"a PNG is known by its signature", pngOf(t, 8, 8), PNG},
		{"a WebP is RIFF with the WEBP form type", readTestdata(t, "tiny.webp"), WebP},
		{"a HEIC is an ftyp box with brand heic", heicFile(64, 48, nil), HEIC},
		{"a HEIF whose major brand is mif1 and that lists heic is HEIC", heicMif1, HEIC},
		{"a real HEIC from libheif is HEIC", readTestdata(t, "exif.heic"), HEIC},
		{"sixteen bytes are enough for HEIC's major brand", heicFile(64, 48, nil)[:16], HEIC},
		{"the file name does not matter, a PNG without extension is a PNG", pngOf(t, 2, 2)[:8], PNG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.head[:min(len(tt.head), SniffLen)])
			if err != nil || got != tt.want {
				t.Fatalf("Sniff = %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	refused := []struct {
		name string
		head []byte
	}{
		{"empty is not an image", nil},
		{"text is not an image", []byte("hello, this is a plain text file\n")},
		{"a PDF is not an image", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")},
		{"a ZIP is not an image", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")},
		{"a GIF is not one of our types", []byte("GIF89a\x01\x00\x01\x00")},
		{"a WAV is RIFF but not WEBP", []byte("RIFF\x24\x00\x00\x00WAVEfmt ")},
		{"an MP4 has an ftyp box without a HEIF brand", box("ftyp", []byte("isom"), be32(0), []byte("isomavc1mp41"))},
		{"an AVIF lists mif1 but is not HEIC", box("ftyp", []byte("avif"), be32(0), []byte("avifmif1miaf"))},
		{"two bytes of JPEG are not enough", []byte{0xFF, 0xD8}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.head)
			if !errors.Is(err, ErrNotImage) {
				t.Fatalf("Sniff = %q, %v; want ErrNotImage", got, err)
			}
		})
	}
}

func inspect(t *testing.T, b []byte) Info {
	t.Helper()
	info, err := Inspect(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	return info
}

func TestInspectDimensions(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		typ  Type
		w, h int
	}{
		{"JPEG dimensions come from its frame header", jpegOf(t, 64, 48), JPEG, 64, 48},
		{"PNG dimensions come from IHDR", pngOf(t, 30, 70), PNG, 30, 70},
		{"WebP dimensions come from its bitstream header", readTestdata(t, "tiny.webp"), WebP, 40, 30},
		{"WebP with VP8X takes the canvas size", readTestdata(t, "exif.webp"), WebP, 40, 30},
		{"HEIC dimensions are the primary item's ispe, not the largest", heicFile(400, 300, nil), HEIC, 400, 300},
		{"a real HEIC's primary is its grid, not its 64×64 tile", readTestdata(t, "exif.heic"), HEIC, 40, 30},
		{"a HEIC of 48 MP is accepted", heicFile(8064, 6048, nil), HEIC, 8064, 6048},
		{"a HEIC of exactly MaxPixels is accepted", heicFile(10000, 5000, nil), HEIC, 10000, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := inspect(t, tt.file)
			if info.Type != tt.typ || info.Width != tt.w || info.Height != tt.h {
				t.Fatalf("Inspect = %s %d×%d; want %s %d×%d", info.Type, info.Width, info.Height, tt.typ, tt.w, tt.h)
			}
		})
	}
}

func TestInspectWithoutPrimaryTakesLargestIspe(t *testing.T) {
	// A HEIF without pitm: the largest ispe is the image, the smaller
	// ones tiles or thumbnails.
	meta := fullBoxBytes("meta", 0, 0,
		box("iprp", box("ipco",
			fullBoxBytes("ispe", 0, 0, be32(320), be32(240)),
			fullBoxBytes("ispe", 0, 0, be32(4032), be32(3024)),
			fullBoxBytes("ispe", 0, 0, be32(512), be32(512)))))
	info := inspect(t, append(box("ftyp", []byte("heic"), be32(0), []byte("mif1")), meta...))
	if info.Width != 4032 || info.Height != 3024 {
		t.Fatalf("got %d×%d, want 4032×3024", info.Width, info.Height)
	}
}

// shanghai is the EXIF most tests write: People's Square, 14 March 2026.
var shanghai = exifSpec{
	orientation: 6,
	dateTime:    "2026:03:14 09:26:53",
	offset:      "+08:00",
	latRef:      "N", lat: [3][2]uint32{{31, 1}, {13, 1}, {4944, 100}}, hasLat: true,
	lngRef: "E", lng: [3][2]uint32{{121, 1}, {28, 1}, {2532, 100}}, hasLng: true,
}

var (
	shanghaiTime = time.Date(2026, 3, 14, 1, 26, 53, 0, time.UTC)
	shanghaiGPS  = GPS{Lat: 31 + 13.0/60 + 49.44/3600, Lng: 121 + 28.0/60 + 25.32/3600}
)

func TestInspectReadsEXIFFromEveryContainer(t *testing.T) {
	bigEndian := shanghai
	bigEndian.order = binary.BigEndian
	tiff := buildTIFF(shanghai)
	tests := []struct {
		name string
		file []byte
	}{
		{"JPEG APP1, little-endian TIFF", withAPP1(jpegOf(t, 64, 48), tiff)},
		{"JPEG APP1, big-endian TIFF", withAPP1(jpegOf(t, 64, 48), buildTIFF(bigEndian))},
		{"JPEG APP1 after a JFIF APP0, an ICC APP2 and an XMP APP1", jpegCrowded(t, tiff)},
		{"JPEG written by exiftool", readTestdata(t, "exif.jpg")},
		{"PNG eXIf chunk", withPNGChunk(pngOf(t, 64, 48), "eXIf", tiff)},
		{"WebP EXIF chunk, written by cwebp", readTestdata(t, "exif.webp")},
		{"HEIC Exif item", heicFile(4032, 3024, tiff)},
		{"HEIC Exif item, written by libheif", readTestdata(t, "exif.heic")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := inspect(t, tt.file)
			if info.CapturedAt == nil || !info.CapturedAt.Equal(shanghaiTime) {
				t.Errorf("CapturedAt = %v, want %v", info.CapturedAt, shanghaiTime)
			}
			if info.GPS == nil || !near(*info.GPS, shanghaiGPS) {
				t.Errorf("GPS = %+v, want %+v", info.GPS, shanghaiGPS)
			}
			if info.Orientation != 6 {
				t.Errorf("Orientation = %d, want 6", info.Orientation)
			}
		})
	}
}

// heicExifAt points the Exif item of a heicFile at off.
func heicExifAt(b []byte, off uint32) []byte {
	i := bytes.Index(b, []byte("iloc"))
	// version and flags, sizes, item count, item ID, data reference,
	// extent count, then the extent offset.
	binary.BigEndian.PutUint32(b[i+4+4+2+2+2+2+2:], off)
	return b
}

// jpegCrowded is a JPEG whose Exif comes after other segments, as some
// encoders write: SOI, APP0 JFIF, APP2 ICC, APP1 XMP, APP1 Exif, the rest.
// (withSegment puts each one first, so they are added last to first.)
func jpegCrowded(t *testing.T, tiff []byte) []byte {
	b := withAPP1(jpegOf(t, 64, 48), tiff)
	b = withSegment(b, 0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	b = withSegment(b, 0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), make([]byte, 500)...))
	return withSegment(b, 0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
}

func near(a, b GPS) bool {
	return math.Abs(a.Lat-b.Lat) < 1e-9 && math.Abs(a.Lng-b.Lng) < 1e-9
}

func TestCaptureTime(t *testing.T) {
	tests := []struct {
		name             string
		dateTime, offset string
		want             time.Time // zero: no capture time
	}{
		{"OffsetTimeOriginal is the camera's zone", "2026:03:14 09:26:53", "+08:00", shanghaiTime},
		{"a negative offset is west of Greenwich", "2026:03:14 09:26:53", "-05:00", time.Date(2026, 3, 14, 14, 26, 53, 0, time.UTC)},
		{"a half-hour offset counts its minutes", "2026:03:14 09:26:53", "+05:30", time.Date(2026, 3, 14, 3, 56, 53, 0, time.UTC)},
		{"without an offset the time is China time", "2026:03:14 09:26:53", "", shanghaiTime},
		{"a malformed offset is ignored for China time", "2026:03:14 09:26:53", "+8h", shanghaiTime},
		{"an offset past 14 hours is ignored", "2026:03:14 09:26:53", "+23:00", shanghaiTime},
		{"a date across midnight in China is the day before in UTC", "2026:01:01 07:00:00", "", time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"a zeroed date from a camera without a clock is no time", "0000:00:00 00:00:00", "", time.Time{}},
		{"a blank date is no time", "    :  :     :  :  ", "", time.Time{}},
		{"a date with a month 13 is no time", "2026:13:14 09:26:53", "", time.Time{}},
		{"a short date is no time", "2026:03:14", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := inspect(t, withAPP1(jpegOf(t, 16, 16), buildTIFF(exifSpec{dateTime: tt.dateTime, offset: tt.offset})))
			switch {
			case tt.want.IsZero() && info.CapturedAt != nil:
				t.Fatalf("CapturedAt = %v, want none", info.CapturedAt)
			case !tt.want.IsZero() && (info.CapturedAt == nil || !info.CapturedAt.Equal(tt.want)):
				t.Fatalf("CapturedAt = %v, want %v", info.CapturedAt, tt.want)
			case info.CapturedAt != nil && info.CapturedAt.Location() != time.UTC:
				t.Fatalf("CapturedAt is in %v, want UTC", info.CapturedAt.Location())
			}
		})
	}
}

func TestGPS(t *testing.T) {
	deg := func(d, m, s uint32) [3][2]uint32 { return [3][2]uint32{{d, 1}, {m, 1}, {s, 1}} }
	tests := []struct {
		name string
		spec exifSpec
		want *GPS
	}{
		{"north and east are positive",
			exifSpec{latRef: "N", lat: deg(39, 54, 27), hasLat: true, lngRef: "E", lng: deg(116, 23, 50), hasLng: true},
			&GPS{39 + 54.0/60 + 27.0/3600, 116 + 23.0/60 + 50.0/3600}},
		{"south and west are negative",
			exifSpec{latRef: "S", lat: deg(33, 52, 4), hasLat: true, lngRef: "W", lng: deg(70, 40, 0), hasLng: true},
			&GPS{-(33 + 52.0/60 + 4.0/3600), -(70 + 40.0/60)}},
		{"decimal minutes with zero seconds are read",
			exifSpec{latRef: "N", lat: [3][2]uint32{{22, 1}, {3215, 100}, {0, 1}}, hasLat: true, lngRef: "E", lng: [3][2]uint32{{114, 1}, {1, 1}, {0, 1}}, hasLng: true},
			&GPS{22 + 32.15/60, 114 + 1.0/60}},
		{"a coordinate without its reference has no sign, so no position",
			exifSpec{lat: deg(39, 54, 27), hasLat: true, lngRef: "E", lng: deg(116, 23, 50), hasLng: true}, nil},
		{"a reference that is neither N nor S is no position",
			exifSpec{latRef: "X", lat: deg(39, 54, 27), hasLat: true, lngRef: "E", lng: deg(116, 23, 50), hasLng: true}, nil},
		{"a zero denominator is no position",
			exifSpec{latRef: "N", lat: [3][2]uint32{{39, 0}, {0, 1}, {0, 1}}, hasLat: true, lngRef: "E", lng: deg(116, 23, 50), hasLng: true}, nil},
		{"a latitude past 90 degrees is no position",
			exifSpec{latRef: "N", lat: deg(91, 0, 0), hasLat: true, lngRef: "E", lng: deg(116, 23, 50), hasLng: true}, nil},
		{"0,0 written without a fix is no position",
			exifSpec{latRef: "N", lat: deg(0, 0, 0), hasLat: true, lngRef: "E", lng: deg(0, 0, 0), hasLng: true}, nil},
		{"a latitude alone is no position",
			exifSpec{latRef: "N", lat: deg(39, 54, 27), hasLat: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := inspect(t, withAPP1(jpegOf(t, 16, 16), buildTIFF(tt.spec)))
			switch {
			case tt.want == nil && info.GPS != nil:
				t.Fatalf("GPS = %+v, want none", *info.GPS)
			case tt.want != nil && (info.GPS == nil || !near(*info.GPS, *tt.want)):
				t.Fatalf("GPS = %+v, want %+v", info.GPS, *tt.want)
			}
		})
	}
}

func TestOrientation(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    uint16
		want int
	}{
		{"orientation 1 is as stored", 1, 1},
		{"orientation 8 is read", 8, 8},
		{"orientation 9 does not exist, so it is unknown", 9, 0},
		{"no orientation tag is unknown", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info := inspect(t, withAPP1(jpegOf(t, 16, 16), buildTIFF(exifSpec{orientation: tt.o})))
			if info.Orientation != tt.want {
				t.Fatalf("Orientation = %d, want %d", info.Orientation, tt.want)
			}
		})
	}
}

func TestInspectToleratesCorruptEXIF(t *testing.T) {
	good := buildTIFF(shanghai)
	patch := func(b []byte, at int, v ...byte) []byte {
		b = append([]byte{}, b...)
		copy(b[at:], v)
		return b
	}
	pointers := func(exifAt, gpsAt uint32) []byte {
		s := shanghai
		s.exifIFDAt, s.gpsIFDAt = exifAt, gpsAt
		return buildTIFF(s)
	}
	jpg := jpegOf(t, 64, 48)
	tests := []struct {
		name            string
		file            []byte
		wantOrientation int  // IFD0 still read
		wantRest        bool // capture time and GPS still read
	}{
		{"EXIF that is not TIFF yields no fields", withAPP1(jpg, []byte("this is not a TIFF header at all")), 0, false},
		{"a wrong TIFF magic number yields no fields", withAPP1(jpg, patch(good, 2, 43)), 0, false},
		{"an IFD0 offset past the end yields no fields", withAPP1(jpg, patch(good, 4, 0xFF, 0xFF, 0xFF, 0x7F)), 0, false},
		{"EXIF of eight bytes yields no fields", withAPP1(jpg, good[:8]), 0, false},
		{"an empty Exif segment yields no fields", withAPP1(jpg, nil), 0, false},
		{"random bytes yield no fields", withAPP1(jpg, bytes.Repeat([]byte{0x4D, 0x4D, 0x00, 0x2A, 0xFF}, 200)), 0, false},
		{"a PNG eXIf of garbage yields no fields", withPNGChunk(pngOf(t, 64, 48), "eXIf", []byte{1, 2, 3}), 0, false},
		{"a HEIC Exif item of garbage yields no fields", heicFile(64, 48, []byte("garbage!")), 0, false},
		{"a HEIC Exif item located past the end yields no fields", heicExifAt(heicFile(64, 48, good), 1<<30), 0, false},
		{"an entry count past the end reads the entries there are", withAPP1(jpg, patch(good, 8, 0xFF, 0xFF)), 6, true},
		{"sub-IFD pointers past the end keep IFD0", withAPP1(jpg, pointers(1<<30, 1<<31)), 6, false},
		{"sub-IFD pointers back at IFD0 do not loop", withAPP1(jpg, pointers(8, 8)), 6, false},
		{"EXIF cut inside IFD0 keeps the entries before the cut", withAPP1(jpg, good[:40]), 6, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := inspect(t, tt.file)
			if info.Width != 64 || info.Height != 48 {
				t.Fatalf("dimensions %d×%d, want 64×48", info.Width, info.Height)
			}
			if info.Orientation != tt.wantOrientation {
				t.Errorf("Orientation = %d, want %d", info.Orientation, tt.wantOrientation)
			}
			if got := info.CapturedAt != nil && info.GPS != nil; got != tt.wantRest || (!tt.wantRest && (info.CapturedAt != nil || info.GPS != nil)) {
				t.Errorf("CapturedAt %v, GPS %v; want them read: %v", info.CapturedAt, info.GPS, tt.wantRest)
			}
		})
	}

	t.Run("a value offset past the end drops that field, not the others", func(t *testing.T) {
		b := buildTIFF(shanghai)
		// The first Exif IFD entry (DateTimeOriginal) keeps its value
		// out of line; point it past the end.
		exifAt := int(binary.LittleEndian.Uint32(b[8+2+12+8:])) // IFD0's second entry
		binary.LittleEndian.PutUint32(b[exifAt+2+8:], 1<<20)
		info := inspect(t, withAPP1(jpg, b))
		if info.CapturedAt != nil {
			t.Errorf("CapturedAt = %v, want none", info.CapturedAt)
		}
		if info.GPS == nil || info.Orientation != 6 {
			t.Errorf("GPS %v, Orientation %d: the sound fields were lost", info.GPS, info.Orientation)
		}
	})
}

func TestInspectRefuses(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"text is not an image", []byte("not a photo"), ErrNotImage},
		{"a JPEG signature with a broken header is not an image", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00}, ErrNotImage},
		{"a PNG signature without IHDR is not an image", []byte("\x89PNG\r\n\x1a\n"), ErrNotImage},
		{"a JPEG of 20000×20000 is a decompression bomb", jpegBomb(t), ErrTooLarge},
		{"a PNG of 20000×20000 is a decompression bomb", pngBomb(t), ErrTooLarge},
		{"a WebP of 16384×16384 is a decompression bomb", webpBomb(t), ErrTooLarge},
		{"a HEIC of 20000×20000 is refused", heicFile(20000, 20000, nil), ErrTooLarge},
		{"a HEIC one row past MaxPixels is refused", heicFile(10000, 5001, nil), ErrTooLarge},
		{"an ftyp heic box followed by HTML is not an image",
			append(box("ftyp", []byte("heic"), be32(0)), "<html><body>not a photo</body></html>"...), ErrNotImage},
		{"an ftyp heic box alone is not an image", box("ftyp", []byte("heic"), be32(0)), ErrNotImage},
		{"a HEIF whose meta box has no ispe is not an image", append(box("ftyp", []byte("heic"), be32(0)),
			fullBoxBytes("meta", 0, 0, fullBoxBytes("pitm", 0, 0, be16(1)), box("iprp", box("ipco")))...), ErrNotImage},
		{"a HEIF whose only ispe is 0×0 is not an image", append(box("ftyp", []byte("heic"), be32(0)),
			fullBoxBytes("meta", 0, 0, box("iprp", box("ipco", fullBoxBytes("ispe", 0, 0, be32(0), be32(0)))))...), ErrNotImage},
		{"a HEIF whose primary ispe is 4032×0 is not an image", heicFile(4032, 0, nil), ErrNotImage},
		{"a HEIF whose meta box lies past the bytes given is not an image",
			append(box("ftyp", []byte("heic"), be32(0)), be32(1<<20)...), ErrNotImage},
		{"a JPEG whose frame has 0 rows is not an image", jpegWithSize(t, 64, 0), ErrNotImage},
		{"a JPEG whose frame has 0 columns is not an image", jpegWithSize(t, 0, 48), ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Inspect(bytes.NewReader(tt.file), int64(len(tt.file)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Inspect error = %v, want %v", err, tt.want)
			}
		})
	}
}

// jpegBomb is a small real JPEG whose SOF0 header says 20000×20000:
// decoding it would allocate some 600 MB for the picture alone.
func jpegBomb(t testing.TB) []byte { return jpegWithSize(t, 20000, 20000) }

// jpegWithSize is a small real JPEG whose SOF0 header says w×h.
func jpegWithSize(t testing.TB, w, h uint16) []byte {
	b := jpegOf(t, 16, 16)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 in the encoder's JPEG")
	}
	// FF C0, length (2), precision (1), height (2), width (2).
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// pngBomb is a small real PNG whose IHDR says 20000×20000, its CRC
// mended so that the header itself is sound.
func pngBomb(t testing.TB) []byte {
	b := pngOf(t, 16, 16)
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// webpBomb is the lossless testdata WebP with its VP8L header saying
// 16384×16384, the most the format allows (268 MP).
func webpBomb(t testing.TB) []byte {
	b := readTestdata(t, "tiny.webp")
	if string(b[12:16]) != "VP8L" || b[20] != 0x2F {
		t.Fatal("testdata/tiny.webp is not a plain lossless WebP")
	}
	// After the 0x2F signature: 14 bits width-1, 14 bits height-1,
	// 1 bit alpha, 3 bits version (0), little-endian.
	bits := uint32(16383) | uint32(16383)<<14
	binary.LittleEndian.PutUint32(b[21:], bits)
	return b
}

func TestInspectDoesNotDecodeABomb(t *testing.T) {
	for name, file := range map[string][]byte{"jpeg": jpegBomb(t), "png": pngBomb(t), "webp": webpBomb(t)} {
		n := allocated(func() { Inspect(bytes.NewReader(file), int64(len(file))) })
		if n > 1<<20 {
			t.Errorf("Inspect of a %s bomb allocated %d bytes; it must refuse from the header", name, n)
		}
	}
}

func TestInspectReadsOnlyTheHead(t *testing.T) {
	// media passes the first bytes of an upload, not the whole photo:
	// the header and the EXIF before the pixels are enough.
	file := withAPP1(jpegOf(t, 640, 480), buildTIFF(shanghai))
	sos := bytes.Index(file, []byte{0xFF, 0xDA})
	head := file[:sos+20]
	info := inspect(t, head)
	if info.Width != 640 || info.Height != 480 || info.CapturedAt == nil || info.GPS == nil {
		t.Fatalf("Inspect of the head = %+v", info)
	}
}

// failingReaderAt fails every read that reaches past its good bytes.
type failingReaderAt struct {
	b    []byte
	good int64
}

var errDisk = errors.New("disk on fire")

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.good {
		return 0, errDisk
	}
	return copy(p, f.b[off:]), nil
}

func TestInspectReportsReadErrorsAsTheirOwn(t *testing.T) {
	file := withAPP1(jpegOf(t, 64, 48), buildTIFF(shanghai))
	for _, good := range []int64{0, 10, 200} {
		_, err := Inspect(failingReaderAt{file, good}, int64(len(file)))
		if !errors.Is(err, errDisk) || errors.Is(err, ErrNotImage) {
			t.Errorf("reads failing past %d: error %v, want the reader's own", good, err)
		}
	}
}

func TestInspectEmpty(t *testing.T) {
	if _, err := Inspect(bytes.NewReader(nil), 0); !errors.Is(err, ErrNotImage) {
		t.Fatalf("Inspect of nothing: %v, want ErrNotImage", err)
	}
	if _, err := Inspect(bytes.NewReader(nil), -1); err == nil {
		t.Fatal("Inspect with a negative size: no error")
	}
}

var _ io.ReaderAt = failingReaderAt{}

func TestAllocatedSeesALargeBuffer(t *testing.T) {
	// The bomb and fuzz checks rest on allocated; it must see a buffer
	// the size of a claimed length.
	var sink []byte
	if n := allocated(func() { sink = make([]byte, 8<<20) }); n < 8<<20 {
		t.Fatalf("allocated saw %d bytes of an 8 MiB buffer", n)
	}
	_ = sink
}
