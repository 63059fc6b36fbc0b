package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

func (s *Server) handleAudit() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		f := fieldsync.AuditFilter{Entity: fieldsync.Entity(q.Get("entity")), ID: q.Get("id"), Cursor: q.Get("cursor")}
		if f.ID != "" && f.Entity == "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "id needs entity")
		}
		var err error
		if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
			return err
		}
		entries, next, err := s.deps.Store.Audit(c.Request().Context(), f)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(entries, next))
	}
}
