package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

const eventsPath = "/dispatch/events"

// Heartbeat is how often an idle event stream sends a comment, so that
// proxies keep it open and a dead client is noticed.
const Heartbeat = 15 * time.Second

// handleEvents streams server-sent events to a browser session: a
// "changed" event each time the store commits a change (the wake-up of
// the long poll, handlePull), so a page reloads what it shows. It ends
// when the client goes, the session ends (logout) or the server shuts
// down (CloseStreams).
func (s *Server) handleEvents() echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principalFrom(c)
		bs := s.webSessionOf(c)
		if bs == nil {
			return fieldsync.Errorf(fieldsync.ESessionEnded, "this browser session ended: sign in again")
		}
		t := s.sessions
		t.mu.Lock()
		if t.streams[p.UserID] >= MaxStreamsPerUser {
			t.mu.Unlock()
			return fieldsync.Errorf(fieldsync.ETooMany, "at most %d event streams per user are open at once", MaxStreamsPerUser)
		}
		t.streams[p.UserID]++
		t.mu.Unlock()
		defer func() {
			t.mu.Lock()
			if t.streams[p.UserID]--; t.streams[p.UserID] <= 0 {
				delete(t.streams, p.UserID)
			}
			t.mu.Unlock()
		}()

		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		c.Response().WriteHeader(http.StatusOK)
		rc := http.NewResponseController(c.Response().Writer)
		ctx := c.Request().Context()
		send := func(msg string) error {
			// Each write gets its own deadline: the server's WriteTimeout
			// would otherwise cut a stream that is meant to last.
			rc.SetWriteDeadline(time.Now().Add(Heartbeat * 2))
			if _, err := fmt.Fprint(c.Response(), msg); err != nil {
				return err
			}
			c.Response().Flush()
			return nil
		}
		if err := send("retry: 5000\n: open\n\n"); err != nil {
			return nil
		}
		beat := time.NewTicker(Heartbeat)
		defer beat.Stop()
		n := 0
		for {
			changed := s.deps.Store.Changed()
			select {
			case <-changed:
				n++
				if send(fmt.Sprintf("id: %d\nevent: changed\ndata: {}\n\n", n)) != nil {
					return nil
				}
			case <-beat.C:
				if send(": heartbeat\n\n") != nil {
					return nil
				}
			case <-bs.ended:
				return nil
			case <-t.closing:
				return nil
			case <-ctx.Done():
				return nil
			}
		}
	}
}
