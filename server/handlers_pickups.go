package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// pickupView is a pick-up record with its state at the time of the
// request.
type pickupView struct {
	fieldsync.Pickup
	State fieldsync.PickupState `json:"state"`
}

// handleListPickups is the dispatcher's list of pick-ups and appraisal
// slips, in creation order a page at a time: ?state=due|overdue|done
// (judged now), ?kind=, ?ticket=.
func (s *Server) handleListPickups() echo.HandlerFunc {
	return func(c echo.Context) error {
		f := fieldsync.PickupFilter{Now: s.deps.Now(), TicketID: c.QueryParam("ticket"), Cursor: c.QueryParam("cursor")}
		var err error
		if st := c.QueryParam("state"); st != "" {
			if f.State, err = fieldsync.ParsePickupState(st); err != nil {
				return err
			}
		}
		if k := c.QueryParam("kind"); k != "" {
			if f.Kind, err = fieldsync.ParsePickupRecordKind(k); err != nil {
				return err
			}
		}
		if f.Limit, err = queryLimit(c.QueryParam("limit")); err != nil {
			return err
		}
		list, next, err := s.deps.Store.Pickups(c.Request().Context(), f)
		if err != nil {
			return err
		}
		items := make([]pickupView, len(list))
		for i := range list {
			items[i] = pickupView{Pickup: list[i], State: list[i].State(f.Now)}
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}

// handleGetPickup reads one record: staff any, a customer those of their
// own tickets; to others it does not exist.
func (s *Server) handleGetPickup() echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		p, err := s.deps.Store.Pickup(c.Request().Context(), id)
		if err != nil {
			return err
		}
		if !v.SeesPickup(p) {
			return notVisible(fieldsync.EntityPickup, id)
		}
		return respond(c, http.StatusOK, pickupView{Pickup: *p, State: p.State(s.deps.Now())})
	}
}
