package signature

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/png"
	"math"

	"github.com/fieldsync/fieldsync"
)

// Image sizes Render takes, in pixels a side.
const (
	MinSide = 16
	MaxSide = 2048
)

// Keyword is the keyword of the PNG tEXt chunk that carries the strokes.
const Keyword = "fieldsync-strokes"

// sub is the anti-aliasing: each pixel is sub×sub samples, and its grey
// is the share of them the pen covers.
const sub = 4

// Render draws s, validated first, as a w×h greyscale PNG: black lines
// on white, the strokes' bounding box scaled to fit inside a margin and
// centred, keeping its proportions. The pen is round, min(w, h)/50
// pixels wide (at least 2); a one-point stroke is a dot. The PNG carries
// s as JSON in a tEXt chunk with keyword Keyword, before IEND. The same s,
// w and h always give the same bytes. Errors are fieldsync EInvalid.
func Render(s Strokes, w, h int) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if w < MinSide || h < MinSide || w > MaxSide || h > MaxSide {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature image %d×%d: each side must be from %d to %d pixels", w, h, MinSide, MaxSide)
	}
	text, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	img := draw(s, w, h)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	iend := out[len(out)-12:] // the encoder ends with an empty IEND chunk
	chunk := pngChunk("tEXt", append([]byte(Keyword+"\x00"), text...))
	res := make([]byte, 0, len(out)+len(chunk))
	res = append(res, out[:len(out)-12]...)
	res = append(res, chunk...)
	return append(res, iend...), nil
}

// pngChunk lays out one PNG chunk: length, type, data, CRC-32 of type
// and data.
func pngChunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// draw rasterises s at sub×sub samples a pixel, then averages.
func draw(s Strokes, w, h int) *image.Gray {
	r := max(1, min(w, h)/100) // pen radius in pixels
	margin := r + 1
	R := int64(r * sub) // pen radius in samples
	W, H := int64(w*sub), int64(h*sub)

	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, st := range s {
		for _, p := range st {
			minX, maxX = min(minX, p.X), max(maxX, p.X)
			minY, maxY = min(minY, p.Y), max(maxY, p.Y)
		}
	}
	bw, bh := maxX-minX, maxY-minY
	availW, availH := float64((w-2*margin)*sub), float64((h-2*margin)*sub)
	scale := 0.0 // a single dot: drawn in the middle
	switch {
	case bw > 0 && bh > 0:
		scale = min(availW/bw, availH/bh)
	case bw > 0:
		scale = availW / bw
	case bh > 0:
		scale = availH / bh
	}
	// Each product is rounded on its own (the explicit conversions forbid
	// fusing it with the addition), so every platform gets the same
	// samples.
	offX := (float64(W) - float64(bw*scale)) / 2
	offY := (float64(H) - float64(bh*scale)) / 2
	at := func(p Point) (int64, int64) {
		x := int64(math.Round(float64((p.X-minX)*scale) + offX))
		y := int64(math.Round(float64((p.Y-minY)*scale) + offY))
		return min(max(x, 0), W-1), min(max(y, 0), H-1)
	}

	c := &canvas{w: W, h: H, bits: make([]uint64, (W*H+63)/64)}
	for _, st := range s {
		ax, ay := at(st[0])
		if len(st) == 1 {
			c.segment(ax, ay, ax, ay, R)
		}
		for _, p := range st[1:] {
			bx, by := at(p)
			c.segment(ax, ay, bx, by, R)
			ax, ay = bx, by
		}
	}

	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := 0
			for j := range sub {
				for i := range sub {
					if c.get(int64(x*sub+i), int64(y*sub+j)) {
						n++
					}
				}
			}
			img.Pix[y*img.Stride+x] = uint8(255 - (n*255+sub*sub/2)/(sub*sub))
		}
	}
	return img
}

// canvas is a bitmap of samples, set where the pen passed.
type canvas struct {
	w, h int64
	bits []uint64
}

func (c *canvas) get(x, y int64) bool {
	i := y*c.w + x
	return c.bits[i/64]&(1<<(i%64)) != 0
}

func (c *canvas) set(x, y int64) {
	i := y*c.w + x
	c.bits[i/64] |= 1 << (i % 64)
}

// segment sets every sample within R of the segment from a to b (a
// capsule), in integer arithmetic. It walks the longer axis and, at each
// step, tests a window across the line that holds every sample of the
// capsule there, so the work is the segment's length times the pen's
// width, not its bounding box.
func (c *canvas) segment(ax, ay, bx, by, R int64) {
	dx, dy := bx-ax, by-ay
	if abs(dx) >= abs(dy) {
		c.sweep(ax, ay, bx, by, R, false)
	} else {
		c.sweep(ay, ax, by, bx, R, true)
	}
}

// sweep walks the major axis (x unless swapped) from a to b, |b-a| along
// it at least as long as across.
func (c *canvas) sweep(am, an, bm, bn, R int64, swapped bool) {
	dm, dn := bm-am, bn-an
	lo, hi := min(am, bm), max(am, bm)
	limM, limN := c.w, c.h
	if swapped {
		limM, limN = c.h, c.w
	}
	for m := max(lo-R, 0); m <= min(hi+R, limM-1); m++ {
		// The line's minor coordinate at m, held at the ends; a sample of
		// the capsule lies within 2R of it (the slope is at most 1).
		centre := an
		if dm != 0 {
			centre = an + (min(max(m, lo), hi)-am)*dn/dm
		}
		for n := max(centre-2*R-2, 0); n <= min(centre+2*R+2, limN-1); n++ {
			if inCapsule(m-am, n-an, dm, dn, R) {
				if swapped {
					c.set(n, m)
				} else {
					c.set(m, n)
				}
			}
		}
	}
}

// inCapsule reports whether the point e (relative to the segment's start)
// is within r of the segment from 0 to d.
func inCapsule(ex, ey, dx, dy, r int64) bool {
	dd := dx*dx + dy*dy
	dot := ex*dx + ey*dy
	switch {
	case dd == 0 || dot <= 0:
		return ex*ex+ey*ey <= r*r
	case dot >= dd:
		fx, fy := ex-dx, ey-dy
		return fx*fx+fy*fy <= r*r
	}
	cross := ex*dy - ey*dx
	return cross*cross <= r*r*dd
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// FromPNG reads back the strokes a PNG made by Render carries, and
// validates them. It walks the PNG's chunks, checking each one's length
// and CRC, up to IEND. A file that is not a PNG, has a broken chunk,
// carries no strokes or carries them twice gets a fieldsync EInvalid.
// It does not check that the picture is the one the strokes draw: render
// them again and compare the bytes for that.
func FromPNG(b []byte) (Strokes, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature image is not a PNG")
	}
	var found []byte
	seen := false
	for off := len(sig); ; {
		if len(b)-off < 12 {
			return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature PNG ends at byte %d without an IEND chunk", off)
		}
		n := binary.BigEndian.Uint32(b[off:])
		if uint64(n) > uint64(len(b)-off-12) {
			return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature PNG chunk at byte %d claims %d bytes, more than the file holds", off, n)
		}
		end := off + 8 + int(n)
		typ, data := string(b[off+4:off+8]), b[off+8:end]
		if crc32.ChecksumIEEE(b[off+4:end]) != binary.BigEndian.Uint32(b[end:]) {
			return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature PNG chunk %q at byte %d: CRC does not match", typ, off)
		}
		switch {
		case typ == "IEND":
			if !seen {
				return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature PNG carries no %s text chunk", Keyword)
			}
			return Parse(found)
		case typ == "tEXt" && bytes.HasPrefix(data, []byte(Keyword+"\x00")):
			if seen {
				return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature PNG carries two %s text chunks", Keyword)
			}
			seen, found = true, data[len(Keyword)+1:]
		}
		off = end + 4
	}
}
