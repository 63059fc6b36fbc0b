package bolt

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// SetSealKey gives the store the server key that seals signed reports
// (the server's current signing key, read at each seal). Without one, or
// while it returns a key without its private half, signed reports stay
// signed and wait (SealWaiting seals them once there is a key), which
// log says once.
func (s *DB) SetSealKey(key func() seal.Key, log *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealKey, s.sealLog = key, log
}

func (s *DB) currentSealKey() (seal.Key, bool) {
	s.mu.Lock()
	fn, log := s.sealKey, s.sealLog
	s.mu.Unlock()
	if fn != nil {
		if k := fn(); len(k.Private) > 0 && k.ID != "" {
			return k, true
		}
	}
	s.noSealKey.Do(func() {
		if log == nil {
			log = slog.Default()
		}
		log.Warn("signed reports wait for their seal: no server key is configured to seal them")
	})
	return seal.Key{}, false
}

// SealWaiting seals every signed report that is ready (sealIfReady) and
// returns how many it sealed, in one transaction. Reports are sealed as
// their last photo arrives; this sweep, run when the server starts, seals
// those a crash or a missing key left waiting.
func (s *DB) SealWaiting(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.update(func(tx *bbolt.Tx) error {
		n = 0
		var ids []string
		if err := tx.Bucket(indexSealWaiting).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			sealed, err := s.sealIfReady(tx, id, now)
			if err != nil {
				return err
			}
			if sealed {
				n++
			}
		}
		return nil
	})
	return n, err
}

// sealIfReady seals report id in tx when it is signed with a device
// signature and every photo the signature names (the signature images
// among them) is stored and attached to it: the seal's statement is
// appended to the transparency log at its current size, and the report,
// now sealed with the seal, is written, audited and published in the
// same transaction, so a report is sealed exactly when its statement is
// logged. A signed report not ready, or sealed without a key, is kept in
// the index of reports waiting for their seal; any other leaves it.
func (s *DB) sealIfReady(tx *bbolt.Tx, id string, now time.Time) (bool, error) {
	r, err := get[fieldsync.Report](tx.Bucket(bucketReports), id)
	if err != nil {
		return false, err
	}
	return s.sealReport(tx, id, r, now, func() error {
		if err := put(tx.Bucket(bucketReports), id, r); err != nil {
			return err
		}
		_, err := publish(tx, fieldsync.EntityReport, id, syncproto.ChangeUpsert, now)
		return err
	})
}

// sealReport is sealIfReady of r, report id as tx holds it (nil: none),
// which it seals in place; publish writes the sealed report and places it
// in the feed. A push, which holds its reports, writes and places them
// once at its end, so it seals them before and passes a publish that does
// nothing.
func (s *DB) sealReport(tx *bbolt.Tx, id string, r *fieldsync.Report, now time.Time, publish func() error) (bool, error) {
	waiting := tx.Bucket(indexSealWaiting)
	if r == nil || r.Status != fieldsync.ReportSigned || r.Signature == nil {
		return false, waiting.Delete([]byte(id))
	}
	attached, photos := tx.Bucket(indexReportPhotos), tx.Bucket(bucketPhotos)
	for _, p := range r.SignedPhotos {
		if !exists(attached, key(id, p.Slot, p.SHA256)) || !exists(photos, []byte(p.SHA256)) {
			return false, waiting.Put([]byte(id), nil)
		}
	}
	k, ok := s.currentSealKey()
	if !ok {
		return false, waiting.Put([]byte(id), nil)
	}
	log := logTx(tx)
	index, err := log.Size()
	if err != nil {
		return false, err
	}
	sl, stmt, err := seal.New(r, now, index, k)
	if err != nil {
		return false, err
	}
	if got, err := translog.Append(log, stmt); err != nil {
		return false, err
	} else if got != index {
		return false, fmt.Errorf("seal of report %s: logged at %d, not at the log's size %d", id, got, index)
	}
	if err := r.Sealed(sl, now); err != nil {
		return false, err
	}
	if err := writeAudit(tx, fieldsync.EntityReport, id, nil, map[string]any{"status": r.Status, "seal": sl},
		fieldsync.ActorFrom(context.Background()), "report.seal", now); err != nil {
		return false, err
	}
	if err := appraisalSealed(tx, r, fieldsync.ActorFrom(context.Background()), now); err != nil {
		return false, err
	}
	if err := publish(); err != nil {
		return false, err
	}
	return true, waiting.Delete([]byte(id))
}

// exists reports whether b holds k. Get cannot tell: in the transaction
// that put it, a key of an index, whose value is empty, reads as nil.
func exists(b *bbolt.Bucket, k []byte) bool {
	found, _ := b.Cursor().Seek(k)
	return bytes.Equal(found, k)
}
