package server

import (
	"context"
	_ "embed"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) handleHealth() echo.HandlerFunc {
	return func(c echo.Context) error {
		return respond(c, http.StatusOK, map[string]string{"status": "ok", "version": s.deps.Version})
	}
}

// handleReady answers 200 only when the store answers a read within 2 s.
func (s *Server) handleReady() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.deps.Store.Ping(ctx); err != nil {
			s.log.Error("store not ready", "error", err.Error())
			return fieldsync.Errorf(fieldsync.EUnavailable, "the store does not answer")
		}
		return respond(c, http.StatusOK, map[string]string{"status": "ready"})
	}
}

func (s *Server) handleOpenAPI() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDoc)
	}
}

func (s *Server) handleJWKS() echo.HandlerFunc {
	return func(c echo.Context) error {
		doc, err := s.deps.Issuer.Keys.JWKS()
		if err != nil {
			return err
		}
		// Verifiers may cache the set briefly; a new key is added before it
		// signs anything only at the next restart, so 5 minutes is safe.
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, "application/jwk-set+json", doc)
	}
}
