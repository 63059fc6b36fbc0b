package bolt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// addAddendum lists r, a report just made with Corrects set, among the
// addenda of the report it corrects, after those made before it.
func addAddendum(tx *bbolt.Tx, r *fieldsync.Report) error {
	idx := tx.Bucket(indexAddenda)
	n, err := idx.NextSequence()
	if err != nil {
		return err
	}
	return idx.Put(key(r.Corrects, string(seqKey(n))), []byte(r.ID))
}

// dropAddendum takes r, a deleted draft addendum, off its report's list.
func dropAddendum(tx *bbolt.Tx, r *fieldsync.Report) error {
	c := tx.Bucket(indexAddenda).Cursor()
	prefix := key(r.Corrects, "")
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if string(v) == r.ID {
			return c.Delete()
		}
	}
	return nil
}

// addendaOf returns the ids of the addenda of a report, in the order
// they were made; nil when it has none.
func addendaOf(tx *bbolt.Tx, reportID string) []string {
	var ids []string
	c := tx.Bucket(indexAddenda).Cursor()
	prefix := key(reportID, "")
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		ids = append(ids, string(v))
	}
	return ids
}

// Addenda returns, by report id, the ids of each report's addenda in the
// order they were made, for the reports that have any, in one snapshot.
func (s *DB) Addenda(ctx context.Context, reportIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, id := range reportIDs {
			if ids := addendaOf(tx, id); ids != nil {
				out[id] = ids
			}
		}
		return nil
	})
	return out, err
}

// indexExistingAddenda indexes the addenda among the stored reports, by
// their creation.
func indexExistingAddenda(tx *bbolt.Tx) error {
	reports := tx.Bucket(bucketReports)
	if reports == nil {
		return nil
	}
	var addenda []fieldsync.Report
	if err := reports.ForEach(func(_, raw []byte) error {
		var r fieldsync.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if r.Corrects != "" {
			addenda = append(addenda, r)
		}
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(addenda, func(a, b fieldsync.Report) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	for i := range addenda {
		if err := addAddendum(tx, &addenda[i]); err != nil {
			return err
		}
	}
	return nil
}
