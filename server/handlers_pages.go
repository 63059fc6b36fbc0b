package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/warranty"
	"github.com/fieldsync/fieldsync/web"
)

// The pages: a share link's report as HTML at pagePrefix + token, and the
// pages' assets. Pages are not API operations: openapi.json leaves them
// out (TestOpenAPIMatchesRoutes skips these prefixes).
const (
	pagePrefix     = "/r/"
	staticPath     = web.StaticPrefix + ":name"
	dispatchPrefix = "/dispatch/" // the staff's browser session (session.go)
)

// pageRoute reports whether a route's path is a page, an asset or the
// browser session behind the pages, which openapi.json leaves out.
func pageRoute(path string) bool {
	return strings.HasPrefix(path, pagePrefix) || strings.HasPrefix(path, web.StaticPrefix) || strings.HasPrefix(path, dispatchPrefix)
}

// pages are parsed once; a page or catalogue that does not parse stops the
// server at start, not at a customer's request.
var pages = func() *web.Pages {
	p, err := web.Load()
	if err != nil {
		panic(err)
	}
	return p
}()

// reportPage is what the report page shows: the report as its share link
// shows it (sharedView), with its ticket and product.
type reportPage struct {
	View     sharedView
	Ticket   fieldsync.Ticket
	Asset    fieldsync.Asset
	SealedAt time.Time
	// Warranty is the device's decision, as the customer signs it.
	Warranty  *warranty.Decision
	SignOffAt time.Time
}

// handleReportPage shows a share link's report to its customer, through
// the rules of GET /v1/shared/{token}. A link that no longer opens, or
// none, is a page saying so (410, 404) in the reader's language.
func (s *Server) handleReportPage() echo.HandlerFunc {
	return func(c echo.Context) error {
		l, r, err := s.sharedReport(c)
		if err != nil {
			return s.linkPage(c, err)
		}
		v, err := s.sharedViewOf(c, l, r, "/v1/shared/"+c.Param("token"))
		if err != nil {
			return err
		}
		vb, err := s.deps.Store.VisitBundle(c.Request().Context(), r.VisitID)
		if err != nil {
			return err
		}
		p := reportPage{View: v, Ticket: vb.Ticket, Asset: vb.Asset}
		if r.Seal != nil {
			p.SealedAt, _ = time.Parse(time.RFC3339, r.Seal.SealedAt)
		}
		if so := v.Report.CustomerSignOff; so != nil {
			p.SignOffAt, _ = time.Parse(time.RFC3339, so.At)
		}
		if r.Warranty != nil {
			var d warranty.Decision
			if json.Unmarshal(r.Warranty.Decision, &d) == nil {
				p.Warranty = &d
			}
		}
		return pages.Render(c.Response(), c.Request(), http.StatusOK, "report", p)
	}
}

// linkPage answers a link that does not open with a page saying why, or
// err itself when it is not about the link.
func (s *Server) linkPage(c echo.Context, err error) error {
	switch fieldsync.ErrorCode(err) {
	case fieldsync.ELinkExpired, fieldsync.ELinkRevoked:
		data := struct{ Revoked bool }{fieldsync.ErrorCode(err) == fieldsync.ELinkRevoked}
		return pages.Render(c.Response(), c.Request(), http.StatusGone, "gone", data)
	case fieldsync.ENotFound:
		return pages.Render(c.Response(), c.Request(), http.StatusNotFound, "notfound", nil)
	}
	return err
}

// handleStatic serves the pages' assets by their hashed names.
func (s *Server) handleStatic() echo.HandlerFunc {
	return func(c echo.Context) error {
		pages.ServeAsset(c.Response(), c.Request(), c.Param("name"))
		return nil
	}
}
