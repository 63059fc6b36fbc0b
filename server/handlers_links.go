package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/sync/seal"
)

// Share links: a link's URL is sharedPrefix + its token.
const (
	sharedPrefix     = "/v1/shared/"
	sharedMediaPath  = sharedPrefix + ":token/media/:sha"
	sharedBundlePath = sharedPrefix + ":token/bundle"
	// maxTokenLen bounds what is hashed and looked up: a token is 43
	// characters; anything far longer is not worth a lookup.
	maxTokenLen = 128
	// Signatures drawn from a customer's strokes have the size of those
	// drawn on a device (clientsdk.AttachSignature).
	signOffWidth, signOffHeight = 600, 200
)

// SharedPerMinute bounds the requests one peer makes of the public
// share-link routes per minute: a report page and its photos fit well
// within it; guessing tokens does not.
const SharedPerMinute = 120

// newToken returns a link token: 32 random bytes, base64url.
func newToken() (string, [32]byte) {
	b := make([]byte, 32)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, sha256.Sum256([]byte(t))
}

type linkRequest struct {
	ExpiresInDays *int `json:"expires_in_days"`
}

// linkCreated is a new link with its token, shown this once.
type linkCreated struct {
	fieldsync.ShareLink
	URL   string `json:"url"`
	Token string `json:"token"`
}

// handleCreateLink makes a share link of a report the caller may see:
// staff, or the technician of the report's visit (the role fence keeps
// customers out).
func (s *Server) handleCreateLink() echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var req linkRequest
		if c.Request().ContentLength != 0 {
			if err := decode(c, &req); err != nil {
				return err
			}
		}
		if _, _, err := s.seenReport(c, id, fieldsync.EntityReport, id); err != nil {
			return err
		}
		now := s.deps.Now().UTC()
		expires, err := fieldsync.LinkExpiry(req.ExpiresInDays, now)
		if err != nil {
			return err
		}
		a := actor(c)
		l := fieldsync.ShareLink{ID: newID(), ReportID: id, CreatedBy: a.UserID, CreatedAt: now, ExpiresAt: expires}
		token, hash := newToken()
		if err := s.deps.Store.CreateLink(c.Request().Context(), &l, hash, a); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, linkCreated{ShareLink: l, URL: sharedPrefix + token, Token: token})
	}
}

// handleListLinks lists a report's links, without their tokens.
func (s *Server) handleListLinks() echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if _, _, err := s.seenReport(c, id, fieldsync.EntityReport, id); err != nil {
			return err
		}
		links, err := s.deps.Store.ReportLinks(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, whole(links))
	}
}

// handleRevokeLink revokes a link of a report the caller may see.
func (s *Server) handleRevokeLink() echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if _, _, err := s.seenReport(c, id, fieldsync.EntityReport, id); err != nil {
			return err
		}
		l, err := s.deps.Store.RevokeLink(c.Request().Context(), id, c.Param("link_id"), actor(c), s.deps.Now().UTC())
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, l)
	}
}

// sharedLink returns the usable link of the request's token. A token of
// any form within maxTokenLen is hashed and looked up the same way, so an
// unknown token costs what a known one does: ENotFound, or ELinkExpired
// or ELinkRevoked for a link that no longer opens.
func (s *Server) sharedLink(c echo.Context) (*fieldsync.ShareLink, error) {
	token := c.Param("token")
	if len(token) > maxTokenLen {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "no such link")
	}
	l, err := s.deps.Store.LinkByToken(c.Request().Context(), sha256.Sum256([]byte(token)))
	if err != nil {
		return nil, err
	}
	if err := l.Usable(s.deps.Now()); err != nil {
		return nil, err
	}
	return l, nil
}

// sharedReport returns the usable link of the request's token
// (sharedLink) and its report.
func (s *Server) sharedReport(c echo.Context) (*fieldsync.ShareLink, *fieldsync.Report, error) {
	l, err := s.sharedLink(c)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.deps.Store.Report(c.Request().Context(), l.ReportID)
	return l, r, err
}

// sharedView is a report as its share link shows it.
type sharedView struct {
	Report reportView `json:"report"`
	// Status is the report's: draft, signed or sealed; Seal is the
	// server's seal once sealed.
	Status    fieldsync.ReportStatus `json:"status"`
	Seal      *fieldsync.Seal        `json:"seal,omitempty"`
	ExpiresAt time.Time              `json:"expires_at"`
	// SignURL takes the customer's sign-off (POST), SignatureURL serves
	// the signature they drew once they signed.
	SignURL      string `json:"sign_url"`
	SignatureURL string `json:"signature_url,omitempty"`
	// BundleURL is the report's evidence bundle, once sealed.
	BundleURL string `json:"bundle_url,omitempty"`
}

// handleShared shows a link's report as its customer reads it, with URLs
// of its photos that the token opens.
func (s *Server) handleShared() echo.HandlerFunc {
	return func(c echo.Context) error {
		l, r, err := s.sharedReport(c)
		if err != nil {
			return err
		}
		v, err := s.sharedViewOf(c, l, r, sharedPrefix+c.Param("token"))
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, v)
	}
}

// sharedViewOf is link l's report r as the link shows it, its URLs under
// base (the link's URL).
func (s *Server) sharedViewOf(c echo.Context, l *fieldsync.ShareLink, r *fieldsync.Report, base string) (sharedView, error) {
	views, err := s.reportViews(c.Request().Context(), fieldsync.Viewer{Role: fieldsync.RoleCustomer}, []fieldsync.Report{*r})
	if err != nil {
		return sharedView{}, err
	}
	v := sharedView{Report: views[0], Status: r.Status, Seal: r.Seal, ExpiresAt: l.ExpiresAt, SignURL: base + "/sign"}
	for i := range v.Report.Photos {
		p := &v.Report.Photos[i]
		p.URL = base + "/media/" + p.SHA256
		if p.ThumbURL != "" {
			p.ThumbURL = p.URL + "?variant=thumb"
		}
	}
	if so := v.Report.CustomerSignOff; so != nil && so.SignatureSHA256 != "" {
		v.SignatureURL = base + "/media/" + so.SignatureSHA256
	}
	if r.Status == fieldsync.ReportSealed {
		v.BundleURL = base + "/bundle"
	}
	return v, nil
}

// handleSharedBundle streams the bundle of a link's report, as
// GET /v1/reports/{id}/bundle does for a login.
func (s *Server) handleSharedBundle() echo.HandlerFunc {
	return func(c echo.Context) error {
		_, r, err := s.sharedReport(c)
		if err != nil {
			return err
		}
		vb, err := s.deps.Store.VisitBundle(c.Request().Context(), r.VisitID)
		if err != nil {
			return err
		}
		since, err := querySince(c)
		if err != nil {
			return err
		}
		return s.streamBundle(c, r, vb, since)
	}
}

// handleSharedPhoto serves (GET) or describes (HEAD) a photo of the link's
// report, or the signature its customer drew; every other hash is
// ENotFound.
func (s *Server) handleSharedPhoto(head bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		l, err := s.sharedLink(c)
		if err != nil {
			return err
		}
		p, open, err := s.sharedPhoto(c, l, c.Param("sha"))
		if err != nil {
			return err
		}
		if head {
			return photoHead(c, p)
		}
		return sendPhoto(c, p, open)
	}
}

// sharedPhoto finds a photo of the link's report, or its customer's
// drawn signature, and how to read it.
func (s *Server) sharedPhoto(c echo.Context, l *fieldsync.ShareLink, sha string) (*fieldsync.Photo, func(context.Context, *fieldsync.Photo, bool) (io.ReadSeekCloser, error), error) {
	ctx := c.Request().Context()
	photos, err := s.deps.Store.ReportPhotos(ctx, l.ReportID)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range photos {
		if p.SHA256 == sha {
			return &p, s.media.Open, nil
		}
	}
	signoffs, err := s.deps.Store.SignOffs(ctx, []string{l.ReportID})
	if err != nil {
		return nil, nil, err
	}
	if so, ok := signoffs[l.ReportID]; ok && so.SignatureSHA256 != "" && so.SignatureSHA256 == sha {
		p, err := s.media.SignOff(ctx, sha)
		return p, s.media.OpenSignOff, err
	}
	return nil, nil, notVisible(fieldsync.EntityPhoto, sha)
}

// signRequest is a customer's answer: their name, drawn signature and the
// hash of the report they reviewed, or a refusal with its reason.
type signRequest struct {
	CustomerName string          `json:"customer_name"`
	Strokes      json.RawMessage `json:"strokes"`
	Hash         string          `json:"hash"`
	Refuse       bool            `json:"refuse"`
	Reason       string          `json:"reason"`
}

// handleSharedSign records the customer's remote sign-off or refusal of
// the link's report (fieldsync.SignOff), sealed and logged.
func (s *Server) handleSharedSign() echo.HandlerFunc {
	return func(c echo.Context) error {
		l, err := s.sharedLink(c)
		if err != nil {
			return err
		}
		var req signRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		ctx := c.Request().Context()
		now := s.deps.Now().UTC()
		so := fieldsync.SignOff{ReportID: l.ReportID, Hash: req.Hash, LinkID: l.ID, At: now.Format(canon.TimeLayout),
			CustomerName: req.CustomerName, Reason: req.Reason, Decision: fieldsync.SignOffSigned}
		var png []byte
		if req.Refuse {
			so.Decision = fieldsync.SignOffRefused
			if len(req.Strokes) > 0 {
				return fieldsync.Errorf(fieldsync.EInvalid, "a refusal carries no signature strokes")
			}
		} else if len(req.Strokes) > 0 {
			strokes, err := signature.Parse(req.Strokes)
			if err != nil {
				return err
			}
			if png, err = signature.Render(strokes, signOffWidth, signOffHeight); err != nil {
				return err
			}
			sum := sha256.Sum256(png)
			so.SignatureSHA256 = hex.EncodeToString(sum[:])
		}
		if err := so.Validate(); err != nil {
			return err
		}
		// Checked before the signature is stored, and again in the
		// transaction that records the sign-off.
		r, err := s.deps.Store.Report(ctx, l.ReportID)
		if err != nil {
			return err
		}
		if err := so.Against(r); err != nil {
			return err
		}
		if png != nil {
			if s.media == nil {
				return fieldsync.Errorf(fieldsync.EUnavailable, "signature storage is not configured on this server")
			}
			if err := s.media.PutSignOff(ctx, png); err != nil {
				return err
			}
		}
		k := s.deps.Issuer.Keys.Signing()
		// A refusal is a complaint about the ticket, opened with it.
		complain := func(t *fieldsync.Ticket) (*fieldsync.Complaint, error) {
			return fieldsync.OpenRefusalComplaint(newID(), t, &so, linkActor(l).UserID, now, s.promises())
		}
		err = s.deps.Store.SignOffReport(ctx, &so, seal.Key{ID: k.Kid, Private: k.Private}, so.Against, complain, linkActor(l), now)
		if err != nil {
			return err
		}
		return respond(c, http.StatusCreated, so)
	}
}

// linkActor names, in the audit trail, whoever acted through a link.
func linkActor(l *fieldsync.ShareLink) fieldsync.Actor {
	return fieldsync.Actor{UserID: "link:" + l.ID}
}

// loggedPath is a request path as logs may keep it: without a share
// link's token, which opens a report to whoever reads it.
func loggedPath(p string) string {
	for _, prefix := range []string{sharedPrefix, pagePrefix} {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if _, after, found := strings.Cut(rest, "/"); found {
			return prefix + "-/" + after
		}
		return prefix + "-"
	}
	return p
}

// sharedLimit bounds each peer's requests of the public share-link routes
// to SharedPerMinute (ETooMany past it).
func (s *Server) sharedLimit() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               s.shared,
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			e := fieldsync.Errorf(fieldsync.ETooMany, "too many requests for shared reports from this address; wait a minute")
			e.RetryAfter = 60
			return e
		},
	})
}

// peerLimit counts requests per peer in fixed minutes of the server's
// clock; a new minute starts every count afresh.
type peerLimit struct {
	limit int
	now   func() time.Time

	mu     sync.Mutex
	minute time.Time
	counts map[string]int
}

// Allow implements middleware.RateLimiterStore.
func (p *peerLimit) Allow(peer string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.now().Truncate(time.Minute); !m.Equal(p.minute) || p.counts == nil {
		p.minute, p.counts = m, map[string]int{}
	}
	p.counts[peer]++
	return p.counts[peer] <= p.limit, nil
}
