package clientsdk

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync"
)

// A second visit's technician receives the visit that asked for it (its
// Visit.PreviousVisitID) with its reports and photos: context for the
// work, not work. The device lists only the technician's own visits
// (Visits) and refuses to record anything on another's (EForbidden), as
// the server would.

// PreviousVisit is what a second visit's device holds of the visit that
// asked for it.
type PreviousVisit struct {
	Visit fieldsync.Visit `json:"visit"`
	// Reports are the visit's reports, as Bundle gives them: findings,
	// cause, warranty decision, quote, work and photos.
	Reports []fieldsync.Report `json:"reports"`
	// SecondVisit is what the visit asked this one to bring (parts by
	// price-list code, a note); nil when it asked nothing.
	SecondVisit *fieldsync.SecondVisit `json:"second_visit,omitempty"`
}

// PreviousVisit returns, offline, the visit that asked for visitID, a
// visit of the device's, with its reports. ENotFound when the device has
// no such visit, when visitID is not a second visit, or when the visit
// before it has not reached the device yet (sync first).
func (c *Client) PreviousVisit(visitID string) (*PreviousVisit, error) {
	var out *PreviousVisit
	err := c.view(func(rd *reader) error {
		v, err := rd.visit(visitID)
		if err != nil {
			return err
		}
		if v.PreviousVisitID == "" {
			return fieldsync.Errorf(fieldsync.ENotFound, "visit %s is not a second visit: it names no visit before it", visitID)
		}
		prev, err := rd.visit(v.PreviousVisitID)
		if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
			return fieldsync.Errorf(fieldsync.ENotFound, "visit %s, before visit %s, has not reached this device yet: sync first", v.PreviousVisitID, visitID)
		}
		if err != nil {
			return err
		}
		reports, err := rd.reportsOf(prev.ID)
		if err != nil {
			return err
		}
		out = &PreviousVisit{Visit: *prev, Reports: reports, SecondVisit: prev.SecondVisit}
		return nil
	})
	return out, err
}

// mine returns whether a visit is work of the signed-in user: any visit
// for a staff device, only their own for a technician's.
func (rd *reader) mine() (func(v *fieldsync.Visit) bool, error) {
	role, err := getSecret(rd.tx, keyRole)
	if err != nil || role != string(fieldsync.RoleTechnician) {
		return func(*fieldsync.Visit) bool { return true }, err
	}
	user, err := getSecret(rd.tx, keyUserID)
	return func(v *fieldsync.Visit) bool { return v.TechnicianID == user }, err
}

// ownVisit returns EForbidden unless the visit is the signed-in user's
// work (mine).
func (rd *reader) ownVisit(v *fieldsync.Visit) error {
	mine, err := rd.mine()
	if err != nil || mine(v) {
		return err
	}
	return fieldsync.Errorf(fieldsync.EForbidden, "visit %s is technician %s's, the visit before yours: it is on this device to read, not to work on", v.ID, v.TechnicianID)
}

// ownWork returns EForbidden for a change of a visit, or of a report of
// one, that is not the signed-in user's work. A change whose visit the
// device does not have passes: the caller's checks answer it.
func (rd *reader) ownWork(entity fieldsync.Entity, id string, fields map[string]json.RawMessage) error {
	visitID := id
	if entity == fieldsync.EntityReport {
		visitID = ""
		if raw, ok := fields["visit_id"]; ok {
			if err := json.Unmarshal(raw, &visitID); err != nil {
				return err
			}
		} else if r, err := rd.report(id); err == nil {
			visitID = r.VisitID
		} else if raw, ok := fields["corrects"]; ok {
			var orig string
			if err := json.Unmarshal(raw, &orig); err != nil {
				return err
			}
			if r, err := rd.report(orig); err == nil {
				visitID = r.VisitID
			}
		}
	} else if entity != fieldsync.EntityVisit {
		return nil
	}
	v, err := rd.visit(visitID)
	if fieldsync.ErrorCode(err) == fieldsync.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return rd.ownVisit(v)
}
