package bolt

import (
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// A second visit names the visit that asked for it (Visit.PreviousVisitID,
// set when it is booked and never changed). Its technician receives that
// visit with its reports and photos, and their later changes, as context
// for the work (bundleOf, partitionsOf).

// indexPrevious lists a visit being created under the visit it names as
// previous, which must be a visit of the same ticket (EInvalid): the
// technician of one ticket never receives another's records.
func indexPrevious(tx *bbolt.Tx, v *fieldsync.Visit) error {
	if v.PreviousVisitID == "" {
		return nil
	}
	prev, err := get[fieldsync.Visit](tx.Bucket(bucketVisits), v.PreviousVisitID)
	if err != nil {
		return err
	}
	if prev == nil || prev.TicketID != v.TicketID {
		return fieldsync.Errorf(fieldsync.EInvalid, "previous_visit_id: no visit %q on ticket %s", v.PreviousVisitID, v.TicketID)
	}
	return tx.Bucket(indexVisitsByPrevious).Put(key(v.PreviousVisitID, v.ID), nil)
}

// followersOf returns the technicians of the visits that name visitID as
// their previous one.
func followersOf(tx *bbolt.Tx, visitID string) ([]string, error) {
	var techs []string
	visits := tx.Bucket(bucketVisits)
	err := scanPrefix(tx.Bucket(indexVisitsByPrevious), key(visitID, ""), "", func(id string) (bool, error) {
		v, err := get[fieldsync.Visit](visits, id)
		if v != nil {
			techs = append(techs, v.TechnicianID)
		}
		return true, err
	})
	return techs, err
}

// indexExistingPrevious fills the previous-visit index from the visits
// stored (migration).
func indexExistingPrevious(tx *bbolt.Tx) error {
	idx, visits := tx.Bucket(indexVisitsByPrevious), tx.Bucket(bucketVisits)
	if visits == nil {
		return nil
	}
	return visits.ForEach(func(k, raw []byte) error {
		var v fieldsync.Visit
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.PreviousVisitID == "" {
			return nil
		}
		return idx.Put(key(v.PreviousVisitID, v.ID), nil)
	})
}
