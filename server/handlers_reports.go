package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// handleGetReport serves a report with its photos to those who may see
// it (fieldsync.Viewer.Sees); to others it does not exist.
func (s *Server) handleGetReport() echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		r, _, err := s.seenReport(c, id, fieldsync.EntityReport, id)
		if err != nil {
			return err
		}
		viewer, err := s.viewer(c)
		if err != nil {
			return err
		}
		views, err := s.reportViews(c.Request().Context(), viewer, []fieldsync.Report{*r})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, views[0])
	}
}

// handleListReports lists the reports of one ticket (?ticket=), visit by
// visit, to staff and to the ticket's customer. Without a ticket, a
// customer pages through the reports of all their tickets; staff name one,
// or page through the disputed warranty decisions (?warranty_disputed=true).
func (s *Server) handleListReports() echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.QueryParams().Has("warranty_disputed") {
			return s.listDisputedReports(c)
		}
		id := c.QueryParam("ticket")
		ctx := c.Request().Context()
		if id == "" {
			viewer, err := s.viewer(c)
			if err != nil {
				return err
			}
			if viewer.Role != fieldsync.RoleCustomer {
				return fieldsync.Errorf(fieldsync.EInvalid, "ticket is required: reports are listed by ticket")
			}
			limit, err := queryLimit(c.QueryParam("limit"))
			if err != nil {
				return err
			}
			reports, next, err := s.deps.Store.CustomerReports(ctx, viewer.CustomerIDs, c.QueryParam("cursor"), limit)
			if err != nil {
				return err
			}
			views, err := s.reportViews(ctx, viewer, reports)
			if err != nil {
				return err
			}
			return respond(c, http.StatusOK, paged(views, next))
		}
		if c.QueryParam("cursor") != "" || c.QueryParam("limit") != "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "a ticket's reports come whole: cursor and limit page a customer's list without ticket")
		}
		t, reports, err := s.deps.Store.TicketReports(ctx, id)
		if err != nil {
			return err
		}
		if err := s.seen(c, t, nil, fieldsync.EntityTicket, t.ID); err != nil {
			return err
		}
		viewer, err := s.viewer(c)
		if err != nil {
			return err
		}
		views, err := s.reportViews(ctx, viewer, reports)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, whole(views))
	}
}
