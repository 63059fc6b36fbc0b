package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/sla"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func actor(c echo.Context) fieldsync.Actor {
	p := principalFrom(c)
	return fieldsync.Actor{UserID: p.UserID, DeviceID: p.Device}
}

// slaView is a promise's deadline and where it stands now.
type slaView struct {
	Due     time.Time `json:"due"`
	State   sla.State `json:"state"`
	Warning string    `json:"warning,omitempty"`
}

func (s *Server) visitSLA(v *fieldsync.Visit) slaView {
	met := v.ArrivedAt
	if v.Status == fieldsync.VisitCancelled {
		met = v.FinishedAt // a cancelled visit's promise is void, not broken
		if met == nil || met.After(v.Due) {
			met = &v.Due
		}
	}
	return slaView{Due: v.Due, State: s.deps.Policy.State(v.Due, met, s.deps.Now()), Warning: v.DueWarning}
}

func (s *Server) ticketSLA(t *fieldsync.Ticket) slaView {
	return slaView{Due: t.FirstResponseDue, State: s.deps.Policy.State(t.FirstResponseDue, t.FirstContactAt, s.deps.Now()), Warning: t.DueWarning}
}

type visitView struct {
	fieldsync.Visit
	SLA slaView `json:"sla"`
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
}

type photoView struct {
	fieldsync.Photo
	URL      string `json:"url"`
	ThumbURL string `json:"thumb_url,omitempty"`
}

func (s *Server) reportViews(ctx context.Context, reports []fieldsync.Report) ([]reportView, error) {
	out := make([]reportView, 0, len(reports))
	for _, r := range reports {
		photos, err := s.deps.Store.ReportPhotos(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		v := reportView{Report: r, Photos: make([]photoView, 0, len(photos))}
		for _, p := range photos {
			v.Photos = append(v.Photos, photoView{Photo: p, URL: "/v1/media/" + p.SHA256, ThumbURL: thumbURL(&p)})
		}
		out = append(out, v)
	}
	return out, nil
}

type ticketView struct {
	fieldsync.Ticket
	SLA slaView `json:"sla"`
}

type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// --- customers, sites, assets ---------------------------------------------

type customerRequest struct {
	Name   string `json:"name"`
	Phone  string `json:"phone"`
	UserID string `json:"user_id"`
}

func (s *Server) handleCreateCustomer() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req customerRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		cu := &fieldsync.Customer{ID: newID(), Name: req.Name, Phone: req.Phone, UserID: req.UserID, CreatedAt: s.deps.Now().UTC()}
		if err := cu.Validate(); err != nil {
			return err
		}
		if err := s.deps.Store.CreateCustomer(c.Request().Context(), cu, actor(c)); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, cu)
	}
}

// handleGetCustomer serves staff, and a customer their own record.
func (s *Server) handleGetCustomer() echo.HandlerFunc {
	return func(c echo.Context) error {
		cu, err := s.deps.Store.Customer(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		if p := principalFrom(c); p.Is(fieldsync.RoleCustomer) && cu.UserID != p.UserID {
			return notVisible("customer", cu.ID)
		}
		return respond(c, http.StatusOK, cu)
	}
}

type siteRequest struct {
	CustomerID string         `json:"customer_id"`
	Address    string         `json:"address"`
	Zone       fieldsync.Zone `json:"zone"`
}

func (s *Server) handleCreateSite() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req siteRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		site := &fieldsync.Site{ID: newID(), CustomerID: req.CustomerID, Address: req.Address, Zone: req.Zone, CreatedAt: s.deps.Now().UTC()}
		if err := site.Validate(); err != nil {
			return err
		}
		if err := s.deps.Store.CreateSite(c.Request().Context(), site, actor(c)); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, site)
	}
}

func (s *Server) handleGetSite() echo.HandlerFunc {
	return func(c echo.Context) error {
		site, err := s.deps.Store.Site(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, site)
	}
}

type assetRequest struct {
	CustomerID      string             `json:"customer_id"`
	Category        fieldsync.Category `json:"category"`
	Model           string             `json:"model"`
	Serial          string             `json:"serial"`
	Seller          string             `json:"seller"`
	InvoiceDate     string             `json:"invoice_date"`
	ReceiptDate     string             `json:"receipt_date"`
	ManufactureDate string             `json:"manufacture_date"`
}

func (s *Server) handleCreateAsset() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req assetRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		a := &fieldsync.Asset{
			ID: newID(), CustomerID: req.CustomerID, Category: req.Category, Model: req.Model, Serial: req.Serial, Seller: req.Seller,
			InvoiceDate: req.InvoiceDate, ReceiptDate: req.ReceiptDate, ManufactureDate: req.ManufactureDate, CreatedAt: s.deps.Now().UTC(),
		}
		if err := a.Validate(); err != nil {
			return err
		}
		if err := s.deps.Store.CreateAsset(c.Request().Context(), a, actor(c)); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, a)
	}
}

func (s *Server) handleGetAsset() echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := s.deps.Store.Asset(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, a)
	}
}

// --- tickets ----------------------------------------------------------------

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

// ownsTicket reports whether a customer principal owns the ticket.
func (s *Server) ownsTicket(c echo.Context, t *fieldsync.Ticket) (bool, error) {
	p := principalFrom(c)
	if !p.Is(fieldsync.RoleCustomer) {
		return true, nil
	}
	ids, err := s.deps.Store.CustomerIDsOfUser(c.Request().Context(), p.UserID)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if id == t.CustomerID {
			return true, nil
		}
	}
	return false, nil
}

func (s *Server) handleGetTicket() echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := s.deps.Store.Ticket(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		if ok, err := s.ownsTicket(c, t); err != nil || !ok {
			if err == nil {
				err = notVisible("ticket", t.ID)
			}
			return err
		}
		return respond(c, http.StatusOK, ticketView{Ticket: *t, SLA: s.ticketSLA(t)})
	}
}

// handleListTickets lists a customer's tickets: a customer's own, or, for
// staff, those of ?customer_id=.
func (s *Server) handleListTickets() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		var customers []string
		if p := principalFrom(c); p.Is(fieldsync.RoleCustomer) {
			ids, err := s.deps.Store.CustomerIDsOfUser(ctx, p.UserID)
			if err != nil {
				return err
			}
			customers = ids
		} else {
			id := c.QueryParam("customer_id")
			if id == "" {
				return fieldsync.Errorf(fieldsync.EInvalid, "customer_id is required")
			}
			if _, err := s.deps.Store.Customer(ctx, id); err != nil {
				return err
			}
			customers = []string{id}
		}
		out := page[ticketView]{Items: []ticketView{}}
		for _, id := range customers {
			tickets, err := s.deps.Store.TicketsOfCustomer(ctx, id)
			if err != nil {
				return err
			}
			for i := range tickets {
				out.Items = append(out.Items, ticketView{Ticket: tickets[i], SLA: s.ticketSLA(&tickets[i])})
			}
		}
		return respond(c, http.StatusOK, out)
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
		if len(req.Note) > fieldsync.MaxLongText {
			return fieldsync.Errorf(fieldsync.EInvalid, "note is longer than %d bytes", fieldsync.MaxLongText)
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

// --- visits -----------------------------------------------------------------

type visitRequest struct {
	TicketID     string    `json:"ticket_id"`
	TechnicianID string    `json:"technician_id"`
	WindowStart  time.Time `json:"window_start"`
	WindowEnd    time.Time `json:"window_end"`
}

// handleCreateVisit books a visit. Its deadline is the zone's on-site
// promise counted from the ticket's intake, or, for the visit after one
// that needed a second visit, the second-visit promise from then.
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
		if err := fieldsync.ValidateWindow(req.WindowStart, req.WindowEnd, now); err != nil {
			return err
		}
		ctx := c.Request().Context()
		t, site, visits, err := s.deps.Store.TicketContext(ctx, req.TicketID)
		if err != nil {
			return err
		}
		v := &fieldsync.Visit{
			ID: newID(), TicketID: t.ID, TechnicianID: req.TechnicianID, Status: fieldsync.VisitScheduled,
			WindowStart: req.WindowStart.UTC(), WindowEnd: req.WindowEnd.UTC(), CreatedAt: now, UpdatedAt: now,
		}
		var prev *fieldsync.Visit
		for i := range visits {
			switch pv := &visits[i]; {
			case !pv.Status.Terminal():
				return fieldsync.Errorf(fieldsync.EConflict, "ticket %s already has an open visit %s", t.ID, pv.ID)
			case pv.Status == fieldsync.VisitNeedsSecondVisit:
				prev = pv
			case pv.Status == fieldsync.VisitCompleted:
				prev = nil // a later completion settles an earlier request for a second visit
			}
		}
		var due calendar.Deadline
		if prev != nil {
			v.PreviousVisitID = prev.ID
			due, err = s.deps.Policy.SecondVisitDue(s.deps.Calendar, *prev.FinishedAt)
		} else {
			due, err = s.deps.Policy.OnSiteDue(s.deps.Calendar, site.Zone, t.CreatedAt)
		}
		if err != nil {
			return err
		}
		v.Due, v.DueWarning = due.Due.UTC(), due.Warning
		if err := s.deps.Store.CreateVisit(ctx, v, actor(c)); err != nil {
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
// own, whatever ?technician= says.
func (s *Server) handleListVisits() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		f := fieldsync.VisitFilter{TechnicianID: q.Get("technician"), Cursor: q.Get("cursor")}
		if p := principalFrom(c); p.Is(fieldsync.RoleTechnician) {
			if f.TechnicianID != "" && f.TechnicianID != p.UserID {
				return fieldsync.Errorf(fieldsync.EForbidden, "a technician may list only their own visits")
			}
			f.TechnicianID = p.UserID
		}
		var err error
		if st := q.Get("status"); st != "" {
			if f.Status, err = fieldsync.ParseVisitStatus(st); err != nil {
				return err
			}
		}
		if f.From, err = queryTime(q.Get("from"), "from"); err != nil {
			return err
		}
		if f.To, err = queryTime(q.Get("to"), "to"); err != nil {
			return err
		}
		if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
			return err
		}
		switch want := sla.State(q.Get("sla")); want {
		case "":
		case sla.AtRisk, sla.Breached, sla.OK:
			f.Match = func(v *fieldsync.Visit) bool { return s.visitSLA(v).State == want }
		default:
			return fieldsync.Errorf(fieldsync.EInvalid, "sla must be ok, at_risk or breached, not %q", want)
		}
		visits, next, err := s.deps.Store.Visits(c.Request().Context(), f)
		if err != nil {
			return err
		}
		out := page[visitView]{Items: make([]visitView, 0, len(visits)), NextCursor: next}
		for i := range visits {
			out.Items = append(out.Items, visitView{Visit: visits[i], SLA: s.visitSLA(&visits[i])})
		}
		return respond(c, http.StatusOK, out)
	}
}

// handleGetVisit serves the visit with its whole bundle. A technician's
// request for a visit that is not theirs is answered as if it did not
// exist, so ids cannot be probed.
func (s *Server) handleGetVisit() echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := s.deps.Store.VisitBundle(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		p := principalFrom(c)
		if p.Is(fieldsync.RoleTechnician) && b.Visit.TechnicianID != p.UserID {
			return notVisible("visit", b.Visit.ID)
		}
		reports, err := s.reportViews(c.Request().Context(), b.Reports)
		if err != nil {
			return err
		}
		d := visitDetail{
			visitView: visitView{Visit: b.Visit, SLA: s.visitSLA(&b.Visit)},
			Ticket:    b.Ticket, Customer: b.Customer, Site: b.Site, Asset: b.Asset, Reports: reports,
			RefusedWork: []syncproto.Refusal{},
		}
		if p.Is(fieldsync.RoleAdmin, fieldsync.RoleDispatcher) {
			if d.RefusedWork, err = s.deps.Store.RefusedWork(c.Request().Context(), b.Visit.ID); err != nil {
				return err
			}
		}
		return respond(c, http.StatusOK, d)
	}
}

// --- audit and templates ----------------------------------------------------

func (s *Server) handleAudit() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		f := fieldsync.AuditFilter{Entity: q.Get("entity"), ID: q.Get("id"), Cursor: q.Get("cursor")}
		if f.ID != "" && f.Entity == "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "id needs entity")
		}
		var err error
		if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
			return err
		}
		entries, next, err := s.deps.Store.Audit(c.Request().Context(), f)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, page[fieldsync.AuditEntry]{Items: entries, NextCursor: next})
	}
}

func (s *Server) handleListTemplates() echo.HandlerFunc {
	return func(c echo.Context) error {
		return respond(c, http.StatusOK, list[fieldsync.Template]{Items: s.deps.Templates})
	}
}

func (s *Server) handleGetTemplate() echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, t := range s.deps.Templates {
			if t.ID == c.Param("id") {
				return respond(c, http.StatusOK, t)
			}
		}
		return fieldsync.Errorf(fieldsync.ENotFound, "template %q not found", c.Param("id"))
	}
}

// --- query parameters ---------------------------------------------------------

func notVisible(kind, id string) error {
	return fieldsync.Errorf(fieldsync.ENotFound, "%s %q not found", kind, id)
}

func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fieldsync.Errorf(fieldsync.EInvalid, "%s must be an RFC 3339 time, not %q", name, v)
	}
	return t, nil
}

func queryLimit(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > fieldsync.MaxLimit {
		return 0, fieldsync.Errorf(fieldsync.EInvalid, "limit must be a whole number from 1 to %d", fieldsync.MaxLimit)
	}
	return n, nil
}
