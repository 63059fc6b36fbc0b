package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// settleRequest is the body of POST /v1/reports/:id/warranty/settle.
type settleRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

// handleSettleWarranty records a dispatcher's ruling on a report's
// disputed warranty decision (fieldsync.Report.SettleWarranty), audited.
func (s *Server) handleSettleWarranty() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req settleRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		ctx, a, now := c.Request().Context(), actor(c), s.deps.Now().UTC()
		r, err := s.deps.Store.UpdateReport(ctx, c.Param("id"), a, "report.warranty_settle", now, func(r *fieldsync.Report) error {
			return r.SettleWarranty(req.Outcome, req.Note, a.UserID, now)
		})
		if err != nil {
			return err
		}
		viewer, err := s.viewer(c)
		if err != nil {
			return err
		}
		views, err := s.reportViews(ctx, viewer, []fieldsync.Report{*r})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, views[0])
	}
}

// listDisputedReports pages through the reports whose warranty decision
// is disputed (?warranty_disputed=true), for staff.
func (s *Server) listDisputedReports(c echo.Context) error {
	q := c.QueryParams()
	if q.Get("warranty_disputed") != "true" {
		return fieldsync.Errorf(fieldsync.EInvalid, "warranty_disputed takes only true")
	}
	if q.Has("ticket") {
		return fieldsync.Errorf(fieldsync.EInvalid, "warranty_disputed lists across tickets: leave out ticket")
	}
	viewer, err := s.viewer(c)
	if err != nil {
		return err
	}
	if !viewer.Internal() {
		return fieldsync.Errorf(fieldsync.EForbidden, "the disputed warranty decisions are the dispatchers' to settle")
	}
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	reports, next, err := s.deps.Store.DisputedReports(ctx, q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	views, err := s.reportViews(ctx, viewer, reports)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, paged(views, next))
}
