package clientsdk

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync"
)

// ShareLink is a link a customer opens, without an account, to read a
// report and sign it off (GET /v1/shared/{token}).
type ShareLink struct {
	ID        string    `json:"id"`
	ReportID  string    `json:"report_id"`
	ExpiresAt time.Time `json:"expires_at"`
	// URL is the link in full, the server's base URL included, as JSON
	// for programs. Its token is shown this once; the server keeps only
	// its hash.
	URL string `json:"url"`
	// PageURL is the same link as the report's page for a phone's
	// browser (GET /r/{token}): what the customer is sent.
	PageURL string `json:"-"`
	Token   string `json:"token"`
}

// ShareReport asks the server, online, for a share link of a report of
// one of the technician's visits: for a customer who was not there to
// sign (remote sign-off), or who wants the signed report. days is how
// long the link opens (0: the server's default, 30 days). The report's
// changes must have reached the server: EConflict, before any request,
// while some wait on the device.
func (c *Client) ShareReport(ctx context.Context, reportID string, days int) (ShareLink, error) {
	var l ShareLink
	if c.isClosed() {
		return l, ErrClosed
	}
	err := c.view(func(rd *reader) error {
		pending, err := rd.pending(fieldsync.EntityReport, reportID)
		if err == nil && len(pending) > 0 {
			err = fieldsync.Errorf(fieldsync.EConflict, "report %s has %d change(s) not yet synced: sync, then share it", reportID, len(pending))
		}
		return err
	})
	if err != nil {
		return l, err
	}
	var body any
	if days != 0 {
		body = map[string]int{"expires_in_days": days}
	}
	if err := c.session.call(ctx, http.MethodPost, "/v1/reports/"+url.PathEscape(reportID)+"/links", nil, c.opts.RequestTimeout, body, &l); err != nil {
		return l, err
	}
	base := strings.TrimRight(c.opts.ServerURL, "/")
	l.URL = base + l.URL
	l.PageURL = base + "/r/" + l.Token
	return l, nil
}
