package fieldsync

import (
	"errors"
	"fmt"
)

// Stable error codes. Clients switch on these; they never change meaning.
// The server maps each to an HTTP status in exactly one place (server/problem.go).
const (
	EInvalid       = "invalid"        // input is malformed or fails validation
	ENotFound      = "not_found"      // the record does not exist (or is not visible)
	EConflict      = "conflict"       // the write collides with the current state
	EUnauthorized  = "unauthorized"   // no valid credentials
	EForbidden     = "forbidden"      // credentials are valid, the action is not allowed
	EInternal      = "internal"       // a fault on our side; details are only logged
	ETooLarge      = "body_too_large" // the request body exceeds the limit
	ETooMany       = "too_many_requests"
	EBadJSON       = "bad_json"        // the body is not the JSON the route expects
	ERouteNotFound = "route_not_found" // no route answers this path
	EMethod        = "method_not_allowed"
	EUnsupported   = "unsupported_media_type"

	EBadCredentials = "bad_credentials" // login or password wrong
	ETokenInvalid   = "token_invalid"   // access token malformed, forged or expired
	ERefreshInvalid = "refresh_invalid" // refresh token unknown or expired
	ERefreshReused  = "refresh_reused"  // a rotated refresh token came back: family revoked
	EDeviceRevoked  = "device_revoked"  // the device was revoked by an admin
	EThrottled      = "login_throttled" // too many failed logins
	EUnavailable    = "unavailable"     // a dependency (the store) does not answer
)

// Accounts and sessions an admin or the user ended.
const (
	EAccountDisabled = "account_disabled" // an admin disabled the account
	ESessionEnded    = "session_ended"    // this sign-in was ended: logout, password change or a reused refresh token
)

// Error is the application error. Code is one of the constants above;
// Detail is safe to show to the caller. Anything that is not an *Error
// reaching the edge is reported as EInternal with a generic message.
type Error struct {
	Code   string
	Detail string
	// RetryAfter, when positive, tells the caller how many seconds to wait.
	RetryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// Errorf returns an *Error with a formatted detail.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil
// and EInternal for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorDetail returns the caller-safe detail of err, or a generic message
// for errors that are not *Error (their text may hold internals).
func ErrorDetail(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Detail
	}
	return "Internal error."
}

// ETimeout means the request ran out of time on the server.
const ETimeout = "timeout"

// EInvalidTransition means a state machine forbids the step asked for.
const EInvalidTransition = "invalid_transition"

// ECursorReset means a sync cursor is not valid for this server any more:
// the device pulls again from the start, keeping its pending work.
const ECursorReset = "cursor_reset"

// EUnsupportedProtocol means the client speaks a sync protocol version
// this server cannot serve.
const EUnsupportedProtocol = "unsupported_protocol"

// EReportSealed means the report was signed and refuses edits.
const EReportSealed = "report_sealed"

// EReportIncomplete means a report cannot be signed: required checklist
// items are unanswered (the detail names them).
const EReportIncomplete = "report_incomplete"

// EUnknownField means an edit names a field this build does not know, with
// a name too long to keep for a newer client.
const EUnknownField = "unknown_field"

// EQuoteMismatch means a report's quote names the server's price list
// version but not its prices: a line or the total differs (the detail
// names it).
const EQuoteMismatch = "quote_mismatch"

// EExtraTooLarge means an edit would keep more unknown fields on a report
// than MaxExtraFields, or more bytes of them than MaxExtraBytes.
const EExtraTooLarge = "extra_too_large"

// Media error codes.
const (
	EChecksumMismatch = "checksum_mismatch" // the bytes do not hash to what was declared
	ENotAnImage       = "not_an_image"      // only JPEG, PNG, HEIC and WebP are evidence
	EImageTooLarge    = "image_too_large"   // dimensions that would exhaust memory decoded
	EOffsetMismatch   = "offset_mismatch"   // a tus PATCH not at the upload's offset
	EUploadExpired    = "upload_expired"
	ETusVersion       = "tus_version" // a tus request without Tus-Resumable: 1.0.0
)

// EUnsupportedEncoding means a request body's Content-Encoding is neither
// gzip nor identity: the server cannot read it and will not guess.
const EUnsupportedEncoding = "unsupported_encoding"

// EDeviceKeyRetired means a login presented a device key the device had
// replaced: a retired key never signs again, so the device makes a new one.
const EDeviceKeyRetired = "device_key_retired"

// Share link and remote sign-off codes.
const (
	ELinkExpired   = "link_expired"   // the share link is past its expiry
	ELinkRevoked   = "link_revoked"   // the share link was revoked by staff
	EReportChanged = "report_changed" // the report is not the version the customer reviewed
)

// EWarrantySettled means a report's disputed warranty decision was
// settled already: a settlement is final.
const EWarrantySettled = "warranty_settled"

// ECSRFFailed refuses a state-changing request of a browser session that
// lacks the session's CSRF token or comes from another site.
const ECSRFFailed = "csrf_failed"
