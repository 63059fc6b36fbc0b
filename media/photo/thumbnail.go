package photo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// ThumbQuality is the JPEG quality of thumbnails.
const ThumbQuality = 80

// maxHeader bounds the bytes Thumbnail keeps while it reads the header:
// they are read again by the decoder. A JPEG without JFIF is read up to
// its first scan, past every APP segment (EXIF, ICC profile, and on some
// phones extended XMP with a depth map, hundreds of KiB).
const maxHeader = 4 << 20

// Thumbnail decodes a JPEG, PNG or WebP photo read from r, turns it
// upright by its EXIF Orientation (JPEG: the EXIF precedes the pixels;
// PNG and WebP keep it after them and are taken as stored), scales it so
// that its longer side is maxSide pixels (a smaller photo keeps its size),
// flattens transparency onto white, and encodes it as JPEG at ThumbQuality.
//
// The header is read first: a picture of more than MaxPixels, or one
// whose decoding would take more than MaxDecodeBytes, is refused
// (ErrTooLarge) before any pixel is decoded. Memory is bounded by the
// decoded picture (about 1.5 bytes a pixel for a baseline JPEG, up to 8
// for a 16-bit PNG) and the scaler's buffer (32 bytes per pixel of a
// column of the thumbnail's width and the source's height, a quarter or
// less of that for JPEG); see MaxDecodeBytes. Callers bound how many run
// at once.
//
// Errors: ErrNoDecoder for HEIC, ErrTooLarge, ErrNotImage for a type
// other than ours or bytes that do not decode as t, or an error of r.
func Thumbnail(r io.Reader, t Type, maxSide int) ([]byte, error) {
	switch t {
	case JPEG, PNG, WebP:
	case HEIC:
		return nil, fmt.Errorf("%w: %s", ErrNoDecoder, t)
	default:
		return nil, fmt.Errorf("%w: type %q", ErrNotImage, t)
	}
	if maxSide <= 0 {
		return nil, fmt.Errorf("photo: thumbnail side %d is not positive", maxSide)
	}
	src := &readRecorder{r: r}
	var head bytes.Buffer
	cfg, err := decodeConfig(t, io.TeeReader(io.LimitReader(src, maxHeader), &head))
	if src.err != nil {
		return nil, fmt.Errorf("photo: read: %w", src.err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %v", ErrNotImage, t, err)
	}
	if err := checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	if n := decodeCost(t, cfg, head.Bytes(), maxSide); n > MaxDecodeBytes {
		return nil, fmt.Errorf("%w: decoding %d×%d %s would take about %d MB, more than %d MB", ErrTooLarge, cfg.Width, cfg.Height, t, n>>20, MaxDecodeBytes>>20)
	}
	orientation := 0
	if t == JPEG {
		hb := head.Bytes()
		orientation = parseExif(jpegExif(bytes.NewReader(hb), int64(len(hb)))).orientation
	}

	img, err := decode(t, io.MultiReader(&head, src))
	if src.err != nil {
		return nil, fmt.Errorf("photo: read: %w", src.err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotImage, t, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		// The decoders allocate by the header we checked; this guards
		// against one that ever did not.
		return nil, fmt.Errorf("%w: decoded %v, header said %d×%d", ErrNotImage, b.Size(), cfg.Width, cfg.Height)
	}

	thumb := orient(scale(img, maxSide), orientation)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, thumb, &jpeg.Options{Quality: ThumbQuality}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// CanThumbnail reports whether Thumbnail decodes photos of type t: false
// for HEIC, which has no pure-Go decoder, and for a type not ours. It lets
// a caller skip reading a photo it could not thumbnail.
func CanThumbnail(t Type) bool {
	switch t {
	case JPEG, PNG, WebP:
		return true
	}
	return false
}

func decode(t Type, r io.Reader) (image.Image, error) {
	switch t {
	case JPEG:
		return jpeg.Decode(r)
	case PNG:
		return png.Decode(r)
	case WebP:
		return webp.Decode(r)
	}
	return nil, fmt.Errorf("%w: %s", ErrNoDecoder, t)
}

// thumbSize is the size of src scaled so that its longer side is maxSide,
// never enlarged, never below one pixel.
func thumbSize(w, h, maxSide int) (int, int) {
	long := max(w, h)
	if long <= maxSide {
		return w, h
	}
	scaled := func(n int) int {
		return max(1, int((int64(n)*int64(maxSide)+int64(long)/2)/int64(long)))
	}
	return scaled(w), scaled(h)
}

// scale resamples img into a new RGBA of the thumbnail's size with
// CatmullRom, which widens its kernel when shrinking so that a photo does
// not alias. Its cost is some four colour conversions per source pixel,
// three times a 12 MP decode; so a decoded JPEG or lossy WebP (YCbCr) is
// first shrunk by a whole factor, averaging its planes, to no less than
// twice the thumbnail. Transparent pixels are composed over white: JPEG
// has no alpha.
func scale(img image.Image, maxSide int) *image.RGBA {
	w, h := thumbSize(img.Bounds().Dx(), img.Bounds().Dy(), maxSide)
	if y, ok := img.(*image.YCbCr); ok {
		if k := max(y.Rect.Dx(), y.Rect.Dy()) / (2 * maxSide); k >= 2 {
			if small, ok := shrinkYCbCr(y, k); ok {
				img = small
			}
		}
	}
	sb := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	op := xdraw.Src
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		xdraw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, xdraw.Src)
		op = xdraw.Over
	}
	if w == sb.Dx() && h == sb.Dy() {
		xdraw.Draw(dst, dst.Bounds(), img, sb.Min, op)
	} else {
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, sb, op, nil)
	}
	return dst
}

// shrinkYCbCr returns src made k times smaller (rounding up) by averaging
// each k×k block of each plane. The conversion to RGB is affine, so the
// average of the YCbCr is the YCbCr of the average, and no pixel is
// converted here. The chroma planes keep src's subsampling: for an image
// at the origin, as decoders make them, the smaller image's chroma size is
// src's chroma size made k times smaller (both are the size divided by k
// times the subsampling factor, rounded up); false for any other image.
func shrinkYCbCr(src *image.YCbCr, k int) (*image.YCbCr, bool) {
	r := src.Rect
	if r.Min != (image.Point{}) {
		return nil, false
	}
	dst := image.NewYCbCr(image.Rect(0, 0, (r.Dx()+k-1)/k, (r.Dy()+k-1)/k), src.SubsampleRatio)
	scw, sch := chromaSize(r, src.SubsampleRatio)
	dcw, dch := chromaSize(dst.Rect, dst.SubsampleRatio)
	if (scw+k-1)/k != dcw || (sch+k-1)/k != dch {
		return nil, false
	}
	shrinkPlane(dst.Y, dst.YStride, src.Y, src.YStride, r.Dx(), r.Dy(), k)
	shrinkPlane(dst.Cb, dst.CStride, src.Cb, src.CStride, scw, sch, k)
	shrinkPlane(dst.Cr, dst.CStride, src.Cr, src.CStride, scw, sch, k)
	return dst, true
}

// chromaSize is the size of the chroma planes of an image at the origin,
// as image.NewYCbCr lays them out.
func chromaSize(r image.Rectangle, ratio image.YCbCrSubsampleRatio) (w, h int) {
	w, h = r.Dx(), r.Dy()
	switch ratio {
	case image.YCbCrSubsampleRatio422:
		w = (w + 1) / 2
	case image.YCbCrSubsampleRatio420:
		w, h = (w+1)/2, (h+1)/2
	case image.YCbCrSubsampleRatio440:
		h = (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		w = (w + 3) / 4
	case image.YCbCrSubsampleRatio410:
		w, h = (w+3)/4, (h+1)/2
	}
	return w, h
}

// shrinkPlane writes into dst the averages of the k×k blocks of a w×h
// plane; blocks at the right and bottom edges average what they hold.
func shrinkPlane(dst []byte, dstStride int, src []byte, srcStride, w, h, k int) {
	dw := (w + k - 1) / k
	sums := make([]uint32, dw)
	for dy := 0; dy*k < h; dy++ {
		clear(sums)
		rows := min(k, h-dy*k)
		for sy := dy * k; sy < dy*k+rows; sy++ {
			row := src[sy*srcStride:][:w]
			for dx := range sums {
				var s uint32
				for _, v := range row[dx*k : min(dx*k+k, w)] {
					s += uint32(v)
				}
				sums[dx] += s
			}
		}
		out := dst[dy*dstStride:][:dw]
		for dx, s := range sums {
			n := uint32(rows * (min(dx*k+k, w) - dx*k))
			out[dx] = uint8((s + n/2) / n)
		}
	}
}

// orient returns src turned by an EXIF Orientation (1–8) so that it shows
// upright; other values leave it as it is.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 { // a quarter turn swaps the sides
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2: // mirrored left-right
				sx, sy = w-1-x, y
			case 3: // turned 180°
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored top-bottom
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // needs a quarter turn clockwise
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // needs a quarter turn counter-clockwise
				sx, sy = w-1-y, x
			}
			si, di := src.PixOffset(sx, sy), dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}

// readRecorder is recorder for a stream: it keeps the first error of r
// that is not io.EOF.
type readRecorder struct {
	r   io.Reader
	err error
}

func (c *readRecorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}
