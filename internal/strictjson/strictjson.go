// Package strictjson decodes data files (policies, price lists) strictly:
// a typing mistake in a file a deployment edits is refused naming the
// field, never silently ignored.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/fieldsync/fieldsync"
)

// Decode decodes exactly one JSON value from data into v. An unknown
// field, a value of the wrong type (a fraction where an integer belongs)
// or a trailing value is EInvalid, the detail starting with what and
// naming the field ("price list: parts.price_fen: must be int64, not
// number").
func Decode(what string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "%s: %s: must be %s, not %s", what, te.Field, te.Type, te.Value)
		}
		return fieldsync.Errorf(fieldsync.EInvalid, "%s: %s", what, strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldsync.Errorf(fieldsync.EInvalid, "%s: more than one JSON value", what)
	}
	return nil
}
