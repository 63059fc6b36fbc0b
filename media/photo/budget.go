package photo

import (
	"bytes"
	"image"
	"image/color"
)

// MaxDecodeBytes is the memory Thumbnail may spend on one photo: the
// decoded picture with the decoder's own buffers, and the scaler's. It is
// estimated from the header, by bytes per pixel (the colour model, bit
// depth and channels the header declares, a JPEG's chroma subsampling and
// progressive coefficients), before any pixel is decoded; a photo over it
// gets ErrTooLarge and is kept without a thumbnail. Pixel count alone is
// no bound: a 16-bit RGBA PNG takes eight bytes a pixel, a progressive
// JPEG four more per sample for its coefficients. 256 MiB takes a 48 MP
// baseline JPEG (about 75 MB) or a 12 MP RGBA PNG (about 80 MB) and
// refuses a 7000×7000 16-bit PNG (about 460 MB). The server makes one
// thumbnail at a time.
const MaxDecodeBytes = 256 << 20

// decodeCost estimates the bytes Thumbnail spends to decode and scale an
// image of type t with header cfg; head holds the file's bytes up to and
// including its header.
func decodeCost(t Type, cfg image.Config, head []byte, maxSide int) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	// Bytes per pixel, in eighths.
	var eighths int64
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		eighths = 8
	case color.Gray16Model, color.Alpha16Model:
		eighths = 16
	case color.YCbCrModel:
		eighths = 12 // 4:2:0, as lossy WebP always is
	case color.NYCbCrAModel:
		// A lossy WebP's alpha plane is decoded as a lossless picture of
		// four bytes a pixel, then kept as one.
		eighths = 12 + 8 + 32
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		eighths = 32
	default: // 16-bit colour, and anything not named here
		eighths = 64
	}
	if _, ok := cfg.ColorModel.(color.Palette); ok {
		eighths = 8
	}
	switch t {
	case JPEG:
		if f, ok := jpegFrame(bytes.NewReader(head), int64(len(head))); ok {
			eighths = f.samples
			if f.components == 4 {
				eighths += 32 // converted to CMYK beside its planes
			}
			if f.progressive {
				eighths += 4 * f.samples // a 32-bit coefficient per sample
			}
		}
	case PNG:
		if len(head) > 28 && head[28] == 1 {
			// Adam7: each pass is decoded apart, then merged; the largest
			// is half the picture.
			eighths += eighths / 2
		}
	case WebP:
		if cfg.ColorModel == color.NRGBAModel {
			eighths = 64 // lossless: the transforms copy the picture
		}
	}
	cost := px * eighths / 8
	// The scaler: a YCbCr picture is first shrunk by a whole factor k to
	// no less than twice the thumbnail, the rest keep every source row;
	// CatmullRom holds four float64s per pixel of a column of the
	// thumbnail's width and the source's height.
	tw, _ := thumbSize(cfg.Width, cfg.Height, maxSide)
	rows := int64(cfg.Height)
	if k := max(cfg.Width, cfg.Height) / (2 * maxSide); k >= 2 && (cfg.ColorModel == color.YCbCrModel) {
		rows = (rows + int64(k) - 1) / int64(k)
		cost += px / int64(k*k) * 2
	}
	return cost + 32*int64(tw)*rows
}

// frame is what a JPEG's frame header says of its decoding.
type frame struct {
	components  int
	samples     int64 // samples per pixel over all components, in eighths
	progressive bool
}

// jpegFrame reads a JPEG's frame header (SOF0–SOF15 but DHT, JPG, DAC).
func jpegFrame(r *bytes.Reader, size int64) (f frame, ok bool) {
	jpegSegments(r, size, func(marker byte, off, n int64) bool {
		if marker < 0xC0 || marker > 0xCF || marker == 0xC4 || marker == 0xC8 || marker == 0xCC {
			return true
		}
		// Length, precision, height, width, component count, then per
		// component: id, sampling factors (H<<4 | V), table.
		var h [8]byte
		if !readFull(r, h[:], off+2, size) {
			return false
		}
		nc := int(h[7])
		if nc < 1 || nc > 4 || n < int64(8+3*nc) {
			return false
		}
		c := make([]byte, 3*nc)
		if !readFull(r, c, off+10, size) {
			return false
		}
		var hmax, vmax, sum int64 = 1, 1, 0
		for i := range nc {
			hmax, vmax = max(hmax, int64(c[3*i+1]>>4)), max(vmax, int64(c[3*i+1]&0x0F))
		}
		for i := range nc {
			sum += int64(c[3*i+1]>>4) * int64(c[3*i+1]&0x0F)
		}
		f = frame{components: nc, samples: sum * 8 / (hmax * vmax), progressive: marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE}
		ok = sum > 0
		return false
	})
	return f, ok
}
