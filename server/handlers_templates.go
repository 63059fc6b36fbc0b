package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

func (s *Server) handleListTemplates() echo.HandlerFunc {
	return func(c echo.Context) error {
		return respond(c, http.StatusOK, whole(s.deps.Templates))
	}
}

func (s *Server) handleGetTemplate() echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, t := range s.deps.Templates {
			if t.ID == c.Param("id") {
				return respond(c, http.StatusOK, t)
			}
		}
		return fieldsync.Errorf(fieldsync.ENotFound, "template %q not found", c.Param("id"))
	}
}
