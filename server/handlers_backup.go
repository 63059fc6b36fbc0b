package server

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

const backupPath = "/v1/admin/backup"

// backupRate is the slowest a backup may be read: the server's write
// timeout is stretched to the file's size at this rate, so a large file
// is not cut, while a stalled reader does not hold the store's read
// transaction (and its old pages) for ever.
const backupRate = 1 << 20 // bytes per second

// handleBackup streams a consistent copy of the store file, taken in one
// read transaction while pushes go on. Once the status is sent, a failure
// can only cut the body short of its Content-Length, which clients detect.
func (s *Server) handleBackup() echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		name := "fieldsync-" + s.deps.Now().UTC().Format("20060102T150405Z") + ".db"
		n, err := s.deps.Store.Backup(c.Request().Context(), func(size int64) io.Writer {
			h := res.Header()
			h.Set(echo.HeaderContentType, echo.MIMEOctetStream)
			h.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
			h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
			h.Set("Cache-Control", "no-store")
			grace := 2*time.Minute + time.Duration(size/backupRate)*time.Second
			if err := http.NewResponseController(res).SetWriteDeadline(time.Now().Add(grace)); err != nil {
				s.log.Warn("backup keeps the server's write timeout", "error", err.Error())
			}
			res.WriteHeader(http.StatusOK)
			return res
		})
		if err != nil && res.Committed {
			s.log.Warn("backup cut short", "request_id", requestID(c), "bytes", n, "error", err.Error())
			return nil
		}
		return err
	}
}
