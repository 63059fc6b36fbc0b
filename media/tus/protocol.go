package tus

// Version is the protocol version both sides send in Tus-Resumable.
const Version = "1.0.0"

// Extensions are those the server implements (Tus-Extension).
const Extensions = "creation,creation-with-upload,checksum,termination,expiration"

// UploadsPath is where uploads are created (POST); an upload is
// UploadsPath + "/" + its id.
const UploadsPath = "/v1/media/uploads"

// ContentType is the content type of a body that carries upload bytes.
const ContentType = "application/offset+octet-stream"

// Header names.
const (
	HeaderResumable         = "Tus-Resumable"
	HeaderVersion           = "Tus-Version"
	HeaderExtension         = "Tus-Extension"
	HeaderMaxSize           = "Tus-Max-Size"
	HeaderChecksumAlgorithm = "Tus-Checksum-Algorithm"
	HeaderLength            = "Upload-Length"
	HeaderDeferLength       = "Upload-Defer-Length"
	HeaderOffset            = "Upload-Offset"
	HeaderMetadata          = "Upload-Metadata"
	HeaderChecksum          = "Upload-Checksum"
	HeaderExpires           = "Upload-Expires"
	// HeaderPhoto is Fieldsync's own: the answer to the request that
	// completed an upload names the photo it became, /v1/media/<sha256>.
	HeaderPhoto = "Fieldsync-Photo"
)

// Metadata keys of an upload. SHA256, ReportID and Slot are required.
const (
	MetaSHA256     = "sha256"      // the hex SHA-256 of the photo, checked when the last byte arrives
	MetaReportID   = "report_id"   // the report the photo goes on
	MetaSlot       = "slot"        // the report's photo slot
	MetaFilename   = "filename"    // the photo's name on the device
	MetaFiletype   = "filetype"    // its MIME type, as the device believes
	MetaCapturedAt = "captured_at" // RFC 3339; the photo's EXIF, when it has a time, wins
)
