package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// MaxWait bounds a long poll.
const MaxWait = 30 * time.Second

// checkProtocol refuses protocol versions this server does not speak. A
// request without the header is taken as version 1.
func checkProtocol(c echo.Context) error {
	v := c.Request().Header.Get(syncproto.Header)
	if v == "" || v == strconv.Itoa(syncproto.Version) {
		return nil
	}
	return fieldsync.Errorf(fieldsync.EUnsupportedProtocol, "this server speaks sync protocol %d, not %q; update the app", syncproto.Version, v)
}

func (s *Server) handlePush() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkProtocol(c); err != nil {
			return err
		}
		var req syncproto.PushRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		p := principalFrom(c)
		resp, err := s.engine.Push(c.Request().Context(), syncproto.Principal{UserID: p.UserID, Role: p.Role, Device: p.Device, Install: p.Install}, req)
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, resp)
	}
}

// handlePull answers the changes visible to the caller after the cursor;
// with wait, it holds the request until something changes or time is up.
func (s *Server) handlePull() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkProtocol(c); err != nil {
			return err
		}
		q := c.QueryParams()
		limit := 0
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > syncproto.MaxPullLimit {
				return fieldsync.Errorf(fieldsync.EInvalid, "limit must be a whole number from 1 to %d", syncproto.MaxPullLimit)
			}
			limit = n
		}
		var wait time.Duration
		if v := q.Get("wait"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > MaxWait {
				return fieldsync.Errorf(fieldsync.EInvalid, "wait must be a duration up to %s, such as 25s", MaxWait)
			}
			wait = d
		}
		p := principalFrom(c)
		parts := syncproto.PartitionsFor(p.UserID, p.Role)
		ctx := c.Request().Context()
		deadline := time.NewTimer(wait)
		defer deadline.Stop()
		for {
			// Take the wake-up channel before reading, so a change that
			// commits in between is not missed.
			changed := s.deps.Store.Changed()
			changes, next, more, err := s.deps.Store.Pull(ctx, parts, q.Get("cursor"), limit)
			if err != nil {
				return err
			}
			if len(changes) > 0 || more || wait == 0 {
				return respond(c, http.StatusOK, syncproto.PullResponse{Changes: changes, Cursor: next, HasMore: more})
			}
			select {
			case <-changed:
			case <-deadline.C:
				return respond(c, http.StatusOK, syncproto.PullResponse{Changes: changes, Cursor: next})
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}
