package server

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// decompress inflates a gzip request body and refuses a body in any other
// content coding: parsed as it stands, a brotli or deflate body would be
// answered as malformed JSON or, worse, read as photo bytes.
func decompress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		enc := strings.ToLower(strings.TrimSpace(r.Header.Get(echo.HeaderContentEncoding)))
		switch {
		case enc == "" || enc == "identity" || r.Body == nil || r.Body == http.NoBody:
			return next(c)
		case enc == "gzip" || enc == "x-gzip":
			r.Body = &gzipBody{raw: &sourceBody{r: r.Body}}
			r.Header.Del(echo.HeaderContentLength)
			r.ContentLength = -1
			return next(c)
		}
		return fieldsync.Errorf(fieldsync.EUnsupportedEncoding,
			"Content-Encoding %q is not supported; send the body as gzip or uncompressed", enc)
	}
}

// gzipBody inflates raw on first read. Its errors say what is wrong with
// the body: not gzip, or cut short, unless the connection itself failed.
type gzipBody struct {
	raw *sourceBody
	zr  *gzip.Reader
	err error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.zr == nil {
		zr, err := gzip.NewReader(g.raw)
		if err == io.EOF {
			g.err = err // no body at all, as a plain request may have none
			return 0, err
		}
		if err != nil {
			g.err = g.explain(err)
			return 0, g.err
		}
		g.zr = zr
	}
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		g.err = g.explain(err)
		err = g.err
	}
	return n, err
}

func (g *gzipBody) Close() error { return g.raw.r.Close() }

func (g *gzipBody) explain(err error) error {
	if g.raw.err != nil && g.raw.err != io.EOF {
		return g.raw.err // the connection or a limit, not the coding
	}
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrHeader):
		return fieldsync.Errorf(fieldsync.EInvalid, "the body is not valid gzip (Content-Encoding: gzip, but no gzip header)")
	case errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt):
		return fieldsync.Errorf(fieldsync.EInvalid, "the body is not valid gzip (its compressed data is corrupt)")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fieldsync.Errorf(fieldsync.EInvalid, "the body is not valid gzip (it ends before the gzip stream does)")
	}
	return err
}

// sourceBody remembers the error of the reader under the gzip stream.
type sourceBody struct {
	r   io.ReadCloser
	err error
}

func (s *sourceBody) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil {
		s.err = err
	}
	return n, err
}
