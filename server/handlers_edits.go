package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// Staff's PATCH of a record: a JSON merge patch of the fields the domain
// lets them correct (fieldsync.Patch and each record's Edit).

// slaRecomputed lists the visit deadlines an edit moved.
type slaRecomputed struct {
	SLARecomputed []fieldsync.DueChange `json:"sla_recomputed"`
}

type siteEdited struct {
	fieldsync.Site
	slaRecomputed
}

type ticketEdited struct {
	ticketView
	slaRecomputed
}

func (s *Server) replan() fieldsync.Replan {
	now := s.deps.Now().UTC()
	return func(t *fieldsync.Ticket, zone fieldsync.Zone, visits []fieldsync.Visit, collecting bool) ([]fieldsync.Visit, []fieldsync.DueChange, error) {
		return fieldsync.ReplanOnSite(t, zone, visits, collecting, now, s.promises())
	}
}

func moved(m []fieldsync.DueChange) slaRecomputed {
	if m == nil {
		m = []fieldsync.DueChange{}
	}
	return slaRecomputed{m}
}

func (s *Server) handleEditCustomer() echo.HandlerFunc {
	return func(c echo.Context) error {
		var p fieldsync.Patch
		if err := decode(c, &p); err != nil {
			return err
		}
		cu, err := s.deps.Store.EditCustomer(c.Request().Context(), c.Param("id"), actor(c), s.deps.Now().UTC(), func(cu *fieldsync.Customer) error { return cu.Edit(p) })
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, cu)
	}
}

func (s *Server) handleEditAsset() echo.HandlerFunc {
	return func(c echo.Context) error {
		var p fieldsync.Patch
		if err := decode(c, &p); err != nil {
			return err
		}
		a, err := s.deps.Store.EditAsset(c.Request().Context(), c.Param("id"), actor(c), s.deps.Now().UTC(), func(a *fieldsync.Asset) error { return a.Edit(p) })
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, a)
	}
}

func (s *Server) handleEditSite() echo.HandlerFunc {
	return func(c echo.Context) error {
		var p fieldsync.Patch
		if err := decode(c, &p); err != nil {
			return err
		}
		site, m, err := s.deps.Store.EditSite(c.Request().Context(), c.Param("id"), actor(c), s.deps.Now().UTC(), func(site *fieldsync.Site) error { return site.Edit(p) }, s.replan())
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, siteEdited{*site, moved(m)})
	}
}

func (s *Server) handleEditTicket() echo.HandlerFunc {
	return func(c echo.Context) error {
		var p fieldsync.Patch
		if err := decode(c, &p); err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		t, m, err := s.deps.Store.EditTicket(c.Request().Context(), c.Param("id"), actor(c), now, func(t *fieldsync.Ticket) error { return t.Edit(p, now, s.promises()) }, s.replan())
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, ticketEdited{ticketView{Ticket: *t, SLA: s.ticketSLA(t)}, moved(m)})
	}
}

func (s *Server) handleEditVisit() echo.HandlerFunc {
	return func(c echo.Context) error {
		var p fieldsync.Patch
		if err := decode(c, &p); err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		v, err := s.deps.Store.UpdateVisit(c.Request().Context(), c.Param("id"), actor(c), "visit.edit", now, func(v *fieldsync.Visit) error { return v.Edit(p, now) })
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, visitView{Visit: *v, SLA: s.visitSLA(v)})
	}
}
