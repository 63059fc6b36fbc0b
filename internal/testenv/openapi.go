package testenv

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// OpenAPIValidator returns a transport that sends each request through
// next (http.DefaultTransport when nil) and holds the exchange to the
// OpenAPI 3.1 document spec; a disagreement fails t, naming the
// operation, the status and what did not match:
//
//   - A request the document allows must get an answer the document
//     lists for that operation: a documented status, with the documented
//     headers and a body of the documented type and schema.
//   - A request the document forbids (a bad body, a missing token or
//     header) must be refused with an error status; its answer is
//     checked as above.
//   - A path the document does not have must answer 404 or 405 with a
//     Problem.
//
// Answers may carry no field the document leaves out: the check closes
// every object schema that has properties and no additionalProperties,
// so a field the server adds must be documented. The document itself
// stays open, for clients to tolerate fields a newer server sends.
//
// Gzip bodies are checked inflated; binary ones (tus chunks, photos) for
// their content type, any bytes being a `format: binary` string. HEAD
// answers are checked for status and headers. Not checked: an exchange the
// client itself broke (the transport failed, or reading the answer did),
// as nothing whole crossed the wire.
//
// The transport may be used from any goroutine; what it finds after the
// test's cleanup has begun is dropped, as t may no longer be told.
func OpenAPIValidator(t testing.TB, spec []byte, next http.RoundTripper) http.RoundTripper {
	t.Helper()
	if next == nil {
		next = http.DefaultTransport
	}
	docs := loadedSpec(spec)
	docs.once.Do(func() {
		if docs.open, docs.err = loadOpenAPI(spec, false); docs.err == nil {
			docs.closed, docs.err = loadOpenAPI(spec, true)
		}
	})
	if docs.err != nil {
		t.Fatalf("testenv: openapi: %v", docs.err)
	}
	v := &validator{t: t, next: next, requests: docs.open, responses: docs.closed}
	t.Cleanup(func() {
		v.mu.Lock()
		v.done = true
		v.mu.Unlock()
	})
	return v
}

// OpenAPIProxy starts a reverse proxy to target that holds every exchange
// to spec as OpenAPIValidator does, for a client the test cannot hand a
// transport (a Node program, say). It returns the proxy's URL; the proxy
// stops when the test ends.
func OpenAPIProxy(t testing.TB, spec []byte, target string) string {
	t.Helper()
	return OpenAPIProxyAt(t, spec, target, "127.0.0.1:0").URL
}

// OpenAPIProxyAt is OpenAPIProxy listening on addr, for a client that
// keeps its server's URL (a tablet) while the test stops the target: a
// test closes the proxy with the target, so the client finds nothing
// there (not a 502), and starts one again at addr in front of the new
// target. The proxy also stops when the test ends.
func OpenAPIProxyAt(t testing.TB, spec []byte, target, addr string) *httptest.Server {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatalf("testenv: openapi proxy: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("testenv: openapi proxy: %v", err)
	}
	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(to) },
		Transport: OpenAPIValidator(t, spec, nil),
	})
	proxy.Listener.Close()
	proxy.Listener = ln
	proxy.Start()
	t.Cleanup(proxy.Close)
	return proxy
}

type validator struct {
	t         testing.TB
	next      http.RoundTripper
	requests  *openAPIDoc // as published
	responses *openAPIDoc // closed to fields it does not name

	mu   sync.Mutex
	done bool
}

// specs holds each document loaded, by content: loading takes a tenth of
// a second, and tests start many servers. A loaded document is only read.
var specs = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*specDocs
}{m: map[[sha256.Size]byte]*specDocs{}}

type specDocs struct {
	once         sync.Once
	open, closed *openAPIDoc
	err          error
}

func loadedSpec(spec []byte) *specDocs {
	specs.Lock()
	defer specs.Unlock()
	k := sha256.Sum256(spec)
	if specs.m[k] == nil {
		specs.m[k] = &specDocs{}
	}
	return specs.m[k]
}

type openAPIDoc struct {
	doc     *openapi3.T
	router  routers.Router
	problem *openapi3.Schema
}

func loadOpenAPI(spec []byte, closed bool) (*openAPIDoc, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the document is not valid: %w", err)
	}
	if closed {
		closeObjects(doc)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	problem := doc.Components.Schemas["Problem"]
	if problem == nil || problem.Value == nil {
		return nil, errors.New("the document has no Problem schema")
	}
	no := false
	closedProblem := &openapi3.Schema{AllOf: openapi3.SchemaRefs{problem}, UnevaluatedProperties: openapi3.BoolSchema{Has: &no}}
	return &openAPIDoc{doc: doc, router: router, problem: closedProblem}, nil
}

// closeObjects forbids, wherever doc uses an object schema, the
// properties the schema does not name. Each use is wrapped, not the schema
// itself: a schema that allOf extends must stay open to the properties the
// extension adds, and unevaluatedProperties (unlike additionalProperties)
// sees the properties named through allOf, anyOf and if/then.
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	use := func(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
		walk(ref)
		if ref == nil || !isOpenObject(ref.Value) {
			return ref
		}
		no := false
		return &openapi3.SchemaRef{Value: &openapi3.Schema{
			AllOf:                 openapi3.SchemaRefs{ref},
			UnevaluatedProperties: openapi3.BoolSchema{Has: &no},
		}}
	}
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		for name, p := range s.Properties {
			s.Properties[name] = use(p)
		}
		s.Items = use(s.Items)
		s.AdditionalProperties.Schema = use(s.AdditionalProperties.Schema)
		for _, alts := range []openapi3.SchemaRefs{s.AnyOf, s.OneOf, s.PrefixItems} {
			for i, x := range alts {
				alts[i] = use(x)
			}
		}
		// These apply to the same value as s: the use of s closes it.
		for _, x := range append(openapi3.SchemaRefs{s.Not, s.If, s.Then, s.Else}, s.AllOf...) {
			walk(x)
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					mt.Schema = use(mt.Schema)
				}
			}
		}
	}
}

// isOpenObject tells whether s names properties, itself or through
// allOf, anyOf, oneOf or then, and says nothing of others.
func isOpenObject(s *openapi3.Schema) bool {
	if s == nil || s.AdditionalProperties.Has != nil || s.AdditionalProperties.Schema != nil ||
		s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil {
		return false
	}
	if len(s.Properties) > 0 {
		return true
	}
	for _, x := range append(append(append(openapi3.SchemaRefs{s.Then, s.Else}, s.AllOf...), s.AnyOf...), s.OneOf...) {
		if x != nil && isOpenObject(x.Value) {
			return true
		}
	}
	return false
}

func (v *validator) CloseIdleConnections() {
	if c, ok := v.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := &capture{}
	out := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = sent.tee(req.Body)
		if req.GetBody != nil {
			// The transport rewinds to resend on a fresh connection.
			out.GetBody = func() (io.ReadCloser, error) {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				return sent.restart(b), nil
			}
		}
	}
	res, err := v.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	body, readErr := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = replay(body, readErr)
	if readErr == nil {
		if problem := v.check(req, sent.bytes(), res, body); problem != "" {
			v.report(problem)
		}
	}
	return res, nil
}

func (v *validator) report(problem string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.done {
		v.t.Errorf("openapi: %s", problem)
	}
}

// check returns what in one exchange disagrees with the document, or "".
func (v *validator) check(req *http.Request, sent []byte, res *http.Response, got []byte) string {
	ctx := context.Background()
	exchange := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, res.StatusCode)
	// Pages and their assets (/r/, /static/) are HTML for people, not
	// operations: their own tests check them.
	if p := req.URL.Path; strings.HasPrefix(p, "/r/") || strings.HasPrefix(p, "/static/") {
		return ""
	}

	in, badRequest := inflate(req.Header, sent)
	if badRequest != nil {
		in, badRequest = sent, fmt.Errorf("request body: %w", badRequest)
	}
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(in))
	vreq.ContentLength = int64(len(in))
	vreq.GetBody = nil
	route, params, err := v.requests.router.FindRoute(vreq)
	if err != nil {
		// Not an operation: the server must say so with a Problem.
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			return fmt.Sprintf("%s: %v in the document, but the server answers", exchange, err)
		}
		return v.problem(exchange, res, got)
	}
	exchange = fmt.Sprintf("%s %s (%s) → %d", req.Method, req.URL.Path, route.Operation.OperationID, res.StatusCode)
	reqOpts := &openapi3filter.Options{
		AuthenticationFunc:                bearer,
		MultiError:                        true,
		SkipSettingDefaults:               true,
		RejectWhenRequestBodyNotSpecified: true,
	}
	reqOpts.WithCustomSchemaErrorFunc(schemaError)
	input := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: reqOpts}
	if badRequest == nil {
		badRequest = openapi3filter.ValidateRequest(ctx, input)
	}
	if badRequest != nil && res.StatusCode < 400 {
		return fmt.Sprintf("%s: the server accepts a request the document forbids: %v", exchange, badRequest)
	}

	// The answer, against the closed document's operation.
	closedRoute, _, err := v.responses.router.FindRoute(vreq)
	if err != nil {
		return fmt.Sprintf("%s: %v", exchange, err)
	}
	out, err := inflate(res.Header, got)
	if err != nil {
		return fmt.Sprintf("%s: response body: %v", exchange, err)
	}
	// ValidateResponse lets any body through where the document declares none.
	if r := documented(closedRoute.Operation, res.StatusCode); r != nil && len(r.Content) == 0 && len(out) > 0 {
		return fmt.Sprintf("%s: a body of %d bytes (%s) where the document declares none", exchange, len(out), res.Header.Get("Content-Type"))
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	opts.WithCustomSchemaErrorFunc(schemaError)
	vin := *input
	vin.Route = closedRoute
	if req.Method == http.MethodHead {
		// ValidateResponse skips HEAD altogether; a HEAD answer has the
		// status and headers of the GET it stands for, and no body.
		vin.Request = vreq.Clone(ctx)
		vin.Request.Method = http.MethodGet
		opts.ExcludeResponseBody = true
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &vin, Status: res.StatusCode, Header: res.Header, Options: opts,
	}
	rin.SetBodyBytes(out)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		return fmt.Sprintf("%s: the answer does not match the document: %v", exchange, err)
	}
	return ""
}

// documented returns the response op documents for status, or nil.
func documented(op *openapi3.Operation, status int) *openapi3.Response {
	r := op.Responses.Status(status)
	if r == nil {
		r = op.Responses.Default()
	}
	if r == nil {
		return nil
	}
	return r.Value
}

// problem checks an answer outside every operation: a Problem.
func (v *validator) problem(exchange string, res *http.Response, got []byte) string {
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("%s: Content-Type %q, want application/problem+json", exchange, ct)
	}
	body, err := openapi3filter.JSONBodyDecoder(bytes.NewReader(got), res.Header, nil, nil)
	if err != nil {
		return fmt.Sprintf("%s: %v", exchange, err)
	}
	if err := v.responses.problem.VisitJSON(body, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse(),
		openapi3.SetSchemaErrorMessageCustomizer(schemaError)); err != nil {
		return fmt.Sprintf("%s: not a Problem: %v", exchange, err)
	}
	return ""
}

// schemaError lists where a value fails and why, each place once, without
// the library's dumps of the schema and the value, which run to pages.
func schemaError(e *openapi3.SchemaError) string {
	var leaves []string
	var walk func(error)
	walk = func(err error) {
		switch err := err.(type) {
		case openapi3.MultiError:
			for _, x := range err {
				walk(x)
			}
		case *openapi3.SchemaError:
			if err.Origin == nil {
				leaves = append(leaves, leafReason(err))
			} else {
				walk(err.Origin)
			}
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
			} else {
				leaves = append(leaves, err.Error())
			}
		}
	}
	walk(e)
	// A value that fails its schema leaves its siblings unevaluated, so
	// each failure brings "not named" reports along: the failures first.
	slices.SortFunc(leaves, func(a, b string) int {
		if na, nb := strings.HasSuffix(a, notNamed), strings.HasSuffix(b, notNamed); na != nb {
			if na {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	return strings.Join(slices.Compact(leaves), " | ")
}

const notNamed = "a property the document does not name (or one whose value failed)"

func leafReason(e *openapi3.SchemaError) string {
	reason := e.Reason
	if rest, ok := strings.CutPrefix(reason, `error at "`); ok {
		if _, after, ok := strings.Cut(rest, `": `); ok {
			reason = after
		}
	}
	reason = strings.ReplaceAll(reason, "false schema", notNamed)
	if strings.HasPrefix(reason, "at '") {
		return reason // the JSON Schema 2020-12 validator names the place
	}
	return "at '/" + strings.Join(e.JSONPointer(), "/") + "': " + reason
}

// bearer admits a request that carries a bearer token: whether the token
// is good is the server's business, and a refusal is checked as any other.
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		return in.NewError(fmt.Errorf("security scheme %q is not bearer", in.SecuritySchemeName))
	}
	scheme, token, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("no bearer token"))
	}
	return nil
}

// inflate undoes a gzip Content-Encoding.
func inflate(h http.Header, body []byte) ([]byte, error) {
	switch enc := h.Get("Content-Encoding"); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	default:
		return nil, fmt.Errorf("Content-Encoding %q", enc)
	}
}

// capture keeps what the transport read of a request body.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) tee(body io.ReadCloser) io.ReadCloser {
	return struct {
		io.Reader
		io.Closer
	}{io.TeeReader(body, c), body}
}

func (c *capture) restart(body io.ReadCloser) io.ReadCloser {
	c.mu.Lock()
	c.buf.Reset()
	c.mu.Unlock()
	return c.tee(body)
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *capture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

// replay gives the caller the body as it came, its read error included.
func replay(body []byte, err error) io.ReadCloser {
	r := io.Reader(bytes.NewReader(body))
	if err != nil {
		r = io.MultiReader(r, errReader{err})
	}
	return io.NopCloser(r)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
