package photo

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
)

// A bounded walker of the ISO BMFF boxes of a HEIF file (ISO/IEC 14496-12,
// 23008-12), for two things: the primary image's size, from its ispe
// property, and its Exif item. The top-level boxes are walked with small
// reads; the meta box, where both are described, is read whole if it is at
// most maxMeta bytes (a phone's is a few KiB) and parsed from memory.
// A box whose size runs past its parent is where the walk of that level
// stops. Nothing here returns an error: what cannot be read is left out,
// and a file without a meta box holding a non-empty ispe is no HEIF image.

const (
	maxMeta     = 1 << 20 // bytes of the meta box read into memory
	maxTopBoxes = 64      // top-level boxes looked at for meta
)

// heifInfo is what the walk found.
type heifInfo struct {
	width, height int
	exif          []byte // TIFF bytes of the Exif item, nil if none
}

// inspectHEIF finds the meta box and reads it. It reports false unless
// the meta box gives the image a size: an ispe of non-zero sides.
func inspectHEIF(r io.ReaderAt, size int64) (heifInfo, bool) {
	hi := findMeta(r, size)
	return hi, hi.width > 0 && hi.height > 0
}

// findMeta walks the top-level boxes to the meta box and reads it.
func findMeta(r io.ReaderAt, size int64) heifInfo {
	off := int64(0)
	for range maxTopBoxes {
		var h [16]byte
		if !readFull(r, h[:8], off, size) {
			return heifInfo{}
		}
		n, hdr := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
		switch n {
		case 0: // to the end of the file
			n = size - off
		case 1: // a 64-bit size follows the type
			if !readFull(r, h[8:16], off+8, size) {
				return heifInfo{}
			}
			n, hdr = int64(binary.BigEndian.Uint64(h[8:16])), 16
		}
		if n < hdr || n > size-off {
			return heifInfo{}
		}
		if string(h[4:8]) == "meta" {
			if n-hdr > maxMeta {
				return heifInfo{}
			}
			meta := make([]byte, n-hdr)
			if !readFull(r, meta, off+hdr, size) {
				return heifInfo{}
			}
			return parseMeta(r, size, meta)
		}
		off += n
	}
	return heifInfo{}
}

// eachBox calls fn with the type and payload of each box in b, in order,
// until fn returns false or a box is malformed.
func eachBox(b []byte, fn func(typ string, payload []byte) bool) {
	for len(b) >= 8 {
		n, hdr := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		switch n {
		case 0:
			n = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return
			}
			n, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if n < hdr || n > uint64(len(b)) {
			return
		}
		if !fn(string(b[4:8]), b[hdr:n]) {
			return
		}
		b = b[n:]
	}
}

// fullBox splits a FullBox payload into version, flags and the rest.
func fullBox(p []byte) (version uint8, flags uint32, rest []byte, ok bool) {
	if len(p) < 4 {
		return 0, 0, nil, false
	}
	return p[0], binary.BigEndian.Uint32(p) & 0xFFFFFF, p[4:], true
}

// parseMeta reads the payload of the meta box (a FullBox).
func parseMeta(r io.ReaderAt, size int64, meta []byte) heifInfo {
	_, _, body, ok := fullBox(meta)
	if !ok {
		return heifInfo{}
	}
	var (
		primary    uint32
		hasPrimary bool
		exifItem   uint32
		hasExif    bool
		iloc       []byte
		props      [][]byte // ipco children; ipma indexes them from 1
		propTypes  []string // their types
		ipma       []byte
	)
	eachBox(body, func(typ string, p []byte) bool {
		switch typ {
		case "pitm":
			primary, hasPrimary = parsePitm(p)
		case "iinf":
			exifItem, hasExif = findExifItem(p)
		case "iloc":
			iloc = p
		case "iprp":
			eachBox(p, func(typ string, p []byte) bool {
				switch typ {
				case "ipco":
					eachBox(p, func(typ string, p []byte) bool {
						props = append(props, p)
						propTypes = append(propTypes, typ)
						return len(props) < 4096
					})
				case "ipma":
					if ipma == nil {
						ipma = p
					}
				}
				return true
			})
		}
		return true
	})

	var hi heifInfo
	// The primary item's own ispe; failing that (no pitm, no ipma), the
	// largest ispe there is: thumbnails, and tiles as a rule, are smaller
	// than the image they belong to.
	if hasPrimary {
		for _, idx := range itemProperties(ipma, primary) {
			if idx >= 1 && int(idx) <= len(props) && propTypes[idx-1] == "ispe" {
				hi.width, hi.height, _ = parseIspe(props[idx-1])
				break
			}
		}
	}
	if hi.width == 0 && hi.height == 0 {
		for i, p := range props {
			if propTypes[i] != "ispe" {
				continue
			}
			if w, h, ok := parseIspe(p); ok && int64(w)*int64(h) > int64(hi.width)*int64(hi.height) {
				hi.width, hi.height = w, h
			}
		}
	}
	if hasExif && iloc != nil {
		if off, n, ok := itemExtent(iloc, exifItem); ok {
			hi.exif = exifItemTIFF(r, size, off, n)
		}
	}
	return hi
}

// parsePitm reads the primary item's ID.
func parsePitm(p []byte) (uint32, bool) {
	v, _, b, ok := fullBox(p)
	switch {
	case !ok:
		return 0, false
	case v == 0 && len(b) >= 2:
		return uint32(binary.BigEndian.Uint16(b)), true
	case v > 0 && len(b) >= 4:
		return binary.BigEndian.Uint32(b), true
	}
	return 0, false
}

// parseIspe reads an image spatial extents property. Sizes that do not
// fit an int32 are no size.
func parseIspe(p []byte) (w, h int, ok bool) {
	_, _, b, ok := fullBox(p)
	if !ok || len(b) < 8 {
		return 0, 0, false
	}
	w64, h64 := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if w64 > math.MaxInt32 || h64 > math.MaxInt32 {
		return 0, 0, false
	}
	return int(w64), int(h64), true
}

// itemProperties returns the 1-based indices into ipco of the properties
// an ipma box associates with item (its first entry for item).
func itemProperties(p []byte, item uint32) []uint16 {
	v, flags, b, ok := fullBox(p)
	if !ok || len(b) < 4 {
		return nil
	}
	count := binary.BigEndian.Uint32(b)
	b = b[4:]
	idSize, idxSize := 2, 1
	if v >= 1 {
		idSize = 4
	}
	if flags&1 != 0 {
		idxSize = 2
	}
	for i := uint32(0); i < count && len(b) >= idSize+1; i++ {
		var id uint32
		if idSize == 2 {
			id = uint32(binary.BigEndian.Uint16(b))
		} else {
			id = binary.BigEndian.Uint32(b)
		}
		n := int(b[idSize])
		b = b[idSize+1:]
		if len(b) < n*idxSize {
			return nil
		}
		if id == item {
			idx := make([]uint16, n)
			for j := range idx {
				if idxSize == 2 {
					idx[j] = binary.BigEndian.Uint16(b[2*j:]) & 0x7FFF // the top bit marks "essential"
				} else {
					idx[j] = uint16(b[j] & 0x7F)
				}
			}
			return idx
		}
		b = b[n*idxSize:]
	}
	return nil
}

// findExifItem returns the ID of the first item of type Exif in an iinf
// box. Only infe version 2 and 3 entries name a type.
func findExifItem(p []byte) (uint32, bool) {
	v, _, b, ok := fullBox(p)
	if !ok {
		return 0, false
	}
	if v == 0 {
		if len(b) < 2 {
			return 0, false
		}
		b = b[2:]
	} else {
		if len(b) < 4 {
			return 0, false
		}
		b = b[4:]
	}
	var id uint32
	found := false
	eachBox(b, func(typ string, p []byte) bool {
		if typ != "infe" {
			return true
		}
		v, _, e, ok := fullBox(p)
		switch {
		case !ok || v < 2:
			return true
		case v == 2 && len(e) >= 8:
			if string(e[4:8]) == "Exif" {
				id, found = uint32(binary.BigEndian.Uint16(e)), true
			}
		case v >= 3 && len(e) >= 10:
			if string(e[6:10]) == "Exif" {
				id, found = binary.BigEndian.Uint32(e), true
			}
		}
		return !found
	})
	return id, found
}

// itemExtent returns the file offset and length of the first extent of
// item in an iloc box. Items stored elsewhere than in the file's own
// bytes (construction method 1 or 2, another data reference) are not
// followed.
func itemExtent(p []byte, item uint32) (off, n uint64, ok bool) {
	v, _, b, ok := fullBox(p)
	if !ok || v > 2 || len(b) < 2 {
		return 0, 0, false
	}
	offSize, lenSize := int(b[0]>>4), int(b[0]&0x0F)
	baseSize, idxSize := int(b[1]>>4), 0
	if v >= 1 {
		idxSize = int(b[1] & 0x0F)
	}
	b = b[2:]
	rd := func(size int) (uint64, bool) {
		if len(b) < size {
			return 0, false
		}
		var x uint64
		switch size {
		case 0:
		case 2:
			x = uint64(binary.BigEndian.Uint16(b))
		case 4:
			x = uint64(binary.BigEndian.Uint32(b))
		case 8:
			x = binary.BigEndian.Uint64(b)
		default:
			return 0, false
		}
		b = b[size:]
		return x, true
	}
	idSize := 2
	if v == 2 {
		idSize = 4
	}
	count, ok := rd(idSize)
	if !ok {
		return 0, 0, false
	}
	for range min(count, 1<<16) {
		id, ok1 := rd(idSize)
		method := uint64(0)
		ok2 := true
		if v >= 1 {
			method, ok2 = rd(2)
			method &= 0x0F
		}
		dataRef, ok3 := rd(2)
		base, ok4 := rd(baseSize)
		extents, ok5 := rd(2)
		if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
			return 0, 0, false
		}
		if extents == 0 {
			continue
		}
		// The first extent is the one we want; the rest are skipped whole,
		// once their bytes are known to be there.
		if _, ok := rd(idxSize); !ok {
			return 0, 0, false
		}
		eo, ok1 := rd(offSize)
		el, ok2 := rd(lenSize)
		if !ok1 || !ok2 {
			return 0, 0, false
		}
		if id == uint64(item) {
			if method != 0 || dataRef != 0 || base+eo < base {
				return 0, 0, false
			}
			return base + eo, el, true
		}
		rest := (extents - 1) * uint64(idxSize+offSize+lenSize)
		if rest > uint64(len(b)) {
			return 0, 0, false
		}
		b = b[rest:]
	}
	return 0, 0, false
}

// exifItemTIFF reads an Exif item: a 32-bit offset to the TIFF header
// (past an "Exif\0\0" most writers put there), then the TIFF bytes. An
// extent length of 0 means "to the end of the file".
func exifItemTIFF(r io.ReaderAt, size int64, off, n uint64) []byte {
	if off > uint64(size) {
		return nil
	}
	if n == 0 || n > uint64(size) {
		n = uint64(size)
	}
	b := readExif(r, int64(off), int64(n), size)
	if len(b) < 4 {
		return nil
	}
	skip := uint64(binary.BigEndian.Uint32(b))
	if skip > uint64(len(b)-4) {
		return nil
	}
	tiff := b[4+skip:]
	if !bytes.HasPrefix(tiff, []byte("II")) && !bytes.HasPrefix(tiff, []byte("MM")) {
		return nil
	}
	return tiff
}
