package clientsdk

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// SetWork records in the draft report the work done: a line per part
// repaired or replaced (fieldsync.WorkLine: the warranty part kind, an
// optional price-list part code, the quantity and a note), replacing the
// lines recorded before; no lines records none. When the visit
// completes, the server makes its work order and a warranty certificate
// per repaired part, which later warranty decisions on the asset count.
// EInvalid names the line that is wrong; EReportSealed for a signed
// report.
func (c *Client) SetWork(reportID string, lines []fieldsync.WorkLine) error {
	if lines == nil {
		lines = []fieldsync.WorkLine{}
	}
	raw, err := json.Marshal(lines)
	if err != nil {
		return err
	}
	if err := fieldsync.CheckReportField("work", raw, nil); err != nil {
		return err
	}
	return c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", map[string]json.RawMessage{"work": raw}, func(rd *reader) error {
		_, _, err := c.draft(rd, reportID)
		return err
	})
}

// Certificates returns the warranty certificates of an asset's repaired
// parts the device pulled (those of the assets of its visits), oldest
// first.
func (c *Client) Certificates(assetID string) ([]fieldsync.Certificate, error) {
	var out []fieldsync.Certificate
	err := c.view(func(rd *reader) (err error) {
		out, err = rd.certificates(assetID)
		return err
	})
	return out, err
}

// certificates lists the pulled certificates of an asset, in the order
// they were issued (their ids begin with their work order's UUIDv7).
func (rd *reader) certificates(assetID string) ([]fieldsync.Certificate, error) {
	out := []fieldsync.Certificate{}
	err := eachRecord(rd.tx, fieldsync.EntityCertificate, func(id string, s *stored) error {
		var cert fieldsync.Certificate
		if err := json.Unmarshal(s.Data, &cert); err != nil {
			return err
		}
		if cert.AssetID == assetID {
			out = append(out, cert)
		}
		return nil
	})
	return out, err
}
