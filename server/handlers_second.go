package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// handleListSecondVisits pages through the visits that ended needing a
// second one, for the dispatcher who books them: the parts each asked
// for, the second-visit promise, and the visit booked for it.
// ?state=to_book|booked|overdue narrows the list.
func (s *Server) handleListSecondVisits() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		var want fieldsync.SecondVisitState
		if q.Has("state") {
			var err error
			if want, err = fieldsync.ParseSecondVisitState(q.Get("state")); err != nil {
				return err
			}
		}
		limit, err := queryLimit(q.Get("limit"))
		if err != nil {
			return err
		}
		now, promises := s.deps.Now().UTC(), s.promises()
		items, next, err := s.deps.Store.SecondVisits(c.Request().Context(), q.Get("cursor"), limit, func(v *fieldsync.Visit, booked string) (*fieldsync.SecondVisitRequest, error) {
			r, err := fieldsync.NewSecondVisitRequest(*v, booked, promises, now)
			if err != nil || (want != "" && r.State != want) {
				return nil, err
			}
			return &r, nil
		})
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}
