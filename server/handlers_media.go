package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/tus"
)

// uploadsPath is where routes.go serves the tus protocol (media/tus).
const uploadsPath = tus.UploadsPath

// withMedia answers 503 when the server runs without photo storage.
func (s *Server) withMedia(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.media == nil {
			return fieldsync.Errorf(fieldsync.EUnavailable, "photo storage is not configured on this server")
		}
		return h(c)
	}
}

func tusHeaders(c echo.Context) {
	h := c.Response().Header()
	h.Set(tus.HeaderResumable, tus.Version)
	h.Set("Cache-Control", "no-store")
}

// tusRequest refuses requests of another protocol version (412).
func tusRequest(c echo.Context) error {
	tusHeaders(c)
	if v := c.Request().Header.Get(tus.HeaderResumable); v != tus.Version {
		c.Response().Header().Set(tus.HeaderVersion, tus.Version)
		return fieldsync.Errorf(fieldsync.ETusVersion, "send Tus-Resumable: %s", tus.Version)
	}
	return nil
}

func (s *Server) handleTusOptions() echo.HandlerFunc {
	return func(c echo.Context) error {
		tusHeaders(c)
		h := c.Response().Header()
		h.Set(tus.HeaderVersion, tus.Version)
		h.Set(tus.HeaderExtension, tus.Extensions)
		h.Set(tus.HeaderMaxSize, strconv.FormatInt(s.media.MaxSize, 10))
		h.Set(tus.HeaderChecksumAlgorithm, tus.ChecksumAlgorithms)
		return c.NoContent(http.StatusNoContent)
	}
}

func uploadHeaders(c echo.Context, u *tus.Upload) {
	h := c.Response().Header()
	h.Set(tus.HeaderOffset, strconv.FormatInt(u.Offset(), 10))
	h.Set(tus.HeaderLength, strconv.FormatInt(u.Length, 10))
	h.Set(tus.HeaderExpires, u.ExpiresAt.UTC().Format(http.TimeFormat))
}

func (s *Server) handleTusCreate() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := tusRequest(c); err != nil {
			return err
		}
		req := c.Request()
		if req.Header.Get(tus.HeaderDeferLength) != "" {
			return fieldsync.Errorf(fieldsync.EInvalid, "Upload-Length is required (deferred length is not supported)")
		}
		length, err := strconv.ParseInt(req.Header.Get(tus.HeaderLength), 10, 64)
		if err != nil {
			return fieldsync.Errorf(fieldsync.EInvalid, "Upload-Length must be a number of bytes")
		}
		meta, err := tus.ParseMetadata(req.Header.Get(tus.HeaderMetadata))
		if err != nil {
			return err
		}
		a := actor(c)
		u, err := s.media.Create(req.Context(), a, length, meta)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Location", uploadsPath+"/"+u.ID)
		uploadHeaders(c, u)
		// creation-with-upload: the first bytes may come with the POST.
		if req.Header.Get(echo.HeaderContentType) == tus.ContentType && req.ContentLength != 0 {
			u2, p, err := s.media.Write(req.Context(), a, u.ID, 0, req.Body, req.ContentLength, nil)
			if u2 != nil {
				uploadHeaders(c, u2)
			}
			if err != nil {
				return err
			}
			s.photoDone(c, p)
		}
		return c.NoContent(http.StatusCreated)
	}
}

func (s *Server) handleTusHead() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := tusRequest(c); err != nil {
			return err
		}
		u, err := s.media.Get(c.Request().Context(), actor(c), c.Param("id"))
		if err != nil {
			return err
		}
		uploadHeaders(c, u)
		if meta := c.Request().Header.Get(tus.HeaderMetadata); meta == "" {
			c.Response().Header().Set(tus.HeaderMetadata, tus.EncodeMetadata(u.Metadata))
		}
		return c.NoContent(http.StatusOK)
	}
}

func (s *Server) handleTusPatch() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := tusRequest(c); err != nil {
			return err
		}
		req := c.Request()
		if req.Header.Get(echo.HeaderContentType) != tus.ContentType {
			return fieldsync.Errorf(fieldsync.EUnsupported, "a PATCH carries Content-Type: %s", tus.ContentType)
		}
		offset, err := strconv.ParseInt(req.Header.Get(tus.HeaderOffset), 10, 64)
		if err != nil || offset < 0 {
			return fieldsync.Errorf(fieldsync.EInvalid, "Upload-Offset must be a number of bytes")
		}
		var sum *tus.Checksum
		if v := req.Header.Get(tus.HeaderChecksum); v != "" {
			if sum, err = tus.ParseChecksum(v); err != nil {
				return err
			}
		}
		u, p, err := s.media.Write(req.Context(), actor(c), c.Param("id"), offset, req.Body, req.ContentLength, sum)
		if u != nil {
			uploadHeaders(c, u)
		}
		if err != nil {
			return err
		}
		s.photoDone(c, p)
		return c.NoContent(http.StatusNoContent)
	}
}

// photoDone tells the client which photo its upload became.
func (s *Server) photoDone(c echo.Context, p *fieldsync.Photo) {
	if p != nil {
		c.Response().Header().Set(tus.HeaderPhoto, "/v1/media/"+p.SHA256)
	}
}

func (s *Server) handleTusDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := tusRequest(c); err != nil {
			return err
		}
		if err := s.media.Terminate(c.Request().Context(), actor(c), c.Param("id")); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// handlePhotoHead says whether a photo the caller may see is stored, so a
// device never sends one it may attach (POST .../attach). To others, as to
// GET, the photo does not exist: its size and type are its report's.
func (s *Server) handlePhotoHead() echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.media.Exists(c.Request().Context(), c.Param("sha"))
		if err != nil {
			return err
		}
		if err := s.maySeePhoto(c, p.SHA256); err != nil {
			return err
		}
		return photoHead(c, p)
	}
}

// photoHead answers HEAD of a photo the caller may see.
func photoHead(c echo.Context, p *fieldsync.Photo) error {
	c.Response().Header().Set(echo.HeaderContentLength, strconv.FormatInt(p.Size, 10))
	c.Response().Header().Set(echo.HeaderContentType, p.Type)
	c.Response().Header().Set("ETag", `"`+p.SHA256+`"`)
	return c.NoContent(http.StatusOK)
}

// handlePhotoGet serves a photo (or ?variant=thumb) to those who may see
// its report, with ranges, an ETag and a long cache life: the bytes under
// a hash never change.
func (s *Server) handlePhotoGet() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		p, err := s.media.Exists(ctx, c.Param("sha"))
		if err != nil {
			return err
		}
		if err := s.maySeePhoto(c, p.SHA256); err != nil {
			return err
		}
		return sendPhoto(c, p, s.media.Open)
	}
}

// sendPhoto answers GET of a photo the caller may see, read by open.
func sendPhoto(c echo.Context, p *fieldsync.Photo, open func(context.Context, *fieldsync.Photo, bool) (io.ReadSeekCloser, error)) error {
	ctx := c.Request().Context()
	thumb := false
	switch v := c.QueryParam("variant"); v {
	case "":
	case "thumb":
		thumb = true
	default:
		return fieldsync.Errorf(fieldsync.EInvalid, "variant must be thumb, not %q", v)
	}
	r, err := open(ctx, p, thumb)
	if err != nil {
		return err
	}
	defer r.Close()
	h := c.Response().Header()
	etag, ctype := `"`+p.SHA256+`"`, p.Type
	if thumb {
		etag, ctype = `"`+p.SHA256+`-thumb"`, "image/jpeg"
	}
	h.Set("ETag", etag)
	h.Set(echo.HeaderContentType, ctype)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, r)
	return nil
}

type attachRequest struct {
	ReportID string `json:"report_id"`
	Slot     string `json:"slot"`
}

// handlePhotoAttach puts a stored photo on a report's slot without its
// bytes being sent again.
func (s *Server) handlePhotoAttach() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req attachRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		// Knowing a hash is no proof of holding the photo: only one who may
		// see it already attaches it without sending it. Others upload the
		// bytes, which then deduplicate.
		if err := s.maySeePhoto(c, c.Param("sha")); err != nil {
			return err
		}
		p, err := s.media.Attach(c.Request().Context(), actor(c), c.Param("sha"), req.ReportID, req.Slot)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, photoView{Photo: *p, URL: "/v1/media/" + p.SHA256, ThumbURL: thumbURL(p)})
	}
}

func thumbURL(p *fieldsync.Photo) string {
	if !p.Thumbnail {
		return ""
	}
	return "/v1/media/" + p.SHA256 + "?variant=thumb"
}

// maySeePhoto admits those who may see any report the photo is on; to
// others the photo does not exist.
func (s *Server) maySeePhoto(c echo.Context, sha string) error {
	reports, err := s.deps.Store.PhotoReports(c.Request().Context(), sha)
	if err != nil {
		return err
	}
	for _, r := range reports {
		if _, _, err := s.seenReport(c, r, fieldsync.EntityPhoto, sha); err == nil {
			return nil
		} else if fieldsync.ErrorCode(err) != fieldsync.ENotFound {
			return err
		}
	}
	return notVisible(fieldsync.EntityPhoto, sha)
}

// canAttach admits the technician of the report's visit.
func (s *Server) canAttach(ctx context.Context, userID, reportID string) error {
	r, err := s.deps.Store.Report(ctx, reportID)
	if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
		return fieldsync.Errorf(fieldsync.ENotFound, "report %q is not on the server yet; sync it first", reportID)
	}
	if err != nil {
		return err
	}
	b, err := s.deps.Store.VisitBundle(ctx, r.VisitID)
	if err != nil {
		return err
	}
	if b.Visit.TechnicianID != userID {
		return fieldsync.Errorf(fieldsync.EForbidden, "report %q belongs to another technician's visit", reportID)
	}
	return nil
}
