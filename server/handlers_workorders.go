package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// handleListWorkOrders lists work orders a page at a time, in creation
// order: ?ticket= and ?asset= filter. Staff list every one; a
// customer names one of their own tickets or assets (an unseen one
// answers not_found).
func (s *Server) handleListWorkOrders() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		f := fieldsync.WorkOrderFilter{TicketID: c.QueryParam("ticket"), AssetID: c.QueryParam("asset"), Cursor: c.QueryParam("cursor")}
		var err error
		if f.Limit, err = queryLimit(c.QueryParam("limit")); err != nil {
			return err
		}
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		if !v.Internal() {
			if f.TicketID == "" && f.AssetID == "" {
				return fieldsync.Errorf(fieldsync.EInvalid, "ticket or asset: a customer lists the work orders of one of their tickets or assets")
			}
			if f.TicketID != "" {
				t, err := s.deps.Store.Ticket(ctx, f.TicketID)
				if err != nil {
					return err
				}
				if !v.SeesCustomerRecord(t.CustomerID) {
					return notVisible(fieldsync.EntityTicket, f.TicketID)
				}
			}
			if f.AssetID != "" {
				if _, err := s.seenAsset(c, v, f.AssetID); err != nil {
					return err
				}
			}
		}
		list, next, err := s.deps.Store.WorkOrders(ctx, f)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(list, next))
	}
}

// handleGetWorkOrder answers one work order its reader may see.
func (s *Server) handleGetWorkOrder() echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		w, err := s.deps.Store.WorkOrder(c.Request().Context(), id)
		if err != nil {
			return err
		}
		if !v.SeesCustomerRecord(w.CustomerID) {
			return notVisible(fieldsync.EntityWorkOrder, id)
		}
		return respond(c, http.StatusOK, w)
	}
}

// handleAssetCertificates lists the warranty certificates of an asset's
// repaired parts, oldest first, to staff and to the asset's customer.
func (s *Server) handleAssetCertificates() echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		a, err := s.seenAsset(c, v, c.Param("id"))
		if err != nil {
			return err
		}
		certs, err := s.deps.Store.Certificates(c.Request().Context(), a.ID)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(certs, ""))
	}
}

// seenAsset loads an asset v may read; to others it does not exist.
func (s *Server) seenAsset(c echo.Context, v fieldsync.Viewer, id string) (*fieldsync.Asset, error) {
	a, err := s.deps.Store.Asset(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !v.SeesCustomerRecord(a.CustomerID) {
		return nil, notVisible(fieldsync.EntityAsset, id)
	}
	return a, nil
}
