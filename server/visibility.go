package server

import (
	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

const viewerKey = "fieldsync.viewer"

// viewer returns who reads, for fieldsync.Viewer.Sees: a customer login
// comes with the customer records linked to it, read once per request.
func (s *Server) viewer(c echo.Context) (fieldsync.Viewer, error) {
	if v, ok := c.Get(viewerKey).(fieldsync.Viewer); ok {
		return v, nil
	}
	p := principalFrom(c)
	v := fieldsync.Viewer{UserID: p.UserID, Role: p.Role}
	if p.Is(fieldsync.RoleCustomer) {
		ids, err := s.deps.Store.CustomerIDsOfUser(c.Request().Context(), p.UserID)
		if err != nil {
			return v, err
		}
		v.CustomerIDs = ids
	}
	c.Set(viewerKey, v)
	return v, nil
}

// seen returns nil when the caller may see records of the ticket (and of
// the visit, when not nil), and otherwise the not-found error of the
// record named by kind and id.
func (s *Server) seen(c echo.Context, t *fieldsync.Ticket, visit *fieldsync.Visit, kind fieldsync.Entity, id string) error {
	v, err := s.viewer(c)
	if err != nil {
		return err
	}
	if !v.Sees(t, visit) {
		return notVisible(kind, id)
	}
	return nil
}

// seenReport loads a report the caller may see, with its visit's bundle;
// to others it does not exist (ENotFound naming kind and id).
func (s *Server) seenReport(c echo.Context, reportID string, kind fieldsync.Entity, id string) (*fieldsync.Report, *fieldsync.VisitBundle, error) {
	ctx := c.Request().Context()
	r, err := s.deps.Store.Report(ctx, reportID)
	if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
		return nil, nil, notVisible(kind, id)
	}
	if err != nil {
		return nil, nil, err
	}
	b, err := s.deps.Store.VisitBundle(ctx, r.VisitID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.seen(c, &b.Ticket, &b.Visit, kind, id); err != nil {
		return nil, nil, err
	}
	return r, b, nil
}
