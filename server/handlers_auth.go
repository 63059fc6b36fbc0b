package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/auth/authproto"
)

const (
	roleAdmin      = fieldsync.RoleAdmin
	roleDispatcher = fieldsync.RoleDispatcher
	roleTechnician = fieldsync.RoleTechnician
	roleCustomer   = fieldsync.RoleCustomer
)

// noStore keeps tokens out of every cache on the way.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}

func (s *Server) handleLogin() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req authproto.LoginRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		sess, err := s.deps.Auth.Login(c.Request().Context(), auth.Credentials{
			Login: req.Login, Password: req.Password, DeviceID: req.DeviceID, InstallID: req.InstallID, DeviceName: req.DeviceName,
			DeviceKey:  req.DeviceKey,
			ClientAddr: c.RealIP(),
		})
		if err != nil {
			return err
		}
		noStore(c)
		return respond(c, http.StatusOK, sess)
	}
}

func (s *Server) handleRefresh() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req authproto.RefreshRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		sess, err := s.deps.Auth.Refresh(c.Request().Context(), req.RefreshToken)
		if err != nil {
			return err
		}
		noStore(c)
		return respond(c, http.StatusOK, sess)
	}
}

func (s *Server) handleLogout() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req authproto.RefreshRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if err := s.deps.Auth.Logout(c.Request().Context(), req.RefreshToken); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
