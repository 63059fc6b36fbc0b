package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

type ticketStepRequest struct {
	Reason string `json:"reason"`
}

// handleTicketStep is staff's close, cancel or reopen of a ticket
// (fieldsync.Ticket.Transition).
func (s *Server) handleTicketStep(action fieldsync.TicketAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req ticketStepRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		t, err := s.deps.Store.TransitionTicket(c.Request().Context(), c.Param("id"), actor(c), action, req.Reason, s.deps.Now().UTC())
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, ticketView{Ticket: *t, SLA: s.ticketSLA(t)})
	}
}
