package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

type ticketView struct {
	fieldsync.Ticket
	SLA slaView `json:"sla"`
}

type ticketRequest struct {
	CustomerID  string               `json:"customer_id"`
	SiteID      string               `json:"site_id"`
	AssetID     string               `json:"asset_id"`
	Channel     fieldsync.Channel    `json:"channel"`
	Kind        fieldsync.TicketKind `json:"kind"`
	Description string               `json:"description"`
}

// handleCreateTicket is the intake: the first-response clock starts now.
func (s *Server) handleCreateTicket() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req ticketRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		t := &fieldsync.Ticket{
			ID: newID(), CustomerID: req.CustomerID, SiteID: req.SiteID, AssetID: req.AssetID,
			Channel: req.Channel, Kind: req.Kind, Description: req.Description, CreatedAt: now,
		}
		if err := t.Validate(); err != nil {
			return err
		}
		due, err := s.deps.Policy.FirstContactDue(s.deps.Calendar, now)
		if err != nil {
			return err
		}
		t.FirstResponseDue, t.DueWarning = due.Due.UTC(), due.Warning
		if err := s.deps.Store.CreateTicket(c.Request().Context(), t, actor(c)); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, ticketView{Ticket: *t, SLA: s.ticketSLA(t)})
	}
}

func (s *Server) handleGetTicket() echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := s.deps.Store.Ticket(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		if err := s.seen(c, t, nil, fieldsync.EntityTicket, t.ID); err != nil {
			return err
		}
		return respond(c, http.StatusOK, ticketView{Ticket: *t, SLA: s.ticketSLA(t)})
	}
}

type contactRequest struct {
	Note string `json:"note"`
}

// handleContactTicket records the first contact with the customer, which
// stops the first-response clock. A second call keeps the first time.
func (s *Server) handleContactTicket() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req contactRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if err := fieldsync.CheckText("note", req.Note, fieldsync.MaxLongText); err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		t, err := s.deps.Store.UpdateTicket(c.Request().Context(), c.Param("id"), actor(c), "ticket.contact", now, func(t *fieldsync.Ticket) error {
			if t.FirstContactAt == nil {
				t.FirstContactAt, t.ContactNote = &now, strings.TrimSpace(req.Note)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, ticketView{Ticket: *t, SLA: s.ticketSLA(t)})
	}
}
