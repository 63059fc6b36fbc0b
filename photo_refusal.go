package fieldsync

import "time"

// RefusedUpload is a photo upload the server refused for good (not an
// image, too large, a sealed report, a slot the template lacks), kept on
// the report it was meant for so that the dispatcher sees the evidence
// that did not arrive. Staff read it on the report; customers never do.
type RefusedUpload struct {
	ReportID   string    `json:"report_id"`
	Slot       string    `json:"slot"`
	Filename   string    `json:"filename,omitempty"` // the file's name on the device
	SHA256     string    `json:"sha256,omitempty"`   // as the device declared it
	Size       int64     `json:"size"`               // as the device declared it
	Code       string    `json:"code"`               // the refusal's stable code
	Detail     string    `json:"detail"`
	UploadedBy string    `json:"uploaded_by"`
	DeviceID   string    `json:"device_id,omitempty"`
	At         time.Time `json:"at"`
}

// MaxRefusedUploads is how many refused uploads a report keeps: the
// newest; older ones are pruned as new ones come.
const MaxRefusedUploads = 20
