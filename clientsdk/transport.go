package clientsdk

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Transport is all the network the SDK needs: send one request, get its
// response. *http.Client satisfies it. Wrap one to cut the network, count
// requests or inject faults; the SDK puts a deadline on every request's
// context.
type Transport interface {
	Do(req *http.Request) (*http.Response, error)
}

// Limits on what the SDK reads from the server.
const (
	maxResponseBytes = 64 << 20 // a pull page of up to 1000 records
	maxProblemBytes  = 64 << 10
)

// api speaks the server's JSON over a Transport. It knows nothing of
// tokens beyond sending the one it is given.
type api struct {
	base    string
	t       Transport
	timeout time.Duration
}

// problem is the server's application/problem+json error body.
type problem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// call sends in (when non-nil) as JSON and decodes the answer into out
// (when non-nil). The request runs under timeout on top of ctx. An error
// answer is a *fieldsync.Error with the server's code in the chain;
// failures to reach the server are returned as they are.
func (a *api) call(ctx context.Context, method, path string, q url.Values, token string, timeout time.Duration, in, out any) error {
	if a.base == "" {
		return fieldsync.Errorf(fieldsync.EInvalid, "clientsdk: no ServerURL: the client is offline only")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(syncproto.Header, strconv.Itoa(syncproto.Version))
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.t.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // lets the connection be reused
		resp.Body.Close()
	}()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("%s %s: %d: %w", method, path, resp.StatusCode, problemOf(resp))
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes))
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return nil
}

// problemOf reads an error answer. A body that is not a problem document
// (a proxy's HTML page) gets a code from the status.
func problemOf(resp *http.Response) *fieldsync.Error { return problemWith(resp, codeOfStatus) }

// problemWith reads an error answer; fallback names the code of an answer
// without one (a proxy's page, or an answer to HEAD, which has no body).
func problemWith(resp *http.Response, fallback func(status int) string) *fieldsync.Error {
	var p problem
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblemBytes))
	_ = json.Unmarshal(raw, &p)
	e := &fieldsync.Error{Code: p.Code, Detail: p.Detail}
	if e.Code == "" {
		e.Code = fallback(resp.StatusCode)
	}
	if e.Detail == "" {
		e.Detail = cmp.Or(p.Title, http.StatusText(resp.StatusCode))
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = s
	}
	return e
}

func codeOfStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return fieldsync.EUnauthorized
	case status == http.StatusTooManyRequests:
		return fieldsync.ETooMany
	case status >= 500:
		return fieldsync.EUnavailable
	default:
		return fieldsync.EInvalid
	}
}

// retryAfter is how long the server asked us to wait, 0 when it did not.
func retryAfter(err error) time.Duration {
	var e *fieldsync.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return time.Duration(e.RetryAfter) * time.Second
	}
	return 0
}
