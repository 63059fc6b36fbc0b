package clientsdk

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// CreateAddendum starts a draft report correcting reportID, offline, and
// returns its id: of the same visit and template, its corrects naming
// reportID. The technician fills it in and signs it like any report
// (SetReport, SetAnswer, AttachPhoto, SignReport); it is sealed the same
// way, and the corrected report stays as it was sealed. It is refused as
// the server would refuse it (fieldsync.Report.CheckCorrects), judged by
// what the device has pulled: EInvalidTransition unless the server's seal
// of reportID has reached the device, EInvalid for an addendum or a
// report the device does not have.
func (c *Client) CreateAddendum(reportID string) (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	fields := map[string]json.RawMessage{"corrects": jsonString(reportID)}
	err = c.write(fieldsync.EntityReport, id.String(), syncproto.OpUpsert, "", fields, func(rd *reader) error {
		a := fieldsync.Report{ID: id.String(), Corrects: reportID}
		orig, err := rd.report(reportID)
		switch {
		case fieldsync.ErrorCode(err) == fieldsync.ENotFound:
			orig = nil
		case err != nil:
			return err
		default:
			a.VisitID, a.TemplateID = orig.VisitID, orig.TemplateID
		}
		if err := a.CheckCorrects(orig); err != nil {
			return err
		}
		fields["visit_id"], fields["template_id"] = jsonString(a.VisitID), jsonString(a.TemplateID)
		return c.issueSlipNo(rd.tx, fields)
	})
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// Addenda returns the ids of the reports on the device that correct
// reportID (theirs and those made here), in the order they were made.
func (c *Client) Addenda(reportID string) ([]string, error) {
	var addenda []fieldsync.Report
	err := c.view(func(rd *reader) error {
		all, err := rd.reports()
		for _, r := range all {
			if r.Corrects == reportID {
				addenda = append(addenda, r)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(addenda, func(x, y fieldsync.Report) int {
		return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), strings.Compare(x.ID, y.ID))
	})
	ids := make([]string, len(addenda))
	for i, r := range addenda {
		ids[i] = r.ID
	}
	return ids, nil
}
