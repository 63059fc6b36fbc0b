package clientsdk

import (
	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// DiscardDraft deletes a draft report, offline: it is gone from the
// device at once and from the server at the next push (the `report`
// `delete` op). EReportSealed for a signed report; EConflict for a draft
// with photos attached on the device, whose uploads need their report.
// A discarded draft keeps its appraisal slip number unused.
func (c *Client) DiscardDraft(reportID string) error {
	return c.write(fieldsync.EntityReport, reportID, syncproto.OpDelete, "", nil, func(rd *reader) error {
		if _, _, err := c.draft(rd, reportID); err != nil {
			return err
		}
		ids, _, err := reportPhotos(rd.tx, reportID)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return fieldsync.Errorf(fieldsync.EConflict, "draft %s has %d photo(s) attached on this device; a draft with photos is kept", reportID, len(ids))
		}
		return nil
	})
}
