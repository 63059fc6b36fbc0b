package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sla"
)

// handleListTickets is the ticket queue, newest intake first: staff's of
// every customer (or of ?customer_id=), a customer's of their own.
func (s *Server) handleListTickets() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		q := c.QueryParams()
		v, err := s.viewer(c)
		if err != nil {
			return err
		}
		f := fieldsync.TicketFilter{Cursor: q.Get("cursor"), Now: s.deps.Now()}
		if f.CustomerIDs, err = s.ticketCustomers(ctx, v, q.Get("customer_id")); err != nil {
			return err
		}
		if v.Role == fieldsync.RoleCustomer && len(f.CustomerIDs) == 0 {
			return respond(c, http.StatusOK, paged([]ticketView{}, ""))
		}
		if q.Has("status") {
			if f.Statuses, err = fieldsync.ParseTicketStatuses("status", q.Get("status")); err != nil {
				return err
			}
		}
		if z := q.Get("zone"); z != "" {
			if f.Zone = fieldsync.Zone(z); fieldsync.ValidateZone(f.Zone) != nil {
				return fieldsync.Errorf(fieldsync.EInvalid, "zone must be city, suburb or township, not %q", z)
			}
		}
		if ch := q.Get("channel"); ch != "" {
			if f.Channel, err = fieldsync.ParseChannel("channel", ch); err != nil {
				return err
			}
		}
		if k := q.Get("kind"); k != "" {
			if f.Kind, err = fieldsync.ParseTicketKind("kind", k); err != nil {
				return err
			}
		}
		if f.From, f.To, err = queryRange(q); err != nil {
			return err
		}
		if f.Contact, err = fieldsync.ParseContactFilter(q.Get("contact")); err != nil {
			return err
		}
		if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
			return err
		}
		want, err := querySLA(q.Get("sla"))
		if err != nil {
			return err
		}
		if want != "" {
			f.Match = func(t *fieldsync.Ticket, open *fieldsync.Visit) bool { return s.queueSLA(t, open).State == want }
		}
		tickets, next, err := s.deps.Store.Tickets(ctx, f)
		if err != nil {
			return err
		}
		items := make([]ticketView, 0, len(tickets))
		for i := range tickets {
			items = append(items, ticketView{Ticket: tickets[i], SLA: s.ticketSLA(&tickets[i])})
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}

// ticketCustomers is whose tickets the queue lists: a customer's own (or
// the one of them asked for), staff's every customer's (nil) or the one
// asked for.
func (s *Server) ticketCustomers(ctx context.Context, v fieldsync.Viewer, asked string) ([]string, error) {
	switch {
	case v.Role == fieldsync.RoleCustomer && asked == "":
		return v.CustomerIDs, nil
	case v.Role == fieldsync.RoleCustomer && !slices.Contains(v.CustomerIDs, asked):
		return nil, notVisible(fieldsync.EntityCustomer, asked)
	case asked == "":
		return nil, nil
	}
	if _, err := s.deps.Store.Customer(ctx, asked); err != nil {
		return nil, err
	}
	return []string{asked}, nil
}

// queueSLA is the promise a ticket waits on: its open visit's arrival
// when it has one, else its first contact.
func (s *Server) queueSLA(t *fieldsync.Ticket, open *fieldsync.Visit) slaView {
	if open != nil {
		return s.visitSLA(open).slaView
	}
	return s.ticketSLA(t)
}

// queryRange reads the optional times from and to of a list filter.
func queryRange(q url.Values) (from, to time.Time, err error) {
	if from, err = queryTime(q.Get("from"), "from"); err != nil {
		return from, to, err
	}
	to, err = queryTime(q.Get("to"), "to")
	return from, to, err
}

// querySLA reads an optional SLA state filter.
func querySLA(v string) (sla.State, error) {
	switch want := sla.State(v); want {
	case "", sla.AtRisk, sla.Breached, sla.OK:
		return want, nil
	}
	return "", fieldsync.Errorf(fieldsync.EInvalid, "sla must be ok, at_risk or breached, not %q", v)
}

// handleListCustomers pages through the customers, those a ?q= search
// finds when given. The search text is never logged: it holds phone
// numbers.
func (s *Server) handleListCustomers() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		limit, err := queryLimit(q.Get("limit"))
		if err != nil {
			return err
		}
		var search *fieldsync.Search
		if q.Has("q") {
			found, err := fieldsync.ParseSearch("q", q.Get("q"))
			if err != nil {
				return err
			}
			search = &found
		}
		items, next, err := s.deps.Store.Customers(c.Request().Context(), search, q.Get("cursor"), limit)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}

// handleListSites pages through the sites, of one customer with
// ?customer=.
func (s *Server) handleListSites() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		limit, err := queryLimit(q.Get("limit"))
		if err != nil {
			return err
		}
		customer := q.Get("customer")
		if q.Has("customer") {
			if _, err := s.deps.Store.Customer(c.Request().Context(), customer); err != nil {
				return err
			}
		}
		items, next, err := s.deps.Store.Sites(c.Request().Context(), customer, q.Get("cursor"), limit)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}

// handleListAssets pages through the assets, found by ?serial=, ?model=
// or ?q= (either) when given.
func (s *Server) handleListAssets() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		f := fieldsync.AssetFilter{Cursor: q.Get("cursor")}
		var err error
		if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
			return err
		}
		for _, p := range []struct {
			name string
			to   *string
		}{{"serial", &f.Serial}, {"model", &f.Model}, {"q", &f.Any}} {
			if !q.Has(p.name) {
				continue
			}
			if *p.to, err = fieldsync.ParseAssetKey(p.name, q.Get(p.name)); err != nil {
				return err
			}
		}
		items, next, err := s.deps.Store.Assets(c.Request().Context(), f)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, paged(items, next))
	}
}
