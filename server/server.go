package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/sla"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
	"github.com/fieldsync/fieldsync/templates"
	"github.com/fieldsync/fieldsync/warranty"
)

// Store is what the handlers need of persistence beyond the auth service.
type Store interface {
	auth.SessionStore
	Ping(ctx context.Context) error
	User(ctx context.Context, id string) (*fieldsync.User, error)
	Users(ctx context.Context, role fieldsync.Role) ([]fieldsync.User, error)
	Devices(ctx context.Context) ([]fieldsync.Device, error)
	RevokeDevice(ctx context.Context, userID, id string, now time.Time) (*fieldsync.Device, error)

	CreateCustomer(ctx context.Context, c *fieldsync.Customer, a fieldsync.Actor) error
	Customer(ctx context.Context, id string) (*fieldsync.Customer, error)
	CustomerIDsOfUser(ctx context.Context, userID string) ([]string, error)
	CreateSite(ctx context.Context, s *fieldsync.Site, a fieldsync.Actor) error
	Site(ctx context.Context, id string) (*fieldsync.Site, error)
	CreateAsset(ctx context.Context, as *fieldsync.Asset, a fieldsync.Actor) error
	Asset(ctx context.Context, id string) (*fieldsync.Asset, error)
	CreateTicket(ctx context.Context, t *fieldsync.Ticket, a fieldsync.Actor) error
	Ticket(ctx context.Context, id string) (*fieldsync.Ticket, error)
	// Finding things (handlers_find.go): each pages through its records.
	Tickets(ctx context.Context, f fieldsync.TicketFilter) ([]fieldsync.Ticket, string, error)
	Customers(ctx context.Context, search *fieldsync.Search, cursor string, limit int) ([]fieldsync.Customer, string, error)
	Sites(ctx context.Context, customerID, cursor string, limit int) ([]fieldsync.Site, string, error)
	Assets(ctx context.Context, f fieldsync.AssetFilter) ([]fieldsync.Asset, string, error)
	UpdateTicket(ctx context.Context, id string, a fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Ticket) error) (*fieldsync.Ticket, error)
	TransitionTicket(ctx context.Context, id string, a fieldsync.Actor, action fieldsync.TicketAction, reason string, now time.Time) (*fieldsync.Ticket, error)
	EditCustomer(ctx context.Context, id string, a fieldsync.Actor, now time.Time, edit func(*fieldsync.Customer) error) (*fieldsync.Customer, error)
	EditAsset(ctx context.Context, id string, a fieldsync.Actor, now time.Time, edit func(*fieldsync.Asset) error) (*fieldsync.Asset, error)
	EditSite(ctx context.Context, id string, a fieldsync.Actor, now time.Time, edit func(*fieldsync.Site) error, replan fieldsync.Replan) (*fieldsync.Site, []fieldsync.DueChange, error)
	EditTicket(ctx context.Context, id string, a fieldsync.Actor, now time.Time, edit func(*fieldsync.Ticket) error, replan fieldsync.Replan) (*fieldsync.Ticket, []fieldsync.DueChange, error)
	// CreateVisit stores the visit plan returns, given the ticket, its site
	// and its visits, all in one transaction.
	CreateVisit(ctx context.Context, ticketID string, a fieldsync.Actor, plan func(*fieldsync.Ticket, *fieldsync.Site, []fieldsync.Visit) (*fieldsync.Visit, error)) (*fieldsync.Visit, error)
	UpdateVisit(ctx context.Context, id string, a fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Visit) error) (*fieldsync.Visit, error)
	VisitBundle(ctx context.Context, id string) (*fieldsync.VisitBundle, error)
	Visits(ctx context.Context, f fieldsync.VisitFilter) ([]fieldsync.Visit, string, error)
	Audit(ctx context.Context, f fieldsync.AuditFilter) ([]fieldsync.AuditEntry, string, error)

	syncproto.Store
	Pull(ctx context.Context, parts []string, cursor string, limit int) ([]syncproto.Change, string, bool, error)
	Changed() <-chan struct{}
	RefusedWork(ctx context.Context, visitID string) ([]syncproto.Refusal, error)

	Report(ctx context.Context, id string) (*fieldsync.Report, error)
	// TicketReports returns a ticket and the reports of its visits.
	TicketReports(ctx context.Context, ticketID string) (*fieldsync.Ticket, []fieldsync.Report, error)
	ReportPhotos(ctx context.Context, reportID string) ([]fieldsync.Photo, error)
	// RefusedUploads lists the photo uploads refused for good on a report.
	RefusedUploads(ctx context.Context, reportID string) ([]fieldsync.RefusedUpload, error)
	PhotoReports(ctx context.Context, sha string) ([]string, error)
	// Addenda returns, by report id, the ids of each report's addenda in
	// the order they were made (absent for a report with none).
	Addenda(ctx context.Context, reportIDs []string) (map[string][]string, error)

	// Backup writes a consistent copy of the store, taken while writes go
	// on, to the writer open returns for its size in bytes; it returns the
	// bytes written.
	Backup(ctx context.Context, open func(size int64) io.Writer) (int64, error)

	// ViewLog runs fn on the transparency log in one read transaction.
	ViewLog(ctx context.Context, fn func(translog.Reader) error) error

	// Share links and customers' remote sign-offs (handlers_links.go).
	CreateLink(ctx context.Context, l *fieldsync.ShareLink, tokenHash [32]byte, a fieldsync.Actor) error
	LinkByToken(ctx context.Context, tokenHash [32]byte) (*fieldsync.ShareLink, error)
	ReportLinks(ctx context.Context, reportID string) ([]fieldsync.ShareLink, error)
	RevokeLink(ctx context.Context, reportID, linkID string, a fieldsync.Actor, now time.Time) (*fieldsync.ShareLink, error)
	// SignOffReport keeps a sign-off once per report, checked by check on
	// the report, sealed with k and logged, in one transaction.
	// A refusal also opens the complaint complain returns for the
	// report's ticket (complain nil: none).
	SignOffReport(ctx context.Context, so *fieldsync.SignOff, k seal.Key, check func(*fieldsync.Report) error,
		complain func(*fieldsync.Ticket) (*fieldsync.Complaint, error), a fieldsync.Actor, now time.Time) error
	SignOffs(ctx context.Context, reportIDs []string) (map[string]fieldsync.SignOff, error)
	// CustomerReports pages through the reports of the customers' tickets.
	CustomerReports(ctx context.Context, customerIDs []string, cursor string, limit int) ([]fieldsync.Report, string, error)
	// UpdateReport applies fn to a report, audited; DisputedReports pages
	// through the reports whose warranty decision is disputed.
	UpdateReport(ctx context.Context, id string, a fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Report) error) (*fieldsync.Report, error)
	DisputedReports(ctx context.Context, cursor string, limit int) ([]fieldsync.Report, string, error)
	// SecondVisits pages through the visits that ended needing a second
	// one, each with the visit booked for it.
	SecondVisits(ctx context.Context, cursor string, limit int, state func(v *fieldsync.Visit, bookedID string) (*fieldsync.SecondVisitRequest, error)) ([]fieldsync.SecondVisitRequest, string, error)
	// Complaints (handlers_complaints.go). UpdateComplaint and EscalateDue
	// escalate each complaint for the clocks it missed, audited.
	CreateComplaint(ctx context.Context, ticketID string, a fieldsync.Actor, open func(*fieldsync.Ticket) (*fieldsync.Complaint, error)) (*fieldsync.Complaint, error)
	Complaint(ctx context.Context, id string) (*fieldsync.Complaint, error)
	Complaints(ctx context.Context, f fieldsync.ComplaintFilter) ([]fieldsync.Complaint, string, error)
	UpdateComplaint(ctx context.Context, id string, a fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.Complaint) error) (*fieldsync.Complaint, error)
	EscalateDue(ctx context.Context, now time.Time) (int, error)
	// SetSealKey gives the store the key that seals signed reports.
	SetSealKey(key func() seal.Key, log *slog.Logger)
	// SetPolicy gives the store the SLA policy and calendar of the
	// deadlines it sets itself (follow-ups): the server's.
	SetPolicy(p sla.Policy, cal *calendar.Calendar)

	// Follow-ups (handlers_followups.go); the store makes them when visits
	// complete. UpdateFollowUp applies fn in one transaction.
	FollowUp(ctx context.Context, id string) (*fieldsync.FollowUp, error)
	FollowUps(ctx context.Context, f fieldsync.FollowUpFilter) ([]fieldsync.FollowUp, string, error)
	// FollowUpOfVisit returns the follow-up of a visit, ENotFound when it
	// has none.
	FollowUpOfVisit(ctx context.Context, visitID string) (*fieldsync.FollowUp, error)
	UpdateFollowUp(ctx context.Context, id string, a fieldsync.Actor, action string, now time.Time, fn func(*fieldsync.FollowUp) error) (*fieldsync.FollowUp, error)

	// Work orders and warranty certificates (handlers_workorders.go); the
	// store makes them when visits with work complete.
	WorkOrder(ctx context.Context, id string) (*fieldsync.WorkOrder, error)
	WorkOrders(ctx context.Context, f fieldsync.WorkOrderFilter) ([]fieldsync.WorkOrder, string, error)
	Certificates(ctx context.Context, assetID string) ([]fieldsync.Certificate, error)

	// Pick-up records; the store keeps them in the pushes that start and
	// meet their clocks.
	Pickup(ctx context.Context, id string) (*fieldsync.Pickup, error)
	Pickups(ctx context.Context, f fieldsync.PickupFilter) ([]fieldsync.Pickup, string, error)
}

// Deps are everything the server needs; New takes them explicitly.
type Deps struct {
	Store   Store
	Auth    *auth.Service
	Issuer  *auth.Issuer
	Logger  *slog.Logger
	Version string
	// BodyLimit bounds every request body (after gzip decompression).
	BodyLimit int64
	// Timeout bounds a handler's context.
	Timeout time.Duration
	// Calendar counts working days for SLA deadlines; nil uses calendar.Default().
	Calendar *calendar.Calendar
	// Policy holds the SLA promises; the zero value uses sla.DefaultPolicy().
	Policy sla.Policy
	// Warranty holds the warranty terms; the zero value uses
	// warranty.DefaultPolicy(). Its working days count on Calendar.
	Warranty warranty.Policy
	// Prices is the price list a report's quote is re-priced on when a
	// device pushes it; the zero value uses quote.Default(), the list
	// serve publishes to tablets.
	Prices quote.PriceList
	// Templates are the report templates; nil uses templates.All().
	Templates []fieldsync.Template
	// Media runs photo uploads; its CanAttach, when nil, is the server's
	// rule (the technician of the report's visit). Without it the photo
	// routes answer 503.
	Media *media.Service
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For is believed for the client address (login throttling
	// and logs). Empty: only the TCP peer counts.
	TrustedProxies []*net.IPNet
	// Registry receives the HTTP metrics; nil makes a new one.
	Registry *prometheus.Registry
	Now      func() time.Time
}

// Defaults for Deps.
const (
	DefaultBodyLimit = 1 << 20
	DefaultTimeout   = 60 * time.Second // above MaxWait, so long polls end on their own
	// PushBodyLimit bounds a sync push: 500 mutations of up to 64 KiB of
	// fields each would be more, but real batches are far smaller.
	PushBodyLimit = 16 << 20
)

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	echo     *echo.Echo
	deps     Deps
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *httpMetrics
	// shared bounds the requests each peer makes of the public share-link
	// routes.
	shared *peerLimit
	engine *syncproto.Engine
	media  *media.Service
	// routeSet holds "METHOD /path" of every route, for checkQuery.
	routeSet map[string]struct{}
	// sessions are the staff's browser sessions (session.go).
	sessions *sessionTable
}

// New wires the middleware and routes.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.BodyLimit <= 0 {
		d.BodyLimit = DefaultBodyLimit
	}
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	// Records keep whole seconds: deadlines read cleanly and JSON round
	// trips are exact.
	clock := d.Now
	d.Now = func() time.Time { return clock().Truncate(time.Second) }
	if d.Calendar == nil {
		d.Calendar = calendar.Default()
	}
	if d.Policy.OnSite == nil {
		d.Policy = sla.DefaultPolicy()
	}
	if d.Warranty.Categories == nil {
		d.Warranty = warranty.DefaultPolicy()
	}
	if d.Templates == nil {
		d.Templates = templates.All()
	}
	d.Store.SetPolicy(d.Policy, d.Calendar)
	if d.Issuer != nil {
		// Reports are sealed with the server's current signing key, the
		// key of the log heads (handleLogHead).
		d.Store.SetSealKey(func() seal.Key {
			k := d.Issuer.Keys.Signing()
			return seal.Key{ID: k.Kid, Private: k.Private}
		}, d.Logger)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientAddr(d.TrustedProxies)
	s := &Server{echo: e, deps: d, log: d.Logger, registry: d.Registry, metrics: newHTTPMetrics(d.Registry),
		shared: &peerLimit{limit: SharedPerMinute, now: d.Now}, sessions: newSessionTable()}
	e.HTTPErrorHandler = s.handleError
	if s.media = d.Media; s.media != nil {
		if s.media.CanAttach == nil {
			s.media.CanAttach = s.canAttach
		}
		d.Registry.MustRegister(s.media.Metrics)
	}
	s.engine = &syncproto.Engine{Store: d.Store, Now: d.Now, Warranty: d.Warranty, Calendar: d.Calendar, Prices: d.Prices, Templates: func(id string) (fieldsync.Template, bool) {
		for _, t := range d.Templates {
			if t.ID == id {
				return t, true
			}
		}
		return fieldsync.Template{}, false
	}}

	e.Use(
		s.requestID,
		s.observe, // logs and metrics see the final status of every request
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}),
		s.checkQuery,
		// Photo and backup bytes take as long as a weak network needs (the server's read
		// timeout still bounds them), and are not compressed again.
		middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: d.Timeout, Skipper: isBulk}),
		middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 1024, Skipper: isBulk}),
		decompress,
		// After decompress, so the limit counts the bytes a handler reads.
		// A push has a limit of its own (routes.go).
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
			Limit:   byteSize(d.BodyLimit),
			Skipper: func(c echo.Context) bool { return c.Path() == pushPath || isMedia(c) },
		}),
	)
	s.routes()
	s.routeSet = map[string]struct{}{}
	for _, r := range e.Routes() {
		s.routeSet[r.Method+" "+r.Path] = struct{}{}
	}
	return s
}

// clientAddr returns how the client address is found. X-Forwarded-For is
// believed only when the TCP peer is a trusted proxy, and then only back
// to the first address that is not one (the nearest hop a proxy vouches
// for): anyone else could set it to dodge the login throttle. Echo's own
// defaults also trust loopback and private networks; here nothing is
// trusted unless configured.
func clientAddr(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Routes lists the registered routes (for the OpenAPI check).
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// isMedia reports whether a request is for photo bytes, which the media
// service bounds itself (Upload-Length, its size limit).
func isMedia(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/v1/media/") || c.Path() == sharedMediaPath
}

// isBulk reports whether a request streams bytes that take as long as
// they take and keep their exact length: photos, backups and bundles,
// and event streams.
func isBulk(c echo.Context) bool {
	return isMedia(c) || c.Path() == backupPath || c.Path() == bundlePath || c.Path() == sharedBundlePath || c.Path() == eventsPath
}

// byteSize writes n in the form BodyLimit parses ("1048576B").
func byteSize(n int64) string { return strconv.FormatInt(n, 10) + "B" }

const requestIDKey = "fieldsync.request_id"

// requestID takes a well-formed X-Request-Id from the client (so traces
// join up across a proxy) or makes one, and echoes it in the response.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			b := make([]byte, 12)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(requestIDKey, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func requestID(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

// observe writes one log line and the metrics of each request. It logs the
// path without its query and never a header or body, so no token,
// password or photo location can reach the log.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		route := c.Path()
		if route == "" || route == "/*" { // no registered route matched
			route = "unmatched"
		}
		status := c.Response().Status
		s.metrics.observe(c.Request().Method, route, status, elapsed)
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.String("path", loggedPath(c.Request().URL.Path)),
			slog.Int("status", status),
			slog.Int64("bytes_out", c.Response().Size),
			slog.Duration("latency", elapsed),
			slog.String("remote", c.RealIP()),
		}
		if p := principalFrom(c); p != nil {
			attrs = append(attrs, slog.String("user", p.UserID), slog.String("device", p.Device))
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.log.Error("panic", "request_id", requestID(c), "route", c.Path(), "error", err.Error(), "stack", string(stack))
	return err
}
