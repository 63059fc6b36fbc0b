package testenv

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// thingsSpec is a small document with what the validator must see through:
// a closed object extended by allOf, a bearer route with a JSON body, a
// HEAD answer's header, a tus-style binary body, a body-less answer.
const thingsSpec = `
openapi: 3.1.0
info: {title: things, version: "1"}
paths:
  /things:
    post:
      operationId: createThing
      security: [{bearer: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties: {name: {type: string}}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "401": {description: no token, content: {application/problem+json: {schema: {$ref: "#/components/schemas/Problem"}}}}
  /things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getThing
      security: []
      responses:
        "200": {description: the thing, content: {application/json: {schema: {$ref: "#/components/schemas/TaggedThing"}}}}
    head:
      operationId: sizeThing
      security: []
      responses:
        "200":
          description: its size
          headers: {X-Size: {required: true, schema: {type: integer}}}
    patch:
      operationId: appendThing
      security: []
      requestBody:
        required: true
        content: {application/offset+octet-stream: {schema: {type: string, format: binary}}}
      responses:
        "204": {description: appended}
  /things/{id}/touch:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    post:
      operationId: touchThing
      security: []
      responses:
        "200": {description: "touched, no body"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  schemas:
    Thing:
      type: object
      required: [id]
      properties: {id: {type: string}}
    TaggedThing:
      allOf:
        - $ref: "#/components/schemas/Thing"
        - type: object
          required: [tags]
          properties: {tags: {type: array, items: {type: string}}}
    Problem:
      type: object
      required: [code]
      properties: {code: {type: string}}
`

// recorder keeps what the validator reports instead of failing the test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestOpenAPIValidator(t *testing.T) {
	type answer func(w http.ResponseWriter, r *http.Request)
	json := func(status int, body string) answer {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			ct := "application/json"
			if status >= 400 {
				ct = "application/problem+json"
			}
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	tests := []struct {
		name                string
		method, path, token string
		ctype, body, accept string
		answer              answer
		want                string // in the report; "" for none
	}{
		{"a documented answer passes", "GET", "/things/1", "", "", "", "",
			json(200, `{"id":"1","tags":[]}`), ""},
		{"a field the document does not name fails", "GET", "/things/1", "", "", "", "",
			json(200, `{"id":"1","tags":[],"colour":"red"}`), "/colour"},
		{"null where the document says array fails", "GET", "/things/1", "", "", "", "",
			json(200, `{"id":"1","tags":null}`), "/tags"},
		{"a status the document does not list fails", "GET", "/things/1", "", "", "", "",
			json(418, `{"code":"teapot"}`), "status is not supported"},
		{"a valid request gets its documented answer", "POST", "/things", "tok", "application/json", `{"name":"a"}`, "",
			json(201, `{"id":"2"}`), ""},
		{"a request without its token must be refused", "POST", "/things", "", "application/json", `{"name":"a"}`, "",
			json(201, `{"id":"2"}`), "accepts a request the document forbids"},
		{"a body the document forbids must be refused", "POST", "/things", "tok", "application/json", `{"name":7}`, "",
			json(201, `{"id":"2"}`), "accepts a request the document forbids"},
		{"a forbidden request refused with a Problem passes", "POST", "/things", "", "application/json", `{"name":"a"}`, "",
			json(401, `{"code":"unauthorized"}`), ""},
		{"the refusal itself is checked", "POST", "/things", "", "application/json", `{"name":"a"}`, "",
			json(401, `{"code":"unauthorized","secret":"x"}`), "/secret"},
		{"an unknown path answers a Problem", "GET", "/nowhere", "", "", "", "",
			json(404, `{"code":"route_not_found"}`), ""},
		{"an unknown path that answers 200 fails", "GET", "/nowhere", "", "", "", "",
			json(200, `{}`), "no matching operation"},
		{"a gzip answer is checked inflated", "GET", "/things/1", "", "", "", "gzip",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				io.WriteString(zw, `{"id":"1","tags":[],"colour":"red"}`)
				zw.Close()
			}, "/colour"},
		{"a HEAD answer needs its documented headers", "HEAD", "/things/1", "", "", "", "",
			func(w http.ResponseWriter, r *http.Request) {}, `"X-Size"`},
		{"a HEAD answer with them passes", "HEAD", "/things/1", "", "", "", "",
			func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Size", "12") }, ""},
		{"a binary body passes", "PATCH", "/things/1", "", "application/offset+octet-stream", "\xff\xd8\xff\x00bytes", "",
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, ""},
		{"a binary route refuses JSON", "PATCH", "/things/1", "", "application/json", `{}`, "",
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, "accepts a request the document forbids"},
		{"a body where the document declares none fails", "POST", "/things/1/touch", "", "", "", "",
			func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") }, "where the document declares none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tt.answer))
			defer srv.Close()
			rec := &recorder{TB: t}
			c := &http.Client{Transport: OpenAPIValidator(rec, []byte(thingsSpec), srv.Client().Transport)}
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, body)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if tt.accept == "gzip" && !bytes.HasPrefix(got, []byte{0x1f, 0x8b}) {
				t.Errorf("the caller got the body changed: %q", got)
			}
			switch {
			case tt.want == "" && len(rec.errs) > 0:
				t.Errorf("reported %q, want nothing", rec.errs)
			case tt.want != "" && (len(rec.errs) != 1 || !strings.Contains(rec.errs[0], tt.want)):
				t.Errorf("reported %q, want one report naming %q", rec.errs, tt.want)
			}
		})
	}
}
