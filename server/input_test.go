package server

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// TestOpenAPIQueryParameters holds openapi.json to the query parameters
// the server takes (queryParams): no operation documents one the server
// refuses, or leaves out one it takes.
func TestOpenAPIQueryParameters(t *testing.T) {
	srv := newTestServer(t).Config.Handler.(*Server)
	doc := parseOpenAPI(t)
	documented := map[string][]string{}
	for _, o := range openAPIOps(t, doc) {
		names := opParameters(doc, o, "query")
		slices.Sort(names)
		documented[o.String()] = names
	}
	for route := range srv.routeSet {
		method, path, _ := strings.Cut(route, " ")
		if pageRoute(path) {
			continue // pages are not operations; a page's own test checks its query
		}
		want := slices.Sorted(slices.Values(queryParams[route]))
		if got := documented[method+" "+openAPIPath(path)]; !slices.Equal(got, want) {
			t.Errorf("%s: openapi.json documents query parameters %v, the server takes %v", route, got, want)
		}
	}
	for route := range queryParams {
		if _, ok := srv.routeSet[route]; !ok {
			t.Errorf("queryParams lists %s, which is not a route", route)
		}
	}
}

// opParameters names the parameters of o (and its path item) that are in
// in: "path", "query" or "header".
func opParameters(doc map[string]any, o openAPIOp, in string) []string {
	var names []string
	for _, src := range []map[string]any{o.item, o.op} {
		params, _ := src["parameters"].([]any)
		for _, p := range params {
			pm, _ := p.(map[string]any)
			if r, ok := pm["$ref"].(string); ok {
				v, _ := resolvePointer(doc, r)
				pm, _ = v.(map[string]any)
			}
			if pm["in"] == in {
				names = append(names, pm["name"].(string))
			}
		}
	}
	return names
}

// TestBadInputSaysWhatToFix sends each class of bad input over HTTP and
// checks the problem names what the client must change, in the API's
// terms, and never the server's types or Go's parser messages.
func TestBadInputSaysWhatToFix(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "dina", fieldsync.RoleDispatcher)
	ts.user(t, "tom", fieldsync.RoleTechnician)
	staff := ts.login(t, "dina", "desk-1").AccessToken
	tech := ts.login(t, "tom", "tab-1").AccessToken

	visit := func(start string) string {
		return `{"ticket_id":"t1","technician_id":"u1","window_start":` + start + `,"window_end":"2030-01-01T12:00:00Z"}`
	}
	body := func(s string) []byte { return []byte(s) }
	half := gzipped(t, body(`{"name":"Ann","phone":"13800138000"}`))
	half = half[:len(half)/2]
	tests := []struct {
		name, method, path, token, encoding string
		body                                []byte
		status                              int
		code, detail                        string
	}{
		// JSON bodies.
		{"malformed JSON gives the byte offset", "POST", "/v1/customers", staff, "", body(`{"name": Ann}`), 400, fieldsync.EBadJSON, "malformed JSON at byte 10, in name"},
		{"a field of the wrong type names the field", "POST", "/v1/customers", staff, "", body(`{"name":7}`), 400, fieldsync.EBadJSON, "name: must be a string, not a number"},
		{"an array body asks for an object", "POST", "/v1/customers", staff, "", body(`[]`), 400, fieldsync.EBadJSON, "the body must be a JSON object, not an array"},
		{"a bad time names the field", "POST", "/v1/visits", staff, "", body(visit(`"tomorrow"`)), 400, fieldsync.EBadJSON, "window_start: not an RFC 3339 time"},
		{"a number for a time names the field", "POST", "/v1/visits", staff, "", body(visit(`1700000000`)), 400, fieldsync.EBadJSON, "window_start: not an RFC 3339 time"},
		{"an unknown field is refused with the fields taken", "POST", "/v1/customers", staff, "", body(`{"name":"Ann","phone":"1","nmae":"x"}`), 400, fieldsync.EBadJSON, `unknown field "nmae"; the body takes name, phone, user_id`},
		{"a second JSON value is refused", "POST", "/v1/customers", staff, "", body(`{} {}`), 400, fieldsync.EBadJSON, "the body goes on after its JSON value ends at byte 2"},
		{"an empty body is refused", "POST", "/v1/customers", staff, "", body(``), 400, fieldsync.EBadJSON, "the body is empty"},
		{"a body cut short says where", "POST", "/v1/customers", staff, "", body(`{"name":"Ann","phone":`), 400, fieldsync.EBadJSON, "the JSON ends early, inside phone"},
		{"a nested wrong type names the whole path", "POST", pushPath, tech, "", body(`{"device_id":"tab-1","mutations":[{"seq":1},{"seq":"two"}]}`), 400, fieldsync.EBadJSON, "mutations[1].seq: must be a whole number, not a string"},
		{"a nested unknown field names the whole path", "POST", pushPath, tech, "", body(`{"device_id":"tab-1","mutations":[{"seq":1,"sqe":2}]}`), 400, fieldsync.EBadJSON, "unknown field mutations[0].sqe"},

		// Text.
		{"invalid UTF-8 names the field", "POST", "/v1/customers", staff, "", body("{\"name\":\"A\xffn\",\"phone\":\"1\"}"), 400, fieldsync.EBadJSON, "name: not valid UTF-8 text"},
		{"invalid UTF-8 deep in a push names the path", "POST", pushPath, tech, "", body("{\"device_id\":\"tab-1\",\"mutations\":[{\"fields\":{\"findings\":\"\xc3\"}}]}"), 400, fieldsync.EBadJSON, "mutations[0].fields.findings: not valid UTF-8 text"},
		{"half a surrogate pair names the field", "POST", "/v1/customers", staff, "", body(`{"name":"A\ud800n","phone":"1"}`), 400, fieldsync.EBadJSON, "name: not valid UTF-8 text"},
		{"a NUL names the field", "POST", "/v1/customers", staff, "", body(`{"name":"A\u0000n","phone":"13800138000"}`), 400, fieldsync.EInvalid, "name holds the control character U+0000"},
		{"an escape sequence names the field", "POST", "/v1/tickets/t1/contact", staff, "", body(`{"note":"\u001b[2J"}`), 400, fieldsync.EInvalid, "note holds the control character U+001B"},

		// Content codings.
		{"a body that is not gzip says so", "POST", "/v1/customers", staff, "gzip", body(`{"name":"Ann","phone":"13800138000"}`), 400, fieldsync.EInvalid, "the body is not valid gzip"},
		{"a gzip body cut short says so", "POST", "/v1/customers", staff, "gzip", half, 400, fieldsync.EInvalid, "the body is not valid gzip"},
		{"brotli is refused", "POST", "/v1/customers", staff, "br", body(`{"name":"Ann","phone":"13800138000"}`), 415, fieldsync.EUnsupportedEncoding, `Content-Encoding "br" is not supported`},
		{"deflate is refused", "POST", "/v1/auth/login", "", "deflate", body(`{}`), 415, fieldsync.EUnsupportedEncoding, "send the body as gzip or uncompressed"},

		// Query parameters.
		{"a misspelt filter is refused with the parameters taken", "GET", "/v1/visits?technican=u1", staff, "", nil, 400, fieldsync.EInvalid, `unknown query parameter "technican": GET /v1/visits takes technician, ticket, status, sla, sla_warning, from, to, cursor, limit`},
		{"a filter another route takes is refused", "GET", "/v1/tickets?customer_id=c1&ticket_id=t1", staff, "", nil, 400, fieldsync.EInvalid, `unknown query parameter "ticket_id"`},
		{"a route without parameters refuses any", "GET", "/v1/me?verbose=1", staff, "", nil, 400, fieldsync.EInvalid, `unknown query parameter "verbose": GET /v1/me takes none`},
		{"a parameter of a path route is named in the API's form", "GET", "/v1/visits/v1?expand=all", staff, "", nil, 400, fieldsync.EInvalid, "GET /v1/visits/{id} takes none"},
		{"a repeated parameter is refused", "GET", "/v1/visits?status=scheduled&status=on_site", staff, "", nil, 400, fieldsync.EInvalid, `query parameter "status" is given 2 times`},
		{"a malformed query string is refused", "GET", "/v1/visits?status=%zz", staff, "", nil, 400, fieldsync.EInvalid, "the query string is malformed"},
		{"a bad time parameter names it", "GET", "/v1/visits?from=tomorrow", staff, "", nil, 400, fieldsync.EInvalid, "from: not an RFC 3339 time"},
		{"a pull with a misspelt parameter is refused", "GET", "/v1/sync/pull?limt=5", tech, "", nil, 400, fieldsync.EInvalid, `unknown query parameter "limt"`},
	}
	leaks := []string{"server.", "fieldsync.", "parsing time", "2006-01-02", "json:", "Go ", "ended early", "gzip: "}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			req.Header.Set(syncproto.Header, fmt.Sprint(syncproto.Version))
			res, resBody := ts.send(t, req)
			p := wantProblem(t, res, resBody, tt.status, tt.code)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q, want it to say %q", p.Detail, tt.detail)
			}
			for _, l := range leaks {
				if strings.Contains(p.Detail, l) {
					t.Errorf("detail %q speaks of the server's internals (%q)", p.Detail, l)
				}
			}
		})
	}

	// What the server takes still works.
	for _, path := range []string{"/v1/visits?technician=u1&status=scheduled&limit=5", "/v1/visits", "/v1/me"} {
		if res, b := ts.do(t, "GET", path, staff, nil); res.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, b)
		}
	}
}
