package tus

import "time"

// Upload is an upload in progress, as the server's store keeps it.
type Upload struct {
	ID        string            `json:"id"`
	UserID    string            `json:"user_id"`
	DeviceID  string            `json:"device_id,omitempty"`
	Length    int64             `json:"length"`
	Metadata  map[string]string `json:"metadata"`
	SHA256    string            `json:"sha256"` // declared by the client; checked at the end
	ReportID  string            `json:"report_id"`
	Slot      string            `json:"slot"`
	Blob      State             `json:"blob"`
	HashState []byte            `json:"hash_state"` // SHA-256 of the bytes so far, marshalled
	Head      []byte            `json:"-"`          // the first bytes, to inspect before publishing; the store keeps them apart
	CreatedAt time.Time         `json:"created_at"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// Offset is how many bytes the upload holds.
func (u *Upload) Offset() int64 { return u.Blob.Offset }

// State is an upload's progress in the blob store that holds its bytes:
// how many it holds, and whatever the store needs to go on (part numbers
// and tags, an S3 upload id). The store hands it back after every call
// that changes it, and the server's store keeps it in the Upload, so an
// upload resumes after a restart.
type State struct {
	Offset  int64  `json:"offset"`
	Size    int64  `json:"size"`
	Backend []byte `json:"backend,omitempty"`
}
