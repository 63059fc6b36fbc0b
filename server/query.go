package server

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// queryParams lists the query parameters each route takes, by method and
// path as routes.go registers it; a route not listed takes none.
// openapi.json documents exactly these (TestOpenAPIQueryParameters).
var queryParams = map[string][]string{
	"GET /v1/users":                {"role"},
	"GET /v1/tickets":              {"customer_id", "status", "zone", "channel", "kind", "from", "to", "contact", "sla", "cursor", "limit"},
	"GET /v1/customers":            {"q", "cursor", "limit"},
	"GET /v1/sites":                {"customer", "cursor", "limit"},
	"GET /v1/assets":               {"serial", "model", "q", "cursor", "limit"},
	"GET /v1/visits":               {"technician", "ticket", "status", "sla", "sla_warning", "from", "to", "cursor", "limit"},
	"GET /v1/reports":              {"ticket", "cursor", "limit", "warranty_disputed"},
	"GET /v1/second-visits":        {"state", "cursor", "limit"},
	"GET /v1/reports/:id/bundle":   {"since"},
	"GET /v1/shared/:token/bundle": {"since"},
	"GET /v1/audit":                {"entity", "id", "cursor", "limit"},
	"GET /v1/sync/pull":            {"cursor", "limit", "wait"},
	"GET /v1/media/:sha":           {"variant"},
	"GET " + sharedMediaPath:       {"variant"},
	"POST /v1/devices/:id/revoke":  {"user_id"},
	"GET /v1/followups":            {"status", "due", "cursor", "limit"},
	"GET /v1/complaints":           {"status", "due", "level", "cursor", "limit"},
	"GET /v1/workorders":           {"ticket", "asset", "cursor", "limit"},
	"GET /v1/pickups":              {"state", "kind", "ticket", "cursor", "limit"},

	// The transparency log's proofs: public.
	"GET /v1/log/proof/inclusion":   {"index", "size"},
	"GET /v1/log/proof/consistency": {"old", "new"},

	// The report page: lang is the language switch (web.Lang).
	"GET " + pagePrefix + ":token": {"lang"},
}

// checkQuery refuses a query parameter the route does not take, or one
// given twice: ignored, a misspelt filter (?technican=) would answer
// everything as if it were the filtered list.
func (s *Server) checkQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := c.Request().URL.RawQuery
		if raw == "" {
			return next(c)
		}
		route := c.Request().Method + " " + c.Path()
		if _, ok := s.routeSet[route]; !ok {
			return next(c) // no such route: the 404 or 405 says so
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			return fieldsync.Errorf(fieldsync.EInvalid, "the query string is malformed; escape its values with percent-encoding")
		}
		takes := queryParams[route]
		op := c.Request().Method + " " + apiPath(c.Path())
		for _, name := range slices.Sorted(maps.Keys(q)) {
			switch {
			case !slices.Contains(takes, name) && len(takes) == 0:
				return fieldsync.Errorf(fieldsync.EInvalid, "unknown query parameter %q: %s takes none", name, op)
			case !slices.Contains(takes, name):
				return fieldsync.Errorf(fieldsync.EInvalid, "unknown query parameter %q: %s takes %s", name, op, strings.Join(takes, ", "))
			case len(q[name]) > 1:
				return fieldsync.Errorf(fieldsync.EInvalid, "query parameter %q is given %d times; give it once", name, len(q[name]))
			}
		}
		return next(c)
	}
}

// apiPath writes an Echo route path as the API documents it:
// /v1/media/:sha as /v1/media/{sha}.
func apiPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if name, ok := strings.CutPrefix(part, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}
