package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// followUpView is a follow-up with whether it is overdue at the time of
// the request.
type followUpView struct {
	fieldsync.FollowUp
	Overdue bool `json:"overdue"`
}

func (s *Server) followUpView(f *fieldsync.FollowUp) followUpView {
	return followUpView{FollowUp: *f, Overdue: f.Overdue(s.deps.Now())}
}

// handleListFollowUps lists follow-ups a page at a time (?limit=,
// ?cursor=): every one for staff; a customer's own (those of every
// customer record linked to the login). ?status= filters by status; ?due=overdue keeps the
// pending ones past their due time, in order of due time.
func (s *Server) handleListFollowUps() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		f := fieldsync.FollowUpFilter{Cursor: c.QueryParam("cursor")}
		if st := c.QueryParam("status"); st != "" {
			var err error
			if f.Status, err = fieldsync.ParseFollowUpStatus(st); err != nil {
				return err
			}
		}
		switch due := c.QueryParam("due"); due {
		case "":
		case "overdue":
			f.OverdueAt = s.deps.Now()
		default:
			return fieldsync.Errorf(fieldsync.EInvalid, "due: unknown %q (want overdue)", due)
		}
		var err error
		if f.Limit, err = queryLimit(c.QueryParam("limit")); err != nil {
			return err
		}
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		if v.Role == fieldsync.RoleCustomer {
			f.CustomerIDs = append([]string{}, v.CustomerIDs...)
		}
		list, next, err := s.deps.Store.FollowUps(ctx, f)
		if err != nil {
			return err
		}
		items := []followUpView{}
		for i := range list {
			items = append(items, s.followUpView(&list[i]))
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}

// seenFollowUp loads a follow-up the caller may read; to others it does
// not exist.
func (s *Server) seenFollowUp(c echo.Context) (*fieldsync.FollowUp, fieldsync.Viewer, error) {
	id := c.Param("id")
	v, err := s.viewer(c)
	if err != nil {
		return nil, v, err
	}
	f, err := s.deps.Store.FollowUp(c.Request().Context(), id)
	if err != nil {
		return nil, v, err
	}
	if !v.SeesFollowUp(f) {
		return nil, v, notVisible(fieldsync.EntityFollowUp, id)
	}
	return f, v, nil
}

func (s *Server) handleGetFollowUp() echo.HandlerFunc {
	return func(c echo.Context) error {
		f, _, err := s.seenFollowUp(c)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, s.followUpView(f))
	}
}

// handleAnswerFollowUp records the survey answer by the rules of
// fieldsync.FollowUp.Answer, checked and written in one transaction.
func (s *Server) handleAnswerFollowUp() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req fieldsync.FollowUpAnswer
		if err := decode(c, &req); err != nil {
			return err
		}
		_, v, err := s.seenFollowUp(c)
		if err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		f, err := s.deps.Store.UpdateFollowUp(c.Request().Context(), c.Param("id"), actor(c), "followup.answer", now, func(f *fieldsync.FollowUp) error {
			return f.Answer(v, req, now)
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, s.followUpView(f))
	}
}

// handleSharedFollowUp answers, through a report's share link, the
// follow-up of the report's visit as its customer: the link's holder is
// whom the report was sent to.
func (s *Server) handleSharedFollowUp() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req fieldsync.FollowUpAnswer
		if err := decode(c, &req); err != nil {
			return err
		}
		l, r, err := s.sharedReport(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		f, err := s.deps.Store.FollowUpOfVisit(ctx, r.VisitID)
		if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
			return fieldsync.Errorf(fieldsync.ENotFound, "the visit of this report has no follow-up: it is asked once the visit is completed")
		}
		if err != nil {
			return err
		}
		by := fieldsync.Actor{UserID: "link:" + l.ID}
		v := fieldsync.Viewer{Role: fieldsync.RoleCustomer, UserID: by.UserID, CustomerIDs: []string{f.CustomerID}}
		now := s.deps.Now().UTC()
		f, err = s.deps.Store.UpdateFollowUp(ctx, f.ID, by, "followup.answer", now, func(f *fieldsync.FollowUp) error {
			return f.Answer(v, req, now)
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, s.followUpView(f))
	}
}

// handleCloseFollowUp gives up on a pending follow-up (staff).
func (s *Server) handleCloseFollowUp() echo.HandlerFunc {
	return func(c echo.Context) error {
		_, v, err := s.seenFollowUp(c)
		if err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		f, err := s.deps.Store.UpdateFollowUp(c.Request().Context(), c.Param("id"), actor(c), "followup.close", now, func(f *fieldsync.FollowUp) error {
			return f.Close(v, now)
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, s.followUpView(f))
	}
}
