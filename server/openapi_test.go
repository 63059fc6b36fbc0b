package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// The tests here keep openapi.json and routes.go in step: the same
// operations, the roles each admits, and error codes the server knows.
// They reuse newTestServer (server_test.go): a real server over bbolt.

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// openAPIOp is one operation of the document.
type openAPIOp struct {
	method string // upper case, as Echo has it
	path   string // OpenAPI form: /v1/devices/{id}/revoke
	op     map[string]any
	item   map[string]any // the path item, for its parameters
}

func (o openAPIOp) String() string { return o.method + " " + o.path }

func parseOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(openAPIDoc))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("openapi.json holds more than one JSON value")
	}
	if dup := duplicateKey(openAPIDoc); dup != "" {
		t.Fatalf("openapi.json names %s twice in one object; a JSON reader keeps only the last", dup)
	}
	return doc
}

// duplicateKey returns the path of the first member named twice in one
// object of the JSON value b, "" when none is.
func duplicateKey(b []byte) string {
	type container struct {
		path string
		seen map[string]bool // nil for an array
		name string          // the member whose value comes next
		key  bool            // the next string token is a member name
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var stack []*container
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *container
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.key {
			if top.seen[s] {
				return top.path + "/" + s
			}
			top.seen[s], top.key, top.name = true, false, s
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path := ""
			if top != nil {
				path = top.path
				if top.seen != nil {
					path += "/" + top.name
				}
			}
			c := &container{path: path}
			if tok == json.Delim('{') {
				c.seen, c.key = map[string]bool{}, true
			}
			stack = append(stack, c)
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].seen != nil {
			stack[len(stack)-1].key = true
		}
	}
}

// openAPIOps lists the operations of doc, sorted by path and method.
func openAPIOps(t *testing.T, doc map[string]any) []openAPIOp {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatalf("openapi.json has no paths")
	}
	var ops []openAPIOp
	for p, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not an object", p)
		}
		for k, o := range item {
			if !httpMethods[k] {
				continue
			}
			op, ok := o.(map[string]any)
			if !ok {
				t.Fatalf("%s %s is not an object", strings.ToUpper(k), p)
			}
			ops = append(ops, openAPIOp{method: strings.ToUpper(k), path: p, op: op, item: item})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openAPIPath turns an Echo path (/devices/:id) into OpenAPI form (/devices/{id}).
func openAPIPath(p string) string { return echoParam.ReplaceAllString(p, "{$1}") }

func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv := newTestServer(t).Config.Handler.(*Server)
	doc := parseOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi is %q, want 3.1.x", v)
	}

	served := map[string]bool{}
	for _, r := range srv.Routes() {
		// A group with middleware registers catch-all routes of this
		// pseudo-method so the middleware runs; they are not operations.
		if r.Method == echo.RouteNotFound {
			continue
		}
		// Pages, their assets and the browser session behind them are
		// for people, not API operations (docs/design.md).
		if pageRoute(r.Path) {
			continue
		}
		served[r.Method+" "+openAPIPath(r.Path)] = true
	}
	if len(served) == 0 {
		t.Fatal("the server lists no routes")
	}

	documented := map[string]bool{}
	ids := map[string]string{}
	for _, o := range openAPIOps(t, doc) {
		documented[o.String()] = true
		id, _ := o.op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s has no operationId", o)
		case ids[id] != "":
			t.Errorf("%s and %s share operationId %q", ids[id], o, id)
		default:
			ids[id] = o.String()
		}
		if res, _ := o.op["responses"].(map[string]any); len(res) == 0 {
			t.Errorf("%s documents no response", o)
		}
	}

	for _, k := range sortedKeys(served) {
		if !documented[k] {
			t.Errorf("route %s is served but missing from openapi.json", k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which the server does not serve", k)
		}
	}
}

// TestOpenAPIIsConsistent checks what a reader relies on beyond the route
// list: references resolve, path parameters are declared, every error is a
// Problem whose listed codes exist with that status, and protected
// operations name their roles.
func TestOpenAPIIsConsistent(t *testing.T) {
	doc := parseOpenAPI(t)

	// Every local $ref resolves.
	walkJSON(doc, func(v map[string]any) {
		if r, ok := v["$ref"].(string); ok {
			if _, err := resolvePointer(doc, r); err != nil {
				t.Errorf("$ref %s: %v", r, err)
			}
		}
	})

	// The Problem schema's code enum is exactly the codes the server maps.
	enum, err := resolvePointer(doc, "#/components/schemas/Problem/properties/code/enum")
	if err != nil {
		t.Fatalf("Problem.code enum: %v", err)
	}
	var codes []string
	for _, c := range enum.([]any) {
		codes = append(codes, c.(string))
	}
	sort.Strings(codes)
	if want := sortedKeys(statusOf); !slices.Equal(codes, want) {
		t.Errorf("Problem.code enum %v, want the codes of statusOf %v", codes, want)
	}

	bracket := regexp.MustCompile(`\{([^}]+)\}`)
	for _, o := range openAPIOps(t, doc) {
		// Path parameters.
		declared := map[string]bool{}
		for _, name := range opParameters(doc, o, "path") {
			declared[name] = true
		}
		for _, m := range bracket.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s does not declare path parameter %q", o, m[1])
			}
		}

		// Error responses.
		responses, _ := o.op["responses"].(map[string]any)
		for st, r := range responses {
			status, err := strconv.Atoi(st)
			if err != nil || status < 400 {
				continue
			}
			res, _ := r.(map[string]any)
			content, _ := res["content"].(map[string]any)
			pj, _ := content["application/problem+json"].(map[string]any)
			if schema, _ := pj["schema"].(map[string]any); schema["$ref"] != "#/components/schemas/Problem" {
				t.Errorf("%s %d is not application/problem+json with the Problem schema", o, status)
			}
			listed, _ := res["x-problem-codes"].([]any)
			if len(listed) == 0 {
				t.Errorf("%s %d lists no codes in x-problem-codes", o, status)
			}
			desc, _ := res["description"].(string)
			for _, c := range listed {
				code, _ := c.(string)
				if statusOf[code] != status {
					t.Errorf("%s %d lists code %q, which the server answers with %d", o, status, code, statusOf[code])
				}
				if !strings.Contains(desc, code) {
					t.Errorf("%s %d: the description does not explain code %q", o, status, code)
				}
			}
		}

		// Security and roles go together.
		roles := opRoles(o)
		sec, ok := o.op["security"].([]any)
		if !ok {
			t.Errorf("%s does not state its security ([] for a public route)", o)
		}
		if secured := len(sec) > 0; secured != (len(roles) > 0) {
			t.Errorf("%s: a security requirement and x-roles must both be present or both absent", o)
		}
		if len(roles) > 0 {
			for _, r := range roles {
				if _, err := fieldsync.ParseRole(string(r)); err != nil {
					t.Errorf("%s: x-roles: %v", o, err)
				}
			}
			desc, _ := o.op["description"].(string)
			names := make([]string, len(roles))
			for i, r := range roles {
				names[i] = string(r)
			}
			if want := "Roles: " + strings.Join(names, ", ") + "."; !strings.Contains(desc, want) {
				t.Errorf("%s: the description does not say %q", o, want)
			}
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s needs a token but documents no 401", o)
			}
		}
	}
}

// TestOpenAPIRolesMatchServer asks the server, as each role, for every
// protected operation and checks that exactly the roles in x-roles get
// past the role check. The requests carry no body and name no existing
// record, so they change nothing.
func TestOpenAPIRolesMatchServer(t *testing.T) {
	ts := newTestServer(t)
	tokens := map[fieldsync.Role]string{}
	for _, r := range fieldsync.Roles {
		ts.user(t, "openapi-"+string(r), r)
		tokens[r] = ts.login(t, "openapi-"+string(r), "openapi-dev-"+string(r)).AccessToken
	}
	params := regexp.MustCompile(`\{[^}]+\}`)
	for _, o := range openAPIOps(t, parseOpenAPI(t)) {
		path := params.ReplaceAllString(o.path, "no-such-record")
		roles := opRoles(o)
		if len(roles) == 0 {
			res, body := ts.do(t, o.method, path, "", nil)
			if res.StatusCode == http.StatusUnauthorized {
				t.Errorf("%s documents no security but answers 401 without a token: %s", o, body)
			}
			continue
		}
		res, body := ts.do(t, o.method, path, "", nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s documents security but answers %d without a token: %s", o, res.StatusCode, body)
		}
		for _, r := range fieldsync.Roles {
			res, body := ts.do(t, o.method, path, tokens[r], nil)
			admitted := slices.Contains(roles, r)
			switch {
			case admitted && (res.StatusCode == http.StatusForbidden || res.StatusCode == http.StatusUnauthorized):
				t.Errorf("%s: x-roles admits %s but the server answers %d: %.200s", o, r, res.StatusCode, body)
			case !admitted && res.StatusCode != http.StatusForbidden:
				t.Errorf("%s: x-roles excludes %s but the server answers %d, not 403: %.200s", o, r, res.StatusCode, body)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t)
	res, err := ts.Client().Get(ts.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", res.StatusCode, body)
	}
	if mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", res.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, openAPIDoc) {
		t.Errorf("served %d bytes that differ from the embedded document (%d bytes)", len(body), len(openAPIDoc))
	}
}

func opRoles(o openAPIOp) []fieldsync.Role {
	raw, _ := o.op["x-roles"].([]any)
	roles := make([]fieldsync.Role, 0, len(raw))
	for _, r := range raw {
		s, _ := r.(string)
		roles = append(roles, fieldsync.Role(s))
	}
	return roles
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// walkJSON calls f on every object in v.
func walkJSON(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(v)
		for _, x := range v {
			walkJSON(x, f)
		}
	case []any:
		for _, x := range v {
			walkJSON(x, f)
		}
	}
}

// resolvePointer resolves a local reference (#/a/b) in doc (RFC 6901).
func resolvePointer(doc any, ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	cur := doc
	if ptr == "" {
		return cur, nil
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("no %q", tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("bad index %q", tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("cannot descend into %q", tok)
		}
	}
	return cur, nil
}

func TestDuplicateKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":1,"b":{"a":2}}`, ""},
		{`{"a":1,"a":2}`, "/a"},
		{`{"s":{"p":{"x":{"t":1},"y":2,"x":3}}}`, "/s/p/x"},
		{`{"l":[{"d":1},{"d":2,"e":[1,{"f":1,"f":2}]}]}`, "/l/e/f"},
		{`{"a":[1,2],"b":"a","c":{"b":1}}`, ""},
	} {
		if got := duplicateKey([]byte(c.in)); got != c.want {
			t.Errorf("duplicateKey(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}
