package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// decode reads the request body as one JSON value into v. A body over the
// limit is ETooLarge, a body of another type EUnsupported, a body that is
// not valid gzip EInvalid (see decompress), and anything that is not the
// expected JSON EBadJSON with a detail naming the field to fix.
func decode(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != echo.MIMEApplicationJSON {
		return fieldsync.Errorf(fieldsync.EUnsupported, "the body must be application/json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // the body limit, bad gzip, or a body that ended early
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes body, which must be exactly one JSON value of v's
// shape in UTF-8 text, into v. Its errors are EBadJSON, with a detail in
// the API's terms: the field path (mutations[2].hlc), what it must be,
// and for malformed JSON the byte offset. A field v does not have is
// refused, so a misspelt optional field is not silently dropped.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fieldsync.Errorf(fieldsync.EBadJSON, "the body is empty; send a JSON object")
	}
	// encoding/json would store invalid UTF-8, and a \u escape of half a
	// surrogate pair, as U+FFFD without a word.
	if off := badText(body); off >= 0 {
		return fieldsync.Errorf(fieldsync.EBadJSON, "%s: not valid UTF-8 text (byte %d)", where(pathAt(body, int64(off))), off)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(body, v, err)
	}
	if end := dec.InputOffset(); len(bytes.TrimSpace(body[end:])) > 0 {
		return fieldsync.Errorf(fieldsync.EBadJSON, "the body goes on after its JSON value ends at byte %d; send one JSON value", end)
	}
	return nil
}

func decodeError(body []byte, v any, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldsync.Errorf(fieldsync.EBadJSON, "the JSON ends early, inside %s", where(pathAt(body, int64(len(body)))))
	case errors.As(err, &se):
		return fieldsync.Errorf(fieldsync.EBadJSON, "malformed JSON at byte %d, in %s: %s", se.Offset, where(pathAt(body, se.Offset-1)), se.Error())
	case errors.As(err, &te):
		path := te.Field
		if te.Offset > 0 {
			path = pathAt(body, te.Offset-1)
		}
		if path == "" {
			return fieldsync.Errorf(fieldsync.EBadJSON, "the body must be %s, not %s", jsonKind(te.Type), valueWord(te.Value))
		}
		if te.Type == timeType {
			return fieldsync.Errorf(fieldsync.EBadJSON, "%s: not an RFC 3339 time, such as 2025-03-01T09:00:00Z", path)
		}
		return fieldsync.Errorf(fieldsync.EBadJSON, "%s: must be %s, not %s", path, jsonKind(te.Type), valueWord(te.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, err := strconv.Unquote(name); err == nil {
			name = n
		}
		return unknownField(body, v, name)
	}
	return fieldsync.Errorf(fieldsync.EBadJSON, "the body is not the JSON this route takes")
}

// unknownField says where the field is and, at the top level, which
// fields the body takes.
func unknownField(body []byte, v any, name string) error {
	paths := keyPaths(body, name)
	if len(paths) != 1 {
		return fieldsync.Errorf(fieldsync.EBadJSON, "unknown field %q", name)
	}
	if paths[0] == name {
		if fields := jsonFields(reflect.TypeOf(v)); len(fields) > 0 {
			return fieldsync.Errorf(fieldsync.EBadJSON, "unknown field %q; the body takes %s", name, strings.Join(fields, ", "))
		}
	}
	return fieldsync.Errorf(fieldsync.EBadJSON, "unknown field %s", paths[0])
}

// jsonFields lists the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case !f.IsExported():
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// jsonKind names what a Go type takes, in JSON's words.
func jsonKind(t reflect.Type) string {
	if t == timeType {
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	}
	return "another JSON value"
}

// valueWord names what the client sent, from encoding/json's Value.
func valueWord(v string) string {
	switch {
	case v == "bool":
		return "true or false"
	case v == "object":
		return "an object"
	case v == "array":
		return "an array"
	case v == "number":
		return "a number"
	case strings.HasPrefix(v, "number "):
		return strings.TrimPrefix(v, "number ")
	case strings.HasPrefix(v, "string"):
		return "a string"
	}
	return v
}

// where names a path for a message: the body itself at the top.
func where(path string) string {
	if path == "" {
		return "the body"
	}
	return path
}

// timestamp is an RFC 3339 time in a request body. A malformed one is
// reported against its field ("window_start: not an RFC 3339 time"), which
// time.Time's own decoding does not do.
type timestamp struct{ time.Time }

func (t *timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return &json.UnmarshalTypeError{Value: jsonValueKind(b), Type: timeType}
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string", Type: timeType}
	}
	t.Time = v
	return nil
}

func jsonValueKind(b []byte) string {
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// badText returns the offset of the first byte of body that is not UTF-8,
// or of a \u escape naming half a surrogate pair; -1 when there is none.
func badText(body []byte) int {
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n == 1 {
				return i
			}
			i += n
		}
	}
	inString := false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case !inString:
			inString = b == '"'
		case b == '"':
			inString = false
		case b == '\\':
			r, ok := hex4(body, i+2)
			if i+1 < len(body) && body[i+1] == 'u' && ok && utf16.IsSurrogate(r) {
				low, ok := hex4(body, i+8)
				if r >= 0xDC00 || !ok || body[i+6] != '\\' || body[i+7] != 'u' || low < 0xDC00 || low > 0xDFFF {
					return i
				}
				i += 11
				continue
			}
			i++ // the escaped byte
		}
	}
	return -1
}

// hex4 reads the four hex digits of a \u escape at body[i:].
func hex4(body []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(body) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(body[i:i+4]), 16, 32)
	return rune(n), err == nil
}

// pathAt names the JSON value of body that holds byte off, as
// mutations[2].fields.findings, or "" for the body itself. Past malformed
// JSON it names the value the malformation is in.
func pathAt(body []byte, off int64) string {
	var found string
	walkTokens(body, func(path string, start, end int64, isKey bool) bool {
		if off < end {
			found = path
			return false
		}
		return true
	}, func(path string) { found = path })
	return found
}

// keyPaths lists the paths of every object key in body named name.
func keyPaths(body []byte, name string) []string {
	var out []string
	walkTokens(body, func(path string, _, _ int64, isKey bool) bool {
		if isKey && (path == name || strings.HasSuffix(path, "."+name)) {
			out = append(out, path)
		}
		return true
	}, func(string) {})
	return out
}

// walkTokens calls visit for each key and each value of body with its path
// and its bytes [start, end) (which take in the separators before it),
// until visit returns false; at malformed JSON it calls stop with the path
// it is in.
func walkTokens(body []byte, visit func(path string, start, end int64, isKey bool) bool, stop func(path string)) {
	type frame struct {
		array   bool
		wantKey bool
		key     string
		index   int
	}
	var stack []frame
	render := func(withKey bool) string {
		var b strings.Builder
		for i, f := range stack {
			switch {
			case f.array:
				fmt.Fprintf(&b, "[%d]", f.index)
			case i == len(stack)-1 && !withKey:
			default:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	// next moves the innermost container past a value.
	next := func() {
		if len(stack) == 0 {
			return
		}
		if top := &stack[len(stack)-1]; top.array {
			top.index++
		} else {
			top.wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			if err != io.EOF || len(stack) > 0 {
				stop(render(len(stack) > 0 && !stack[len(stack)-1].wantKey))
			}
			return
		}
		end := dec.InputOffset()
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			next()
			continue
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			stack[n-1].key, stack[n-1].wantKey = tok.(string), false
			if !visit(render(true), start, end, true) {
				return
			}
			continue
		}
		if !visit(render(true), start, end, false) {
			return
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{array: true})
		default:
			next()
		}
	}
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
