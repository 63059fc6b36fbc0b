package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// userView is a user as the API shows it: never the password hash.
type userView struct {
	ID    string         `json:"id"`
	Login string         `json:"login"`
	Role  fieldsync.Role `json:"role"`
	Name  string         `json:"name"`
	// DisabledAt is set while an admin has the account disabled.
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

func viewUser(u *fieldsync.User) userView {
	return userView{ID: u.ID, Login: u.Login, Role: u.Role, Name: u.Name, DisabledAt: u.DisabledAt}
}

// meView is the caller's own account and, for a customer login, the
// customer records it reads as (Customer.UserID); empty for other roles.
type meView struct {
	userView
	Customers []fieldsync.Customer `json:"customers"`
}

func (s *Server) handleMe() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u, err := s.deps.Store.User(ctx, principalFrom(c).UserID)
		if err != nil {
			return err
		}
		viewer, err := s.viewer(c)
		if err != nil {
			return err
		}
		me := meView{userView: viewUser(u), Customers: []fieldsync.Customer{}}
		for _, id := range viewer.CustomerIDs {
			cu, err := s.deps.Store.Customer(ctx, id)
			if err != nil {
				return err
			}
			me.Customers = append(me.Customers, *cu)
		}
		return respond(c, http.StatusOK, me)
	}
}

func (s *Server) handleListUsers() echo.HandlerFunc {
	return func(c echo.Context) error {
		var role fieldsync.Role
		if r := c.QueryParam("role"); r != "" {
			var err error
			if role, err = fieldsync.ParseRole(r); err != nil {
				return err
			}
		}
		users, err := s.deps.Store.Users(c.Request().Context(), role)
		if err != nil {
			return err
		}
		out := make([]userView, 0, len(users))
		for i := range users {
			out = append(out, viewUser(&users[i]))
		}
		return respond(c, http.StatusOK, whole(out))
	}
}

type createUserRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Name     string `json:"name"`
}

func (s *Server) handleCreateUser() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req createUserRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		u, err := s.deps.Auth.CreateUser(c.Request().Context(), req.Login, req.Name, req.Password, fieldsync.Role(req.Role))
		if err != nil {
			return err
		}
		return respond(c, http.StatusCreated, viewUser(u))
	}
}

func (s *Server) handleListDevices() echo.HandlerFunc {
	return func(c echo.Context) error {
		devices, err := s.deps.Store.Devices(c.Request().Context())
		if err != nil {
			return err
		}
		if devices == nil {
			devices = []fieldsync.Device{}
		}
		return respond(c, http.StatusOK, whole(devices))
	}
}

func (s *Server) handleRevokeDevice() echo.HandlerFunc {
	return func(c echo.Context) error {
		// Device ids are per user: user_id picks one when several users
		// have a device of that id.
		d, err := s.deps.Store.RevokeDevice(c.Request().Context(), c.QueryParam("user_id"), c.Param("id"), s.deps.Now().UTC())
		if err != nil {
			return err
		}
		s.log.Info("device revoked", "device", d.ID, "user", d.UserID, "by", principalFrom(c).UserID)
		return respond(c, http.StatusOK, d)
	}
}
