package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"time"

	"golang.org/x/image/webp"
)

// Type is a photo's content type, as a MIME type. The values are the ones
// fieldsync.Photo.Type holds.
type Type string

// The types of photo we accept.
const (
	JPEG Type = "image/jpeg"
	PNG  Type = "image/png"
	WebP Type = "image/webp"
	HEIC Type = "image/heic" // HEIC and other HEIF still images
)

// MaxPixels is the most pixels (width × height) a photo may have. The
// biggest tablet and phone cameras make 48–50 MP; past that a file is a
// decompression bomb, refused from its header before any pixel is decoded:
// decoding a 20000×20000 JPEG would take more than a gigabyte.
const MaxPixels = 50_000_000

// Errors, tested with errors.Is; the errors returned wrap them with detail.
var (
	// ErrNotImage: the bytes are not a JPEG, PNG, WebP or HEIC image, or
	// its header is too broken to read.
	ErrNotImage = errors.New("photo: not a JPEG, PNG, WebP or HEIC image")
	// ErrTooLarge: the image has more than MaxPixels pixels.
	ErrTooLarge = errors.New("photo: image has too many pixels")
	// ErrNoDecoder: the type is understood but its pixels cannot be
	// decoded here (HEIC: there is no pure-Go HEVC decoder). The photo is
	// kept without a thumbnail.
	ErrNoDecoder = errors.New("photo: no decoder for this image type")
)

// Info is what Inspect learns about a photo without decoding its pixels.
type Info struct {
	Type Type
	// Width and Height are as stored, before Orientation is applied;
	// never 0.
	Width, Height int
	// CapturedAt is the EXIF DateTimeOriginal, in UTC; nil if absent or
	// unreadable. With OffsetTimeOriginal it is exact. Without it the
	// camera's local time is taken to be China Standard Time (UTC+8, no
	// daylight saving): our technicians work in China, and EXIF has no
	// better default.
	CapturedAt *time.Time
	// GPS is where the photo was taken; nil if absent or unreadable.
	GPS *GPS
	// Orientation is the EXIF Orientation, 1–8 (1: as stored; 6: turn 90°
	// clockwise to view), or 0 when the photo does not say (treat as 1).
	// For HEIC it is the Exif tag only; the irot/imir properties are not
	// read.
	Orientation int
}

// GPS is a position in decimal degrees: Lat north positive, Lng east
// positive. It converts to fieldsync.GPS.
type GPS struct {
	Lat, Lng float64
}

// SniffLen is how many leading bytes Sniff reads at most. Sixteen bytes
// identify every type; HEIC is told apart from AVIF better with the whole
// ftyp box, which this covers in practice.
const SniffLen = 64

// MaxBytes is the most bytes a photo may hold: the server refuses a larger
// upload (too_large) and a device refuses to attach one.
const MaxBytes = 32 << 20

// Sniff tells the type of a photo from its first bytes (see SniffLen),
// whatever its name says: JPEG (FF D8 FF), PNG (its 8-byte signature),
// WebP (RIFF....WEBP) or HEIC (an ISO BMFF ftyp box with a HEIF still-image
// brand: heic, heix, hevc, heim, heis, mif1, msf1; a file that also names
// an AVIF brand is AVIF, which we do not take). Anything else returns an
// error wrapping ErrNotImage.
func Sniff(head []byte) (Type, error) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP, nil
	case len(head) >= 12 && string(head[4:8]) == "ftyp" && heifBrands(head):
		return HEIC, nil
	}
	if len(head) == 0 {
		return "", fmt.Errorf("%w: empty", ErrNotImage)
	}
	return "", fmt.Errorf("%w: content starts %q", ErrNotImage, head[:min(len(head), 8)])
}

// heifBrands reports whether the ftyp box at the start of head names a
// HEIF still-image brand and no AVIF brand. Brands past the end of head
// are not seen.
func heifBrands(head []byte) bool {
	end := min(int64(len(head)), int64(binary.BigEndian.Uint32(head)))
	if end < 16 { // a box size of 0 or 1, or a truncated head: the major brand only
		end = 12
	}
	heif := false
	for i := int64(8); i+4 <= end; i += 4 {
		if i == 12 { // minor_version
			continue
		}
		switch string(head[i : i+4]) {
		case "heic", "heix", "hevc", "heim", "heis", "mif1", "msf1":
			heif = true
		case "avif", "avis":
			return false
		}
	}
	return heif
}

// Inspect reads what a photo says about itself: its type by content, its
// dimensions from the header, and from EXIF its capture time, GPS position
// and orientation. It never decodes pixels, and reads little: the header,
// and the EXIF block up to maxExif bytes. size may be less than the file's
// (its first bytes only): what lies beyond is not seen.
//
// Errors: ErrNotImage (not one of our types, a header too broken for its
// dimensions, a width or height of 0, a HEIF without a meta box holding
// an ispe property within size), ErrTooLarge (more than MaxPixels), or an error of r.
// EXIF that cannot be read is no error: its fields are left out.
func Inspect(r io.ReaderAt, size int64) (Info, error) {
	if size < 0 {
		return Info{}, fmt.Errorf("photo: negative size %d", size)
	}
	rec := &recorder{r: r}
	head := make([]byte, min(size, SniffLen))
	n, _ := rec.ReadAt(head, 0)
	if rec.err != nil {
		return Info{}, fmt.Errorf("photo: read: %w", rec.err)
	}
	typ, err := Sniff(head[:n])
	if err != nil {
		return Info{}, err
	}
	info := Info{Type: typ}
	var tiff []byte
	if typ == HEIC {
		hi, ok := inspectHEIF(rec, size)
		if rec.err != nil {
			return Info{}, fmt.Errorf("photo: read: %w", rec.err)
		}
		if !ok {
			// An ftyp box alone says nothing of what follows it.
			return Info{}, fmt.Errorf("%w: HEIF without a meta box holding an ispe property in reach", ErrNotImage)
		}
		info.Width, info.Height, tiff = hi.width, hi.height, hi.exif
	} else {
		cfg, err := decodeConfig(typ, io.NewSectionReader(rec, 0, size))
		if rec.err != nil {
			return Info{}, fmt.Errorf("photo: read: %w", rec.err)
		}
		if err != nil {
			return Info{}, fmt.Errorf("%w: %s header: %v", ErrNotImage, typ, err)
		}
		info.Width, info.Height = cfg.Width, cfg.Height
		switch typ {
		case JPEG:
			tiff = jpegExif(rec, size)
		case PNG:
			tiff = pngExif(rec, size)
		case WebP:
			tiff = webpExif(rec, size)
		}
	}
	if rec.err != nil {
		return Info{}, fmt.Errorf("photo: read: %w", rec.err)
	}
	if err := checkPixels(info.Width, info.Height); err != nil {
		return Info{}, err
	}
	x := parseExif(tiff)
	info.CapturedAt, info.GPS, info.Orientation = x.capturedAt, x.gps, x.orientation
	return info, nil
}

// checkPixels refuses dimensions past MaxPixels, or an empty image.
func checkPixels(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %d×%d", ErrNotImage, w, h)
	}
	if int64(w)*int64(h) > MaxPixels {
		return fmt.Errorf("%w: %d×%d is more than %d pixels", ErrTooLarge, w, h, MaxPixels)
	}
	return nil
}

// decodeConfig reads the header of an image of a known type. Each type's
// own decoder is called, rather than image.DecodeConfig, so that what
// decodes does not depend on which formats some other package registered.
func decodeConfig(t Type, r io.Reader) (image.Config, error) {
	switch t {
	case JPEG:
		return jpeg.DecodeConfig(r)
	case PNG:
		return png.DecodeConfig(r)
	case WebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("%w: no header reader for %q", ErrNoDecoder, t)
}

// recorder passes reads through and keeps the first error of the
// underlying reader that is not io.EOF, so that a failing store is told
// apart from a broken image (whose decoder turns any short read into its
// own format error).
type recorder struct {
	r   io.ReaderAt
	err error
}

func (c *recorder) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}
