package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// statusOf maps every application error code to its HTTP status. It is the
// only place that does.
var statusOf = map[string]int{
	fieldsync.EInvalid:             http.StatusBadRequest,
	fieldsync.EBadJSON:             http.StatusBadRequest,
	fieldsync.ENotFound:            http.StatusNotFound,
	fieldsync.ERouteNotFound:       http.StatusNotFound,
	fieldsync.EMethod:              http.StatusMethodNotAllowed,
	fieldsync.EConflict:            http.StatusConflict,
	fieldsync.EInvalidTransition:   http.StatusConflict,
	fieldsync.EReportSealed:        http.StatusConflict,
	fieldsync.EDeviceKeyRetired:    http.StatusConflict,
	fieldsync.ECursorReset:         http.StatusConflict,
	fieldsync.EUnsupportedProtocol: http.StatusBadRequest,
	fieldsync.EChecksumMismatch:    460, // tus: Checksum Mismatch
	fieldsync.ENotAnImage:          http.StatusUnsupportedMediaType,
	fieldsync.EImageTooLarge:       http.StatusUnprocessableEntity,
	fieldsync.EOffsetMismatch:      http.StatusConflict,
	fieldsync.EUploadExpired:       http.StatusGone,
	fieldsync.ETusVersion:          http.StatusPreconditionFailed,
	fieldsync.EUnauthorized:        http.StatusUnauthorized,
	fieldsync.ETokenInvalid:        http.StatusUnauthorized,
	fieldsync.EBadCredentials:      http.StatusUnauthorized,
	fieldsync.ERefreshInvalid:      http.StatusUnauthorized,
	fieldsync.ERefreshReused:       http.StatusUnauthorized,
	fieldsync.EDeviceRevoked:       http.StatusUnauthorized,
	fieldsync.ESessionEnded:        http.StatusUnauthorized,
	fieldsync.EAccountDisabled:     http.StatusForbidden,
	fieldsync.EForbidden:           http.StatusForbidden,
	fieldsync.ETooLarge:            http.StatusRequestEntityTooLarge,
	fieldsync.EUnsupported:         http.StatusUnsupportedMediaType,
	fieldsync.EUnsupportedEncoding: http.StatusUnsupportedMediaType,
	fieldsync.ETooMany:             http.StatusTooManyRequests,
	fieldsync.EThrottled:           http.StatusTooManyRequests,
	fieldsync.EUnavailable:         http.StatusServiceUnavailable,
	fieldsync.ETimeout:             http.StatusServiceUnavailable,
	fieldsync.EInternal:            http.StatusInternalServerError,
	fieldsync.ELinkExpired:         http.StatusGone,
	fieldsync.ELinkRevoked:         http.StatusGone,
	fieldsync.EReportChanged:       http.StatusConflict,
	fieldsync.EQuoteMismatch:       http.StatusConflict,
	fieldsync.EWarrantySettled:     http.StatusConflict,
	fieldsync.ECSRFFailed:          http.StatusForbidden,
}

// echoCodes names the errors Echo itself raises (routing, limits,
// decompression) by their status.
var echoCodes = map[int]string{
	http.StatusBadRequest:            fieldsync.EInvalid,
	http.StatusUnauthorized:          fieldsync.EUnauthorized,
	http.StatusForbidden:             fieldsync.EForbidden,
	http.StatusNotFound:              fieldsync.ERouteNotFound,
	http.StatusMethodNotAllowed:      fieldsync.EMethod,
	http.StatusRequestEntityTooLarge: fieldsync.ETooLarge,
	http.StatusUnsupportedMediaType:  fieldsync.EUnsupported,
	http.StatusTooManyRequests:       fieldsync.ETooMany,
	http.StatusServiceUnavailable:    fieldsync.EUnavailable,
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// asAppError turns any error into an application error; the bool is false
// when err was not one the caller may see (its text is only logged).
func asAppError(err error) (*fieldsync.Error, bool) {
	var ae *fieldsync.Error
	if errors.As(err, &ae) {
		return ae, true
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if code, ok := echoCodes[he.Code]; ok {
			detail := http.StatusText(he.Code)
			if msg, ok := he.Message.(string); ok && msg != "" {
				detail = msg
			}
			return &fieldsync.Error{Code: code, Detail: detail}, true
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &fieldsync.Error{Code: fieldsync.EInvalid, Detail: "the request body ended early"}, true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &fieldsync.Error{Code: fieldsync.ETimeout, Detail: "the request took too long"}, true
	}
	return &fieldsync.Error{Code: fieldsync.EInternal, Detail: "Internal error."}, false
}

// handleError is Echo's HTTPErrorHandler: every error of every route is
// written here, as application/problem+json.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae, visible := asAppError(err)
	status, ok := statusOf[ae.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if !visible || status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			"request_id", requestID(c), "route", c.Path(), "error", err.Error())
	}
	h := c.Response().Header()
	if ae.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="fieldsync"`)
	}
	h.Set(echo.HeaderContentType, "application/problem+json")
	title := http.StatusText(status)
	if status == 460 {
		title = "Checksum Mismatch"
	}
	p := Problem{
		Type:      "urn:fieldsync:problem:" + ae.Code,
		Title:     title,
		Status:    status,
		Detail:    ae.Detail,
		Code:      ae.Code,
		RequestID: requestID(c),
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		c.Response().WriteHeader(status)
		err = writeJSON(c.Response(), p)
	}
	if err != nil {
		s.log.Debug("writing problem failed", slog.String("error", err.Error()))
	}
}
