package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync/sync/translog"
)

// handleLogHead answers the transparency log's current tree head, a note
// signed with the server's signing key (named translog.KeyName(kid)).
func (s *Server) handleLogHead() echo.HandlerFunc {
	return func(c echo.Context) error {
		key := s.deps.Issuer.Keys.Signing()
		signer, err := translog.NewSigner(key.Kid, key.Private)
		if err != nil {
			return err
		}
		var head []byte
		if err := s.deps.Store.ViewLog(c.Request().Context(), func(r translog.Reader) error {
			head, err = translog.SignedHead(r, signer)
			return err
		}); err != nil {
			return err
		}
		// The head moves with every seal.
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", head)
	}
}
