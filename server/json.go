package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// decode reads the request body as one JSON value into v. A body over the
// limit is ETooLarge, a body of another type EUnsupported, and anything
// that is not the expected JSON EBadJSON with the decoder's reason.
func decode(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != echo.MIMEApplicationJSON {
		return fieldsync.Errorf(fieldsync.EUnsupported, "the body must be application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return fieldsync.Errorf(fieldsync.EBadJSON, "the body holds more than one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return err // the body limit
	case errors.Is(err, io.EOF):
		return fieldsync.Errorf(fieldsync.EBadJSON, "the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldsync.Errorf(fieldsync.EBadJSON, "the body ends inside a JSON value")
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fieldsync.Errorf(fieldsync.EBadJSON, "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return fieldsync.Errorf(fieldsync.EBadJSON, "field %q must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return fieldsync.Errorf(fieldsync.EBadJSON, "the body is not valid JSON: %v", err)
}

// writeJSON encodes v without HTML escaping (our clients are not browsers
// parsing HTML) and with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// respond writes v as JSON with status.
func respond(c echo.Context, status int, v any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSONCharsetUTF8)
	c.Response().WriteHeader(status)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	return writeJSON(c.Response(), v)
}
