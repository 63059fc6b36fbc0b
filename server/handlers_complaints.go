package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

type complaintRequest struct {
	Text string `json:"text"`
}

// handleOpenComplaint opens a complaint on a ticket: by its customer
// (source customer) or by staff (source dispatcher). A customer's
// complaint on a ticket not theirs is answered as a missing ticket.
func (s *Server) handleOpenComplaint() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req complaintRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		source := fieldsync.SourceDispatcher
		if v.Role == fieldsync.RoleCustomer {
			source = fieldsync.SourceCustomer
		}
		id, now := c.Param("id"), s.deps.Now().UTC()
		out, err := s.deps.Store.CreateComplaint(c.Request().Context(), id, actor(c), func(t *fieldsync.Ticket) (*fieldsync.Complaint, error) {
			if !v.Sees(t, nil) {
				return nil, notVisible(fieldsync.EntityTicket, id)
			}
			return fieldsync.OpenComplaint(newID(), t, source, v.UserID, req.Text, now, s.promises())
		})
		if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
			return notVisible(fieldsync.EntityTicket, id)
		}
		if err != nil {
			return err
		}
		return respond(c, http.StatusCreated, out)
	}
}

// escalateDue applies the escalations of every clock missed by now before
// complaints are read, so a read never shows a level the sweep has not
// reached yet.
func (s *Server) escalateDue(c echo.Context, now time.Time) error {
	_, err := s.deps.Store.EscalateDue(c.Request().Context(), now)
	return err
}

// handleListComplaints lists complaints a page at a time (?limit=,
// ?cursor=): staff's by ?status=, ?level= and ?due= (overdue, or
// due_today: the running clock ends by today's end, China time); a
// customer's own only.
func (s *Server) handleListComplaints() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		now := s.deps.Now().UTC()
		f := fieldsync.ComplaintFilter{Now: now, Cursor: q.Get("cursor")}
		var err error
		if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
			return err
		}
		if st := q.Get("status"); st != "" {
			if f.Status, err = fieldsync.ParseComplaintStatus(st); err != nil {
				return err
			}
		}
		if l := q.Get("level"); l != "" {
			if f.Level, err = fieldsync.ParseComplaintLevel(l); err != nil {
				return err
			}
		}
		switch f.Due = fieldsync.ComplaintDue(q.Get("due")); f.Due {
		case "", fieldsync.DueOverdue:
		case fieldsync.DueToday:
			y, m, d := now.In(calendar.Location()).Date()
			f.DueBefore = time.Date(y, m, d+1, 0, 0, 0, 0, calendar.Location())
		default:
			return fieldsync.Errorf(fieldsync.EInvalid, "due must be overdue or due_today, not %q", f.Due)
		}
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		if v.Role == fieldsync.RoleCustomer {
			f.CustomerIDs = append([]string{}, v.CustomerIDs...)
		}
		if err := s.escalateDue(c, now); err != nil {
			return err
		}
		items, next, err := s.deps.Store.Complaints(c.Request().Context(), f)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}

// handleGetComplaint answers a complaint to staff and to its customer.
func (s *Server) handleGetComplaint() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.escalateDue(c, s.deps.Now().UTC()); err != nil {
			return err
		}
		id := c.Param("id")
		out, err := s.deps.Store.Complaint(c.Request().Context(), id)
		if err != nil {
			return err
		}
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		if !v.Sees(&fieldsync.Ticket{ID: out.TicketID, CustomerID: out.CustomerID}, nil) {
			return notVisible(fieldsync.EntityComplaint, id)
		}
		return respond(c, http.StatusOK, out)
	}
}

// complaintStep is the body of a step; each step reads one field of it.
type complaintStep struct {
	Note       string `json:"note,omitempty"`
	Resolution string `json:"resolution,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// handleComplaintStep performs action on a complaint (staff only): the
// contact ({"note"}), the proposal ({"resolution"}), the closing (no
// body) or an escalation by hand ({"reason"}).
func (s *Server) handleComplaintStep(action fieldsync.ComplaintAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		var text string
		if action != fieldsync.ComplaintClose {
			var req complaintStep
			if err := decode(c, &req); err != nil {
				return err
			}
			text = map[fieldsync.ComplaintAction]string{fieldsync.ComplaintContact: req.Note,
				fieldsync.ComplaintPropose: req.Resolution, fieldsync.ComplaintEscalate: req.Reason}[action]
		}
		now, who := s.deps.Now().UTC(), actor(c)
		out, err := s.deps.Store.UpdateComplaint(c.Request().Context(), c.Param("id"), who, "complaint."+string(action), now,
			func(cp *fieldsync.Complaint) error { return cp.Apply(action, who.UserID, text, now) })
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, out)
	}
}
