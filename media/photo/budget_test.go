package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"testing"
)

// pngHeader is a small real PNG whose IHDR is changed to say w×h at the
// bit depth, colour type and interlace method given, its CRC mended.
func pngHeader(t testing.TB, w, h uint32, depth, colorType, interlace byte) []byte {
	b := pngOf(t, 16, 16)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	b[24], b[25], b[28] = depth, colorType, interlace
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegFrameOf is a small real JPEG whose frame header is changed to
// marker (SOF0 baseline, SOF2 progressive) and w×h, with every
// component sampled at hv (H<<4 | V) but the first, at luma.
func jpegFrameOf(t testing.TB, marker byte, w, h uint16, luma, hv byte) []byte {
	b := jpegWithSize(t, w, h)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	b[i+1] = marker
	for c := range int(b[i+9]) {
		b[i+11+3*c] = hv
	}
	b[i+11] = luma
	return b
}

func TestThumbnailRefusesWhatWouldTakeTooMuchMemory(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		typ  Type
	}{
		{"a 16-bit RGBA PNG of 7000×7000, under MaxPixels, takes 8 bytes a pixel", pngHeader(t, 7000, 7000, 16, 6, 0), PNG},
		{"a 16-bit RGB PNG of 7000×7000 is decoded as 16-bit RGBA", pngHeader(t, 7000, 7000, 16, 2, 0), PNG},
		{"a 16-bit grey and alpha PNG of 40 MP is decoded as 16-bit RGBA", pngHeader(t, 8000, 5000, 16, 4, 0), PNG},
		{"an interlaced 8-bit RGBA PNG of 40 MP decodes its passes apart", pngHeader(t, 8000, 5000, 8, 6, 1), PNG},
		{"a progressive 4:2:0 JPEG of 48 MP keeps 32-bit coefficients", jpegFrameOf(t, 0xC2, 8000, 6000, 0x22, 0x11), JPEG},
		{"a progressive 4:4:4 JPEG of 24 MP keeps three samples a pixel", jpegFrameOf(t, 0xC2, 6000, 4000, 0x11, 0x11), JPEG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = Thumbnail(bytes.NewReader(tt.file), tt.typ, 320) })
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Thumbnail error = %v, want ErrTooLarge", err)
			}
			if n > 1<<20 {
				t.Fatalf("Thumbnail allocated %d bytes; it must refuse from the header", n)
			}
		})
	}
}

func TestDecodeCostIsWithinTheBudgetForCameraPhotos(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		cfg  image.Config
		head []byte
	}{
		{"a 48 MP baseline 4:2:0 JPEG", JPEG, image.Config{ColorModel: color.YCbCrModel, Width: 8064, Height: 6048},
			jpegFrameOf(t, 0xC0, 8064, 6048, 0x22, 0x11)},
		{"a 12 MP progressive 4:2:0 JPEG", JPEG, image.Config{ColorModel: color.YCbCrModel, Width: 4032, Height: 3024},
			jpegFrameOf(t, 0xC2, 4032, 3024, 0x22, 0x11)},
		{"a 12 MP 8-bit RGBA PNG", PNG, image.Config{ColorModel: color.NRGBAModel, Width: 4032, Height: 3024}, pngHeader(t, 4032, 3024, 8, 6, 0)},
		{"a 12 MP 16-bit RGBA PNG", PNG, image.Config{ColorModel: color.NRGBA64Model, Width: 4032, Height: 3024}, pngHeader(t, 4032, 3024, 16, 6, 0)},
		{"a 50 MP grey PNG", PNG, image.Config{ColorModel: color.GrayModel, Width: 10000, Height: 5000}, pngHeader(t, 10000, 5000, 8, 0, 0)},
		{"a 12 MP lossy WebP", WebP, image.Config{ColorModel: color.YCbCrModel, Width: 4032, Height: 3024}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := decodeCost(tt.typ, tt.cfg, tt.head, 320); n > MaxDecodeBytes {
				t.Fatalf("decodeCost = %d MB, over the %d MB budget", n>>20, MaxDecodeBytes>>20)
			}
		})
	}
}

// The estimate must cover what decoding really allocates, or the budget
// bounds nothing.
func TestDecodeCostCoversWhatThumbnailAllocates(t *testing.T) {
	wide := func(m func(r image.Rectangle) draw) image.Image {
		img := m(image.Rect(0, 0, 1200, 900))
		for y := range 900 {
			for x := range 1200 {
				img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
			}
		}
		return img
	}
	tests := []struct {
		name string
		file []byte
		typ  Type
	}{
		{"a 4:2:0 JPEG", encodeJPEG(t, wide(func(r image.Rectangle) draw { return image.NewRGBA(r) })), JPEG},
		{"a grey JPEG", encodeJPEG(t, wide(func(r image.Rectangle) draw { return image.NewGray(r) })), JPEG},
		{"an 8-bit RGBA PNG", encodePNG(t, wide(func(r image.Rectangle) draw { return image.NewNRGBA(r) })), PNG},
		{"a 16-bit RGBA PNG", encodePNG(t, wide(func(r image.Rectangle) draw { return image.NewNRGBA64(r) })), PNG},
		{"a 16-bit grey PNG", encodePNG(t, wide(func(r image.Rectangle) draw { return image.NewGray16(r) })), PNG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := decodeConfig(tt.typ, bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			want := decodeCost(tt.typ, cfg, tt.file, 320)
			var terr error
			n := allocated(func() { _, terr = Thumbnail(bytes.NewReader(tt.file), tt.typ, 320) })
			if terr != nil {
				t.Fatal(terr)
			}
			// Reading the header and encoding the thumbnail cost a little
			// whatever the picture.
			if slack := int64(1 << 20); int64(n) > want+slack {
				t.Fatalf("Thumbnail allocated %d KB, the estimate is %d KB", n>>10, want>>10)
			}
		})
	}
}

type draw interface {
	image.Image
	Set(x, y int, c color.Color)
}
