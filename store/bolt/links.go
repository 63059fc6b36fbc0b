package bolt

import (
	"context"
	"slices"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// CreateLink stores a share link of an existing report, known by the
// SHA-256 of its token, and audits it, in one transaction.
func (s *DB) CreateLink(ctx context.Context, l *fieldsync.ShareLink, tokenHash [32]byte, a fieldsync.Actor) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if _, err := must[fieldsync.Report](tx, bucketReports, "report", l.ReportID); err != nil {
			return err
		}
		byHash := tx.Bucket(indexLinksByHash)
		if byHash.Get(tokenHash[:]) != nil || tx.Bucket(bucketLinks).Get([]byte(l.ID)) != nil {
			return fieldsync.Errorf(fieldsync.EConflict, "link %q exists", l.ID)
		}
		if err := byHash.Put(tokenHash[:], []byte(l.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(indexLinksByRept).Put(key(l.ReportID, l.ID), nil); err != nil {
			return err
		}
		if err := put(tx.Bucket(bucketLinks), l.ID, l); err != nil {
			return err
		}
		return writeAudit(tx, fieldsync.EntityLink, l.ID, nil, l, a, "link.create", l.CreatedAt)
	})
}

// LinkByToken returns the link whose token hashes to tokenHash, or
// ENotFound: one index lookup, whatever the link's state.
func (s *DB) LinkByToken(ctx context.Context, tokenHash [32]byte) (*fieldsync.ShareLink, error) {
	var l *fieldsync.ShareLink
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(indexLinksByHash).Get(tokenHash[:])
		if id == nil {
			return fieldsync.Errorf(fieldsync.ENotFound, "no such link")
		}
		l, err = must[fieldsync.ShareLink](tx, bucketLinks, "link", string(id))
		return err
	})
	return l, err
}

// ReportLinks lists a report's links, oldest first.
func (s *DB) ReportLinks(ctx context.Context, reportID string) ([]fieldsync.ShareLink, error) {
	out := []fieldsync.ShareLink{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		ls, err := children[fieldsync.ShareLink](tx, indexLinksByRept, bucketLinks, reportID)
		out = append(out, ls...)
		return err
	})
	slices.SortStableFunc(out, func(a, b fieldsync.ShareLink) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// RevokeLink revokes a link of a report and audits it; a link of another
// report is ENotFound. Revoking a revoked link changes nothing.
func (s *DB) RevokeLink(ctx context.Context, reportID, linkID string, a fieldsync.Actor, now time.Time) (*fieldsync.ShareLink, error) {
	var l *fieldsync.ShareLink
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		l, err = get[fieldsync.ShareLink](tx.Bucket(bucketLinks), linkID)
		if err != nil {
			return err
		}
		if l == nil || l.ReportID != reportID {
			return notFound(fieldsync.EntityLink, linkID)
		}
		if l.RevokedAt != nil {
			return nil
		}
		before := *l
		l.Revoke(a.UserID, now)
		if err := put(tx.Bucket(bucketLinks), l.ID, l); err != nil {
			return err
		}
		return writeAudit(tx, fieldsync.EntityLink, l.ID, before, l, a, "link.revoke", now)
	})
	return l, err
}

// SignOffReport records a customer's sign-off of its report once, sealed:
// in one transaction it loads the report, runs check on it (the caller's
// rule of what may be signed off), refuses a second sign-off (EConflict
// naming the first), signs the sign-off's statement with k at the log's
// next index, appends the statement to the transparency log and keeps the
// record, audited. so gains its index, key and signature. A refusal also
// opens the complaint complain returns for the report's ticket (when
// complain is not nil), in the same transaction.
func (s *DB) SignOffReport(ctx context.Context, so *fieldsync.SignOff, k seal.Key, check func(*fieldsync.Report) error,
	complain func(*fieldsync.Ticket) (*fieldsync.Complaint, error), a fieldsync.Actor, now time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		r, err := must[fieldsync.Report](tx, bucketReports, "report", so.ReportID)
		if err != nil {
			return err
		}
		if err := check(r); err != nil {
			return err
		}
		signoffs := tx.Bucket(bucketSignOffs)
		first, err := get[fieldsync.SignOff](signoffs, so.ReportID)
		if err != nil {
			return err
		}
		if first != nil {
			did := "signed off"
			if first.Decision == fieldsync.SignOffRefused {
				did = "refused"
			}
			return fieldsync.Errorf(fieldsync.EConflict, "report %s was %s by its customer already, at %s (log index %d); a report takes one sign-off",
				so.ReportID, did, first.At, first.LogIndex)
		}
		log := logTx(tx)
		index, err := log.Size()
		if err != nil {
			return err
		}
		stmt, err := seal.SignOff(so, index, k)
		if err != nil {
			return err
		}
		if got, err := translog.Append(log, stmt); err != nil {
			return err
		} else if got != index {
			return fieldsync.Errorf(fieldsync.EInternal, "log appended at %d, not at %d", got, index)
		}
		if err := put(signoffs, so.ReportID, so); err != nil {
			return err
		}
		if so.Decision == fieldsync.SignOffRefused && complain != nil {
			if err := complainTx(tx, r, complain, a); err != nil {
				return err
			}
		}
		return writeAudit(tx, fieldsync.EntitySignOff, so.ReportID, nil, so, a, "signoff."+string(so.Decision), now)
	})
}

// SignOffs returns the sign-offs of reports by report id, for those that
// have one.
func (s *DB) SignOffs(ctx context.Context, reportIDs []string) (map[string]fieldsync.SignOff, error) {
	out := map[string]fieldsync.SignOff{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSignOffs)
		for _, id := range reportIDs {
			so, err := get[fieldsync.SignOff](b, id)
			if err != nil {
				return err
			}
			if so != nil {
				out[id] = *so
			}
		}
		return nil
	})
	return out, err
}

// CustomerReports lists the reports of every ticket of the customers
// named, by report id (time order for UUIDv7 ids), a page at a time after
// cursor.
func (s *DB) CustomerReports(ctx context.Context, customerIDs []string, cursor string, limit int) ([]fieldsync.Report, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	var all []fieldsync.Report
	err = s.db.View(func(tx *bbolt.Tx) error {
		for _, c := range customerIDs {
			err := scanPrefix(tx.Bucket(indexTicketsByCust), key(c, ""), "", func(ticket string) (bool, error) {
				return true, scanPrefix(tx.Bucket(indexVisitsByTicket), key(ticket, ""), "", func(visit string) (bool, error) {
					return true, scanPrefix(tx.Bucket(indexReportsByVisit), key(visit, ""), "", func(id string) (bool, error) {
						if id <= after {
							return true, nil
						}
						r, err := get[fieldsync.Report](tx.Bucket(bucketReports), id)
						if r != nil {
							all = append(all, *r)
						}
						return true, err
					})
				})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(all, func(a, b fieldsync.Report) int { return strings.Compare(a.ID, b.ID) })
	all = slices.CompactFunc(all, func(a, b fieldsync.Report) bool { return a.ID == b.ID })
	next := ""
	if len(all) > limit {
		all, next = all[:limit], encodeCursor(all[limit-1].ID)
	}
	return append([]fieldsync.Report{}, all...), next, nil
}
