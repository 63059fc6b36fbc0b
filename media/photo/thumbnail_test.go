package photo

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"testing"
	"testing/iotest"

	xdraw "golang.org/x/image/draw"
)

// thumb makes a thumbnail and decodes it back.
func thumb(t *testing.T, file []byte, typ Type, maxSide int) image.Image {
	t.Helper()
	b, err := Thumbnail(bytes.NewReader(file), typ, maxSide)
	if err != nil {
		t.Fatalf("Thumbnail: %v", err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the thumbnail is not a JPEG: %v", err)
	}
	return img
}

func TestThumbnailSizes(t *testing.T) {
	tests := []struct {
		name     string
		file     []byte
		typ      Type
		maxSide  int
		wantW, h int
	}{
		{"a landscape JPEG's width becomes maxSide", jpegOf(t, 1200, 800), JPEG, 320, 320, 213},
		{"a portrait JPEG's height becomes maxSide", jpegOf(t, 600, 900), JPEG, 320, 213, 320},
		{"a 6 MP JPEG, shrunk by blocks first, keeps the original's proportions", jpegOf(t, 3000, 1999), JPEG, 320, 320, 213},
		{"a square PNG becomes maxSide square", pngOf(t, 500, 500), PNG, 320, 320, 320},
		{"a photo already smaller than maxSide keeps its size", jpegOf(t, 100, 50), JPEG, 320, 100, 50},
		{"a photo exactly maxSide keeps its size", pngOf(t, 320, 10), PNG, 320, 320, 10},
		{"a thin strip keeps at least one pixel", pngOf(t, 2000, 2), PNG, 100, 100, 1},
		{"a lossless WebP is scaled", readTestdata(t, "tiny.webp"), WebP, 20, 20, 15},
		{"a WebP with VP8X and EXIF is scaled", readTestdata(t, "exif.webp"), WebP, 20, 20, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := thumb(t, tt.file, tt.typ, tt.maxSide)
			if got := img.Bounds().Size(); got != image.Pt(tt.wantW, tt.h) {
				t.Fatalf("thumbnail is %v, want %dx%d", got, tt.wantW, tt.h)
			}
		})
	}
}

func TestThumbnailTurnsUpright(t *testing.T) {
	// Stored: red top left, green top right, blue bottom left, white
	// bottom right. Each row says where those land once the picture is
	// shown as EXIF Orientation means (CIPA DC-008, 4.6.4 A): the corners
	// top left, top right, bottom left, bottom right.
	const R, G, B, W = "red", "green", "blue", "white"
	tests := []struct {
		name        string
		orientation uint16
		corners     [4]string
		quarterTurn bool
	}{
		{"orientation 1 is shown as stored", 1, [4]string{R, G, B, W}, false},
		{"orientation 2 is mirrored left to right", 2, [4]string{G, R, W, B}, false},
		{"orientation 3 is turned half round", 3, [4]string{W, B, G, R}, false},
		{"orientation 4 is mirrored top to bottom", 4, [4]string{B, W, R, G}, false},
		{"orientation 5 is transposed", 5, [4]string{R, B, G, W}, true},
		{"orientation 6 is turned a quarter clockwise", 6, [4]string{B, R, W, G}, true},
		{"orientation 7 is transversed", 7, [4]string{W, G, B, R}, true},
		{"orientation 8 is turned a quarter counter-clockwise", 8, [4]string{G, W, R, B}, true},
		{"no orientation is shown as stored", 0, [4]string{R, G, B, W}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := withAPP1(encodeJPEG(t, quadrants(80, 40)), buildTIFF(exifSpec{orientation: tt.orientation}))
			img := thumb(t, file, JPEG, 40)
			want := image.Pt(40, 20)
			if tt.quarterTurn {
				want = image.Pt(20, 40)
			}
			if got := img.Bounds().Size(); got != want {
				t.Fatalf("thumbnail is %v, want %v", got, want)
			}
			w, h := want.X, want.Y
			at := [4]image.Point{{2, 2}, {w - 3, 2}, {2, h - 3}, {w - 3, h - 3}}
			for i, p := range at {
				if got := colorName(img.At(p.X, p.Y)); got != tt.corners[i] {
					t.Errorf("corner %d at %v is %s, want %s", i, p, got, tt.corners[i])
				}
			}
		})
	}
}

// colorName names the nearest of our four quadrant colours.
func colorName(c color.Color) string {
	r, g, b, _ := c.RGBA()
	hi := func(v uint32) bool { return v > 0x8000 }
	switch {
	case hi(r) && hi(g) && hi(b):
		return "white"
	case hi(r):
		return "red"
	case hi(g):
		return "green"
	case hi(b):
		return "blue"
	}
	return "black"
}

func TestThumbnailFlattensTransparencyOnWhite(t *testing.T) {
	clear := image.NewNRGBA(image.Rect(0, 0, 50, 50)) // all transparent
	img := thumb(t, encodePNG(t, clear), PNG, 20)
	if got := colorName(img.At(10, 10)); got != "white" {
		t.Fatalf("a transparent PNG's thumbnail is %s, want white", got)
	}
}

func TestThumbnailRefuses(t *testing.T) {
	tests := []struct {
		name    string
		file    []byte
		typ     Type
		maxSide int
		want    error
	}{
		{"HEIC has no decoder", heicFile(4032, 3024, nil), HEIC, 320, ErrNoDecoder},
		{"a type we do not know is not an image", jpegOf(t, 8, 8), "image/gif", 320, ErrNotImage},
		{"bytes that are not the type said are not an image", pngOf(t, 8, 8), JPEG, 320, ErrNotImage},
		{"a JPEG whose pixels are cut off is not an image", jpegOf(t, 64, 64)[:300], JPEG, 320, ErrNotImage},
		{"a JPEG of 20000×20000 is refused from its header", jpegBomb(t), JPEG, 320, ErrTooLarge},
		{"a PNG of 20000×20000 is refused from its header", pngBomb(t), PNG, 320, ErrTooLarge},
		{"a WebP of 16384×16384 is refused from its header", webpBomb(t), WebP, 320, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Thumbnail(bytes.NewReader(tt.file), tt.typ, tt.maxSide)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Thumbnail error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("a side of zero is refused", func(t *testing.T) {
		if _, err := Thumbnail(bytes.NewReader(jpegOf(t, 8, 8)), JPEG, 0); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestCanThumbnail(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		file []byte
		want bool
	}{
		{"a JPEG is thumbnailed", JPEG, jpegOf(t, 8, 8), true},
		{"a PNG is thumbnailed", PNG, pngOf(t, 8, 8), true},
		{"a WebP is thumbnailed", WebP, readTestdata(t, "tiny.webp"), true},
		{"HEIC is not: it has no decoder", HEIC, heicFile(64, 48, nil), false},
		{"a type not ours is not", "image/gif", jpegOf(t, 8, 8), false},
		{"no type is not", "", jpegOf(t, 8, 8), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanThumbnail(tt.typ); got != tt.want {
				t.Fatalf("CanThumbnail(%q) = %v, want %v", tt.typ, got, tt.want)
			}
			// It says what Thumbnail does with a good file of that type.
			if _, err := Thumbnail(bytes.NewReader(tt.file), tt.typ, 320); (err == nil) != tt.want {
				t.Fatalf("Thumbnail of a %q: %v, but CanThumbnail says %v", tt.typ, err, tt.want)
			}
		})
	}
}

func TestThumbnailDoesNotDecodeABomb(t *testing.T) {
	for name, f := range map[Type][]byte{JPEG: jpegBomb(t), PNG: pngBomb(t), WebP: webpBomb(t)} {
		n := allocated(func() { Thumbnail(bytes.NewReader(f), name, 320) })
		if n > 1<<20 {
			t.Errorf("Thumbnail of a %s bomb allocated %d bytes; it must refuse from the header", name, n)
		}
	}
}

func TestThumbnailReportsReadErrorsAsTheirOwn(t *testing.T) {
	file := jpegOf(t, 640, 480)
	for _, cut := range []int64{0, 100, int64(len(file) / 2)} {
		r := io.MultiReader(io.LimitReader(bytes.NewReader(file), cut), iotest.ErrReader(errDisk))
		_, err := Thumbnail(r, JPEG, 320)
		if !errors.Is(err, errDisk) || errors.Is(err, ErrNotImage) {
			t.Errorf("reader failing after %d bytes: error %v, want the reader's own", cut, err)
		}
	}
}

func TestThumbnailReadsOneByteAtATime(t *testing.T) {
	// The header is read twice, once for the size check and once by the
	// decoder; a reader that gives one byte per call must still work.
	file := withAPP1(jpegOf(t, 300, 200), buildTIFF(exifSpec{orientation: 6}))
	b, err := Thumbnail(iotest.OneByteReader(bytes.NewReader(file)), JPEG, 100)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 67 || cfg.Height != 100 {
		t.Fatalf("thumbnail %dx%d, %v; want 67x100", cfg.Width, cfg.Height, err)
	}
}

func BenchmarkThumbnail12MP(b *testing.B) {
	file := jpegOf(b, 4000, 3000)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Thumbnail(bytes.NewReader(file), JPEG, 320); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode12MP is the reference: the decode alone, which no
// thumbnail can avoid.
func BenchmarkDecode12MP(b *testing.B) {
	file := jpegOf(b, 4000, 3000)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(file)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestShrinkYCbCrAveragesBlocks(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, ratio := range ratios {
		for _, size := range []image.Point{{101, 67}, {64, 64}, {7, 300}} {
			for _, k := range []int{2, 3, 5} {
				src := image.NewYCbCr(image.Rect(0, 0, size.X, size.Y), ratio)
				for i := range src.Y {
					src.Y[i] = uint8(i * 7)
				}
				for i := range src.Cb {
					src.Cb[i], src.Cr[i] = 60, 190
				}
				dst, ok := shrinkYCbCr(src, k)
				if !ok {
					t.Fatalf("%v %v k=%d: refused", ratio, size, k)
				}
				want := image.Pt((size.X+k-1)/k, (size.Y+k-1)/k)
				if got := dst.Rect.Size(); got != want {
					t.Fatalf("%v %v k=%d: size %v, want %v", ratio, size, k, got, want)
				}
				for y := range want.Y {
					for x := range want.X {
						var sum, n int
						for sy := y * k; sy < min(y*k+k, size.Y); sy++ {
							for sx := x * k; sx < min(x*k+k, size.X); sx++ {
								sum += int(src.YCbCrAt(sx, sy).Y)
								n++
							}
						}
						c := dst.YCbCrAt(x, y)
						if int(c.Y) != (sum+n/2)/n || c.Cb != 60 || c.Cr != 190 {
							t.Fatalf("%v %v k=%d: pixel (%d,%d) = %v, want Y %d Cb 60 Cr 190", ratio, size, k, x, y, c, (sum+n/2)/n)
						}
					}
				}
			}
		}
	}
}

func TestThumbnailShrinkLooksLikeDirectScaling(t *testing.T) {
	// A smooth picture scaled through the block average then CatmullRom
	// must look like CatmullRom alone.
	rgba := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for y := range 1200 {
		for x := range 1600 {
			rgba.SetRGBA(x, y, color.RGBA{uint8(x * 255 / 1600), uint8(y * 255 / 1200), uint8((x + y) % 256), 255})
		}
	}
	src, err := jpeg.Decode(bytes.NewReader(encodeJPEG(t, rgba)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*image.YCbCr); !ok {
		t.Fatalf("decoded %T, want *image.YCbCr", src)
	}
	got := scale(src, 100)
	want := image.NewRGBA(got.Rect)
	xdraw.CatmullRom.Scale(want, want.Rect, src, src.Bounds(), xdraw.Src, nil)
	var diff, n int
	for i := range got.Pix {
		d := int(got.Pix[i]) - int(want.Pix[i])
		diff += max(d, -d)
		n++
	}
	if mean := float64(diff) / float64(n); mean > 4 {
		t.Fatalf("mean difference %.2f per channel from direct scaling", mean)
	}
}
