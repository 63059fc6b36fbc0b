package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync/warranty"
)

// handleWarrantyDecide answers what remedy the server's warranty policy
// gives, for hotline staff and outside systems; technicians decide the
// same offline with the same package.
func (s *Server) handleWarrantyDecide() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req warranty.Request
		if err := decode(c, &req); err != nil {
			return err
		}
		in, err := req.Input()
		if err != nil {
			return err
		}
		d, err := warranty.Decide(s.deps.Warranty, s.deps.Calendar, in)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, d)
	}
}
