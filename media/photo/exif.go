package photo

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// A reader of the TIFF structure inside EXIF, limited to the tags we use.
// It works on a byte slice already bounded by maxExif, follows only the
// two pointers of IFD0 (Exif IFD, GPS IFD), never the IFD chain, so it
// cannot loop, and takes every value as a sub-slice after checking it lies
// inside the block: it allocates nothing that a file can make large.
// A value that is missing, of the wrong type or out of range leaves its
// field out; the other fields stand.

// Tags, by the IFD they live in (EXIF 2.32 / CIPA DC-008).
const (
	tagOrientation        = 0x0112 // IFD0
	tagExifIFD            = 0x8769 // IFD0
	tagGPSIFD             = 0x8825 // IFD0
	tagDateTimeOriginal   = 0x9003 // Exif IFD
	tagOffsetTimeOriginal = 0x9011 // Exif IFD
	tagGPSLatitudeRef     = 0x0001 // GPS IFD
	tagGPSLatitude        = 0x0002
	tagGPSLongitudeRef    = 0x0003
	tagGPSLongitude       = 0x0004
)

// TIFF field types and their sizes in bytes.
const (
	typeByte      = 1
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeUndefined = 7
	typeIFD       = 13
)

var typeSize = map[uint16]uint64{typeByte: 1, typeASCII: 1, typeShort: 2, typeLong: 4, typeRational: 8, typeUndefined: 1, typeIFD: 4}

// chinaTime is the zone of a capture time that does not state its own.
var chinaTime = time.FixedZone("CST", 8*60*60)

// exifFields are the EXIF values Inspect reports.
type exifFields struct {
	capturedAt  *time.Time
	gps         *GPS
	orientation int
}

// tiffBlock is an EXIF TIFF structure: the byte order, and the bytes that
// offsets count from.
type tiffBlock struct {
	b  []byte
	bo binary.ByteOrder
}

// entry is one IFD entry with its value bytes (nil if they lie outside
// the block or the type is not one we read).
type entry struct {
	typ   uint16
	count uint32
	val   []byte
}

// parseExif reads our fields from a TIFF block (starting with II or MM).
func parseExif(b []byte) exifFields {
	var x exifFields
	if len(b) < 8 {
		return x
	}
	t := tiffBlock{b: b}
	switch string(b[:2]) {
	case "II":
		t.bo = binary.LittleEndian
	case "MM":
		t.bo = binary.BigEndian
	default:
		return x
	}
	if t.bo.Uint16(b[2:]) != 42 {
		return x
	}
	ifd0 := t.ifd(t.bo.Uint32(b[4:]))
	if v, ok := t.uint(ifd0[tagOrientation]); ok && v >= 1 && v <= 8 {
		x.orientation = int(v)
	}
	if off, ok := t.uint(ifd0[tagExifIFD]); ok {
		exif := t.ifd(off)
		x.capturedAt = captureTime(t.ascii(exif[tagDateTimeOriginal]), t.ascii(exif[tagOffsetTimeOriginal]))
	}
	if off, ok := t.uint(ifd0[tagGPSIFD]); ok {
		gps := t.ifd(off)
		lat, okLat := t.degrees(gps[tagGPSLatitude], t.ascii(gps[tagGPSLatitudeRef]), "N", "S", 90)
		lng, okLng := t.degrees(gps[tagGPSLongitude], t.ascii(gps[tagGPSLongitudeRef]), "E", "W", 180)
		// 0,0 is what some devices write without a fix; no technician
		// works in the Gulf of Guinea.
		if okLat && okLng && (lat != 0 || lng != 0) {
			x.gps = &GPS{Lat: lat, Lng: lng}
		}
	}
	return x
}

// ifd returns the entries of the IFD at off that carry one of our tags.
// Entries past the end of the block are dropped.
func (t tiffBlock) ifd(off uint32) map[uint16]entry {
	m := map[uint16]entry{}
	if uint64(off)+2 > uint64(len(t.b)) {
		return m
	}
	n := uint64(t.bo.Uint16(t.b[off:]))
	n = min(n, (uint64(len(t.b))-uint64(off)-2)/12)
	for i := range n {
		e := t.b[uint64(off)+2+12*i:][:12]
		tag := t.bo.Uint16(e)
		switch tag {
		case tagOrientation, tagExifIFD, tagGPSIFD, tagDateTimeOriginal, tagOffsetTimeOriginal,
			tagGPSLatitudeRef, tagGPSLatitude, tagGPSLongitudeRef, tagGPSLongitude:
		default:
			continue
		}
		if _, dup := m[tag]; dup { // the first one counts
			continue
		}
		en := entry{typ: t.bo.Uint16(e[2:]), count: t.bo.Uint32(e[4:])}
		if size, ok := typeSize[en.typ]; ok {
			total := size * uint64(en.count)
			if total <= 4 {
				en.val = e[8 : 8+total]
			} else if at := uint64(t.bo.Uint32(e[8:])); at+total <= uint64(len(t.b)) {
				en.val = t.b[at : at+total]
			}
		}
		m[tag] = en
	}
	return m
}

// uint returns the first value of a SHORT, LONG or IFD entry.
func (t tiffBlock) uint(e entry) (uint32, bool) {
	switch {
	case e.typ == typeShort && len(e.val) >= 2:
		return uint32(t.bo.Uint16(e.val)), true
	case (e.typ == typeLong || e.typ == typeIFD) && len(e.val) >= 4:
		return t.bo.Uint32(e.val), true
	}
	return 0, false
}

// ascii returns an ASCII (or, as some writers have it, UNDEFINED) value
// up to its first NUL, without surrounding spaces.
func (t tiffBlock) ascii(e entry) string {
	if e.typ != typeASCII && e.typ != typeUndefined {
		return ""
	}
	s := string(e.val)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// degrees turns a GPS coordinate (three RATIONALs: degrees, minutes,
// seconds) and its reference into signed decimal degrees. Without a known
// reference there is no sign, hence no coordinate.
func (t tiffBlock) degrees(e entry, ref, pos, neg string, limit float64) (float64, bool) {
	var sign float64
	switch strings.ToUpper(ref) {
	case pos:
		sign = 1
	case neg:
		sign = -1
	default:
		return 0, false
	}
	if e.typ != typeRational || len(e.val) < 3*8 {
		return 0, false
	}
	var dms [3]float64
	for i := range dms {
		num, den := t.bo.Uint32(e.val[8*i:]), t.bo.Uint32(e.val[8*i+4:])
		if den == 0 {
			return 0, false
		}
		dms[i] = float64(num) / float64(den)
	}
	d := dms[0] + dms[1]/60 + dms[2]/3600
	if math.IsNaN(d) || d > limit {
		return 0, false
	}
	return sign * d, true
}

// captureTime parses DateTimeOriginal ("2006:01:02 15:04:05") in the zone
// of OffsetTimeOriginal ("+08:00"), or China time without one. Blank and
// zeroed dates, which cameras without a clock write, are no time.
func captureTime(dt, offset string) *time.Time {
	if len(dt) < 19 {
		return nil
	}
	zone := chinaTime
	if z, ok := parseOffset(offset); ok {
		zone = z
	}
	t, err := time.ParseInLocation("2006:01:02 15:04:05", dt[:19], zone)
	if err != nil || t.Year() < 1900 {
		return nil
	}
	t = t.UTC()
	return &t
}

// parseOffset reads an EXIF offset time, "+08:00" or "-05:30".
func parseOffset(s string) (*time.Location, bool) {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return nil, false
	}
	hh, ok1 := twoDigits(s[1:3])
	mm, ok2 := twoDigits(s[4:6])
	if !ok1 || !ok2 || hh > 14 || mm > 59 {
		return nil, false
	}
	secs := (hh*60 + mm) * 60
	if s[0] == '-' {
		secs = -secs
	}
	return time.FixedZone(s, secs), true
}

func twoDigits(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}
