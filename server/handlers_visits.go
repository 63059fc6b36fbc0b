package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

type visitView struct {
	fieldsync.Visit
	SLA visitSLAView `json:"sla"`
}

type visitDetail struct {
	visitView
	Ticket   fieldsync.Ticket   `json:"ticket"`
	Customer fieldsync.Customer `json:"customer"`
	Site     fieldsync.Site     `json:"site"`
	Asset    fieldsync.Asset    `json:"asset"`
	Reports  []reportView       `json:"reports"`
	// RefusedWork is what technicians' devices sent for this visit that
	// the server could not apply (a visit reassigned while they were
	// offline, a signed report edited): kept for the dispatcher, never lost.
	RefusedWork []syncproto.Refusal `json:"refused_work"`
}

// reportView is a report with the verified photos attached to it.
type reportView struct {
	fieldsync.Report
	Photos []photoView `json:"photos"`
	// CustomerSignOff is the customer's remote sign-off or refusal, once
	// made through a share link.
	CustomerSignOff *fieldsync.SignOff `json:"customer_sign_off,omitempty"`
	// Addenda are the reports that correct this one, in the order they
	// were made (their corrects names this report).
	Addenda []string `json:"addenda"`
	// RefusedUploads are the photo uploads the server refused for good on
	// this report, oldest first: for staff and technicians, never for
	// customers.
	RefusedUploads []fieldsync.RefusedUpload `json:"refused_uploads,omitempty"`
}

type photoView struct {
	fieldsync.Photo
	URL      string `json:"url"`
	ThumbURL string `json:"thumb_url,omitempty"`
}

// reportViews shows reports as the viewer may read them.
func (s *Server) reportViews(ctx context.Context, viewer fieldsync.Viewer, reports []fieldsync.Report) ([]reportView, error) {
	out := make([]reportView, 0, len(reports))
	ids := make([]string, len(reports))
	for i, r := range reports {
		ids[i] = r.ID
	}
	signoffs, err := s.deps.Store.SignOffs(ctx, ids)
	if err != nil {
		return nil, err
	}
	addenda, err := s.deps.Store.Addenda(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range reports {
		if viewer.Internal() {
			r = r.ForStaff()
		} else {
			r = r.ForCustomer()
		}
		photos, err := s.deps.Store.ReportPhotos(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		v := reportView{Report: r, Photos: make([]photoView, 0, len(photos)), Addenda: append([]string{}, addenda[r.ID]...)}
		if so, ok := signoffs[r.ID]; ok {
			v.CustomerSignOff = &so
		}
		if viewer.Internal() {
			if v.RefusedUploads, err = s.deps.Store.RefusedUploads(ctx, r.ID); err != nil {
				return nil, err
			}
		}
		for _, p := range photos {
			v.Photos = append(v.Photos, photoView{Photo: p, URL: "/v1/media/" + p.SHA256, ThumbURL: thumbURL(&p)})
		}
		out = append(out, v)
	}
	return out, nil
}

type visitRequest struct {
	TicketID     string    `json:"ticket_id"`
	TechnicianID string    `json:"technician_id"`
	WindowStart  timestamp `json:"window_start"`
	WindowEnd    timestamp `json:"window_end"`
}

// handleCreateVisit books a visit by the rules of fieldsync.PlanVisit,
// checked and written in one transaction.
func (s *Server) handleCreateVisit() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req visitRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.TicketID == "" || req.TechnicianID == "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "ticket_id and technician_id are required")
		}
		now := s.deps.Now().UTC()
		if err := fieldsync.ValidateWindow(req.WindowStart.Time, req.WindowEnd.Time, now); err != nil {
			return err
		}
		booking := fieldsync.Visit{
			ID: newID(), TechnicianID: req.TechnicianID,
			WindowStart: req.WindowStart.UTC(), WindowEnd: req.WindowEnd.UTC(), CreatedAt: now, UpdatedAt: now,
		}
		v, err := s.deps.Store.CreateVisit(c.Request().Context(), req.TicketID, actor(c), func(t *fieldsync.Ticket, site *fieldsync.Site, visits []fieldsync.Visit) (*fieldsync.Visit, error) {
			return fieldsync.PlanVisit(booking, t, site.Zone, visits, s.promises())
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusCreated, visitView{Visit: *v, SLA: s.visitSLA(v)})
	}
}

type assignRequest struct {
	TechnicianID string `json:"technician_id"`
}

func (s *Server) handleAssignVisit() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req assignRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.TechnicianID == "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "technician_id is required")
		}
		now := s.deps.Now().UTC()
		v, err := s.deps.Store.UpdateVisit(c.Request().Context(), c.Param("id"), actor(c), "visit.assign", now, func(v *fieldsync.Visit) error {
			return v.Assign(req.TechnicianID, now)
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, visitView{Visit: *v, SLA: s.visitSLA(v)})
	}
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) handleCancelVisit() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req cancelRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		v, err := s.deps.Store.UpdateVisit(c.Request().Context(), c.Param("id"), actor(c), "visit.cancel", now, func(v *fieldsync.Visit) error {
			return v.Apply(fieldsync.ActionCancel, now, req.Reason)
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, visitView{Visit: *v, SLA: s.visitSLA(v)})
	}
}

// handleListVisits lists visits for staff; a technician sees only their
// own, whatever ?technician= says; a customer the visits of one of their
// tickets (?ticket=, required).
func (s *Server) handleListVisits() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		f := fieldsync.VisitFilter{TechnicianID: q.Get("technician"), TicketID: q.Get("ticket"), Cursor: q.Get("cursor")}
		viewer, err := s.viewer(c)
		if err != nil {
			return err
		}
		switch viewer.Role {
		case fieldsync.RoleTechnician:
			if f.TechnicianID != "" && f.TechnicianID != viewer.UserID {
				return fieldsync.Errorf(fieldsync.EForbidden, "a technician may list only their own visits")
			}
			f.TechnicianID = viewer.UserID
		case fieldsync.RoleCustomer:
			if f.TicketID == "" {
				return fieldsync.Errorf(fieldsync.EInvalid, "ticket is required: a customer lists the visits of one of their tickets")
			}
		}
		if f.TicketID != "" && viewer.Role != fieldsync.RoleTechnician {
			t, err := s.deps.Store.Ticket(c.Request().Context(), f.TicketID)
			if err != nil {
				return err
			}
			if err := s.seen(c, t, nil, fieldsync.EntityTicket, t.ID); err != nil {
				return err
			}
		}
		if st := q.Get("status"); st != "" {
			if f.Status, err = fieldsync.ParseVisitStatus(st); err != nil {
				return err
			}
		}
		if f.From, f.To, err = queryRange(q); err != nil {
			return err
		}
		if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
			return err
		}
		if f.Match, err = s.visitSLAMatch(q.Get("sla"), q.Get("sla_warning")); err != nil {
			return err
		}
		visits, next, err := s.deps.Store.Visits(c.Request().Context(), f)
		if err != nil {
			return err
		}
		items := make([]visitView, 0, len(visits))
		for i := range visits {
			items = append(items, viewVisit(viewer, &visits[i], s.visitSLA(&visits[i])))
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}

// handleGetVisit serves the visit with its whole bundle to those who may
// see it (fieldsync.Viewer.Sees); to others it does not exist.
func (s *Server) handleGetVisit() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		b, err := s.deps.Store.VisitBundle(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		if err := s.seen(c, &b.Ticket, &b.Visit, fieldsync.EntityVisit, b.Visit.ID); err != nil {
			return err
		}
		viewer, err := s.viewer(c)
		if err != nil {
			return err
		}
		reports, err := s.reportViews(ctx, viewer, b.Reports)
		if err != nil {
			return err
		}
		d := visitDetail{
			visitView: viewVisit(viewer, &b.Visit, s.visitSLA(&b.Visit)),
			Ticket:    b.Ticket, Customer: b.Customer, Site: b.Site, Asset: b.Asset, Reports: reports,
			RefusedWork: []syncproto.Refusal{},
		}
		if viewer.Role == fieldsync.RoleAdmin || viewer.Role == fieldsync.RoleDispatcher {
			if d.RefusedWork, err = s.deps.Store.RefusedWork(ctx, b.Visit.ID); err != nil {
				return err
			}
		}
		return respond(c, http.StatusOK, d)
	}
}

// viewVisit shows a visit as the viewer may read it.
func viewVisit(viewer fieldsync.Viewer, v *fieldsync.Visit, sla visitSLAView) visitView {
	if !viewer.Internal() {
		return visitView{Visit: v.ForCustomer(), SLA: sla}
	}
	return visitView{Visit: *v, SLA: sla}
}
