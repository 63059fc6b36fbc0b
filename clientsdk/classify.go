package clientsdk

import (
	"errors"

	"github.com/fieldsync/fieldsync"
)

// class is what an error means for the work that met it. Each caller
// decides what to do per class; which error falls in which class is
// decided once, by classify.
type class int

const (
	succeeded class = iota // no error
	// retryLater: the network or the server failed, or answered what the
	// caller cannot use. The round stops; a later one tries again, after
	// a backoff.
	retryLater
	// sessionEnded: the device was revoked or the session ended
	// (ErrDeviceRevoked, ErrSignedOut). Syncing stops until a Login.
	sessionEnded
	// refusedForGood: the server refuses the request itself (not an
	// image, too large, forbidden…); sending it again cannot change that.
	refusedForGood
	// bodyRejected: the server found the request malformed and kept
	// nothing of it. A tus chunk that arrived cut or corrupted may pass
	// when sent again; any other request is built the same way again.
	bodyRejected
	// absent: the server has no such thing: a report not synced yet, an
	// upload it dropped or let expire.
	absent
	// offsetMoved: the upload holds another number of bytes than the
	// request assumed.
	offsetMoved
)

// classify sorts an error into its class.
func classify(err error) class {
	switch {
	case err == nil:
		return succeeded
	case errors.Is(err, ErrDeviceRevoked), errors.Is(err, ErrSignedOut):
		return sessionEnded
	}
	switch code(err) {
	case fieldsync.ENotAnImage, fieldsync.EImageTooLarge, fieldsync.ETooLarge, fieldsync.EUnsupported, fieldsync.EForbidden, fieldsync.EReportSealed,
		fieldsync.ESealHashMismatch, fieldsync.EBadDeviceSignature:
		return refusedForGood
	case fieldsync.EInvalid, fieldsync.EChecksumMismatch:
		return bodyRejected
	case fieldsync.ENotFound, fieldsync.EUploadExpired:
		return absent
	case fieldsync.EOffsetMismatch:
		return offsetMoved
	}
	return retryLater
}

// code is the server's error code in err, "" when err carries none (nil,
// or a failure to reach the server).
func code(err error) string {
	var e *fieldsync.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// detail is the server's word on an error, or the error itself.
func detail(err error) string {
	var e *fieldsync.Error
	if errors.As(err, &e) && e.Detail != "" {
		return e.Detail
	}
	return err.Error()
}
