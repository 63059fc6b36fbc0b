package clientsdk

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/tus"
)

// tusClient speaks the server's media protocol (see upload.go): one method
// per request, each with the access token. It keeps no state of its own.
type tusClient struct {
	api          *api
	session      *session
	base         string        // the server's base URL
	timeout      time.Duration // of a request without a chunk
	chunkTimeout time.Duration // of a PATCH
}

// stored asks whether the server holds verified bytes of this hash
// (HEAD /v1/media/{sha256}).
func (t *tusClient) stored(ctx context.Context, sha string) (bool, error) {
	_, err := t.do(ctx, http.MethodHead, "/v1/media/"+sha, nil, nil, 0, 0, t.timeout)
	switch classify(err) {
	case succeeded:
		return true, nil
	case absent:
		return false, nil
	}
	return false, err
}

// attach puts bytes the server has on the photo's report and slot
// (POST /v1/media/{sha}/attach). It reports false when the server will not
// attach them — it lets only those who may already see a photo attach it
// (a hash is no proof of holding it), or it has no such call — and then
// only an upload attaches them.
func (t *tusClient) attach(ctx context.Context, e *photoEntry) (bool, error) {
	req := struct {
		ReportID string `json:"report_id"`
		Slot     string `json:"slot"`
	}{e.ReportID, e.Slot}
	err := t.session.call(ctx, http.MethodPost, "/v1/media/"+e.SHA256+"/attach", nil, t.timeout, req, nil)
	switch code(err) {
	case "":
		return true, nil
	case fieldsync.ENotFound, fieldsync.ERouteNotFound, fieldsync.EMethod:
		return false, nil
	}
	return false, err
}

// create starts an upload of the photo and returns its path.
func (t *tusClient) create(ctx context.Context, e *photoEntry) (string, error) {
	meta := map[string]string{tus.MetaSHA256: e.SHA256, tus.MetaReportID: e.ReportID, tus.MetaSlot: e.Slot}
	if e.Filename != "" {
		meta[tus.MetaFilename] = e.Filename
	}
	if e.Type != "" {
		meta[tus.MetaFiletype] = e.Type
	}
	if !e.CapturedAt.IsZero() {
		meta[tus.MetaCapturedAt] = e.CapturedAt.UTC().Format(time.RFC3339)
	}
	hdr := http.Header{}
	hdr.Set(tus.HeaderLength, strconv.FormatInt(e.Size, 10))
	hdr.Set(tus.HeaderMetadata, tus.EncodeMetadata(meta))
	h, err := t.do(ctx, http.MethodPost, tus.UploadsPath, hdr, nil, 0, 0, t.timeout)
	if err != nil {
		return "", err
	}
	return uploadPath(t.base, h.Get("Location"))
}

// offset asks how many bytes an upload holds.
func (t *tusClient) offset(ctx context.Context, path string) (int64, error) {
	h, err := t.do(ctx, http.MethodHead, path, nil, nil, 0, 0, t.timeout)
	if err != nil {
		return 0, err
	}
	off, err := strconv.ParseInt(h.Get(tus.HeaderOffset), 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("HEAD %s: the server sent no Upload-Offset", path)
	}
	return off, nil
}

// patch sends n bytes of f from off, with their checksum: the server
// keeps none of them unless all arrived intact.
func (t *tusClient) patch(ctx context.Context, path string, f *os.File, off, n int64) (http.Header, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, off, n)); err != nil {
		return nil, err
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", tus.ContentType)
	hdr.Set(tus.HeaderOffset, strconv.FormatInt(off, 10))
	hdr.Set(tus.HeaderChecksum, tus.Checksum{Algorithm: "sha256", Sum: h.Sum(nil)}.String())
	return t.do(ctx, http.MethodPatch, path, hdr, f, off, n, t.chunkTimeout)
}

// remove lets the server drop an upload.
func (t *tusClient) remove(ctx context.Context, path string) error {
	_, err := t.do(ctx, http.MethodDelete, path, nil, nil, 0, 0, t.timeout)
	return err
}

// do sends one tus request with the access token. A 401 renews the token
// and tries once more: answers to HEAD have no body to say whether the
// token expired or the device was revoked, and the refresh finds out.
func (t *tusClient) do(ctx context.Context, method, path string, hdr http.Header, body io.ReaderAt, off, n int64, timeout time.Duration) (http.Header, error) {
	var h http.Header
	err := t.session.authed(ctx, func(tok string) (bool, error) {
		var (
			status int
			err    error
		)
		h, status, err = t.api.tus(ctx, method, path, tok, hdr, body, off, n, timeout)
		return status == http.StatusUnauthorized && code(err) != fieldsync.EDeviceRevoked, err
	})
	return h, err
}

// tus sends one request of the tus protocol; body, when not nil, is the
// section [off, off+n) of it, read as the request goes out. It returns the
// answer's headers and status; an error answer is a *fieldsync.Error.
func (a *api) tus(ctx context.Context, method, path, token string, hdr http.Header, body io.ReaderAt, off, n int64, timeout time.Duration) (http.Header, int, error) {
	if a.base == "" {
		return nil, 0, fieldsync.Errorf(fieldsync.EInvalid, "clientsdk: no ServerURL: the client is offline only")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.ContentLength = n
		req.Body = http.NoBody
		if n > 0 {
			req.Body = io.NopCloser(io.NewSectionReader(body, off, n))
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(body, off, n)), nil }
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set(tus.HeaderResumable, tus.Version)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.t.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
	}()
	if resp.StatusCode >= 400 {
		return resp.Header, resp.StatusCode, fmt.Errorf("%s %s: %d: %w", method, path, resp.StatusCode, problemWith(resp, tusCodeOf))
	}
	return resp.Header, resp.StatusCode, nil
}

// tusCodeOf names an error answer without a body (HEAD) by its status, as
// the server's tus endpoints use them.
func tusCodeOf(status int) string {
	switch status {
	case http.StatusForbidden:
		return fieldsync.EForbidden
	case http.StatusNotFound:
		return fieldsync.ENotFound
	case http.StatusConflict:
		return fieldsync.EOffsetMismatch
	case http.StatusGone:
		return fieldsync.EUploadExpired
	case http.StatusPreconditionFailed:
		return fieldsync.ETusVersion
	case http.StatusRequestEntityTooLarge:
		return fieldsync.ETooLarge
	case http.StatusUnprocessableEntity:
		return fieldsync.EImageTooLarge
	case 460:
		return fieldsync.EChecksumMismatch
	}
	return codeOfStatus(status)
}

// uploadPath turns the Location of a new upload into a path under the
// server's base URL. The token goes to no other origin and no other route.
func uploadPath(base, loc string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u, err := b.Parse(loc)
	if err != nil || loc == "" {
		return "", fmt.Errorf("the server gave the upload no usable Location (%q)", loc)
	}
	if u.Scheme != b.Scheme || u.Host != b.Host {
		return "", fmt.Errorf("the server sent the upload to another origin (%s)", u.Redacted())
	}
	p := strings.TrimPrefix(u.EscapedPath(), strings.TrimRight(b.EscapedPath(), "/"))
	if !strings.HasPrefix(p, tus.UploadsPath+"/") || len(p) == len(tus.UploadsPath)+1 || strings.Contains(p, "/../") {
		return "", fmt.Errorf("the server's Location %q is not an upload", loc)
	}
	return p, nil
}
