package fieldsync

import "time"

// Photo is a piece of evidence: an image stored once under the SHA-256 of
// its bytes, attached to a report's slot (serial plate, damage, invoice…).
// The same bytes uploaded from two devices are one Photo.
type Photo struct {
	SHA256     string     `json:"sha256"` // lower-case hex; also its name in the blob store
	Size       int64      `json:"size"`
	Type       string     `json:"type"` // image/jpeg, image/png, image/webp, image/heic
	Width      int        `json:"width,omitempty"`
	Height     int        `json:"height,omitempty"`
	CapturedAt *time.Time `json:"captured_at,omitempty"` // from EXIF, else what the device said
	GPS        *GPS       `json:"gps,omitempty"`
	Thumbnail  bool       `json:"thumbnail"` // a thumbnail exists (not for HEIC)
	ReportID   string     `json:"report_id"`
	Slot       string     `json:"slot"`
	Filename   string     `json:"filename,omitempty"`
	UploadedBy string     `json:"uploaded_by"`
	DeviceID   string     `json:"device_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// GPS is where a photo was taken, in decimal degrees.
type GPS struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// ValidSHA256 reports whether s is a lower-case hex SHA-256.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
