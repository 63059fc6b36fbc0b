package photo

import (
	"bytes"
	"encoding/binary"
	"io"
)

// Where each type keeps its EXIF block. Every finder below walks the
// file's own structure with small reads, trusts no length it reads
// further than the bytes there are, gives up after a bounded number of
// steps, and returns nil whenever it cannot go on: missing EXIF and broken
// EXIF look the same to Inspect, by design.

// maxExif bounds the EXIF bytes read into memory. A JPEG's APP1 segment
// holds at most 64 KiB; other containers' EXIF is cut to the same, which
// keeps IFD0, the Exif and GPS IFDs (they come first) and drops at most
// the embedded thumbnail.
const maxExif = 64 << 10

// exifHeader starts the EXIF payload of a JPEG APP1 segment and, written
// by some tools, of a WebP EXIF chunk.
var exifHeader = []byte("Exif\x00\x00")

// jpegExif returns the TIFF bytes of the first APP1 Exif segment, looked
// for among the segments before the image data.
func jpegExif(r io.ReaderAt, size int64) (tiff []byte) {
	jpegSegments(r, size, func(marker byte, off, n int64) bool {
		if marker != 0xE1 || n < 2+int64(len(exifHeader)) {
			return true
		}
		var id [6]byte
		if readFull(r, id[:], off+4, size) && bytes.Equal(id[:], exifHeader) {
			tiff = readExif(r, off+4+6, n-2-6, size)
			return false
		}
		return true
	})
	return tiff
}

// jpegSegments calls fn with the marker, offset and length (its two
// length bytes included, the marker not) of each segment before the
// image data, until fn returns false.
func jpegSegments(r io.ReaderAt, size int64, fn func(marker byte, off, n int64) bool) {
	const maxSegments = 256
	off := int64(2) // past SOI
	for range maxSegments {
		var h [4]byte
		if !readFull(r, h[:], off, size) || h[0] != 0xFF {
			return
		}
		switch m := h[1]; {
		case m == 0xFF: // fill byte before a marker
			off++
			continue
		case m == 0x01 || m >= 0xD0 && m <= 0xD8: // TEM, RSTn, SOI: no length
			off += 2
			continue
		case m == 0xD9 || m == 0xDA: // EOI, SOS: the image data
			return
		}
		n := int64(binary.BigEndian.Uint16(h[2:])) // counts itself, not the marker
		if n < 2 || !fn(h[1], off, n) {
			return
		}
		off += 2 + n
	}
}

// pngExif returns the payload of the eXIf chunk if it precedes the image
// data, where the PNG specification asks encoders to put it. (An eXIf
// after IDAT is not looked for: reaching it would mean walking every IDAT
// chunk of the file.)
func pngExif(r io.ReaderAt, size int64) []byte {
	const maxChunks = 256
	off := int64(8) // past the signature
	for range maxChunks {
		var h [8]byte
		if !readFull(r, h[:], off, size) {
			return nil
		}
		n := int64(binary.BigEndian.Uint32(h[:4]))
		switch string(h[4:]) {
		case "eXIf":
			return readExif(r, off+8, n, size)
		case "IDAT", "IEND":
			return nil
		}
		off += 8 + n + 4 // length, type, data, CRC
	}
	return nil
}

// webpExif returns the payload of the EXIF chunk of an extended (VP8X)
// WebP. The format puts it after the image data, so when Inspect is given
// only the first bytes of a large WebP it is usually out of reach.
func webpExif(r io.ReaderAt, size int64) []byte {
	const maxChunks = 64
	off := int64(12) // past RIFF, its size, WEBP
	for range maxChunks {
		var h [8]byte
		if !readFull(r, h[:], off, size) {
			return nil
		}
		n := int64(binary.LittleEndian.Uint32(h[4:]))
		if string(h[:4]) == "EXIF" {
			b := readExif(r, off+8, n, size)
			return bytes.TrimPrefix(b, exifHeader)
		}
		off += 8 + n + n&1 // chunks are padded to an even length
	}
	return nil
}

// readExif reads the n bytes at off, cut to maxExif and to the end of the
// file; nil if there are none.
func readExif(r io.ReaderAt, off, n, size int64) []byte {
	n = min(n, maxExif, size-off)
	if off < 0 || n <= 0 {
		return nil
	}
	b := make([]byte, n)
	if !readFull(r, b, off, size) {
		return nil
	}
	return b
}

// readFull fills p from off, reporting whether it could: false for a read
// past size or a failed read (which the recorder keeps, if it was not EOF).
func readFull(r io.ReaderAt, p []byte, off, size int64) bool {
	if off < 0 || off > size-int64(len(p)) {
		return false
	}
	n, err := r.ReadAt(p, off)
	return n == len(p) && (err == nil || err == io.EOF)
}
