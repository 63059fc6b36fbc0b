package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// handleChangePassword sets the caller's own password; their other
// sign-ins end, this one goes on.
func (s *Server) handleChangePassword() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req changePasswordRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		p := principalFrom(c)
		if err := s.deps.Auth.ChangePassword(c.Request().Context(), p, req.CurrentPassword, req.NewPassword, c.RealIP()); err != nil {
			return err
		}
		s.log.Info("password changed", "user", p.UserID)
		return c.NoContent(http.StatusNoContent)
	}
}

type resetPasswordRequest struct {
	Password string `json:"password"`
}

// handleResetPassword sets a user's password for them; all their
// sign-ins end.
func (s *Server) handleResetPassword() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req resetPasswordRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		u, err := s.deps.Auth.ResetPassword(c.Request().Context(), c.Param("id"), req.Password)
		if err != nil {
			return err
		}
		s.log.Info("password reset", "user", u.ID, "by", principalFrom(c).UserID)
		return c.NoContent(http.StatusNoContent)
	}
}

func (s *Server) handleDisableUser() echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := s.deps.Auth.DisableUser(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		s.log.Info("user disabled", "user", u.ID, "by", principalFrom(c).UserID)
		return respond(c, http.StatusOK, viewUser(u))
	}
}

func (s *Server) handleEnableUser() echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := s.deps.Auth.EnableUser(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		s.log.Info("user enabled", "user", u.ID, "by", principalFrom(c).UserID)
		return respond(c, http.StatusOK, viewUser(u))
	}
}
