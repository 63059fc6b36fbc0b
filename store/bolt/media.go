package bolt

import (
	"context"
	"encoding/binary"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

func expiryKey(u *media.Upload) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(u.ExpiresAt.UnixNano())), append([]byte{0}, u.ID...)...)
}

// CreateUpload stores a new upload in progress with its indexes.
func (s *DB) CreateUpload(ctx context.Context, u *media.Upload) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketUploads).Get([]byte(u.ID)) != nil {
			return fieldsync.Errorf(fieldsync.EConflict, "upload %q exists", u.ID)
		}
		if err := tx.Bucket(indexUploadsByUser).Put(key(u.UserID, u.ID), nil); err != nil {
			return err
		}
		if err := tx.Bucket(indexUploadsExpiry).Put(expiryKey(u), nil); err != nil {
			return err
		}
		if err := putHead(tx, u); err != nil {
			return err
		}
		return put(tx.Bucket(bucketUploads), u.ID, u)
	})
}

// putHead stores an upload's first bytes when they have grown: once full,
// chunk after chunk leaves them alone.
func putHead(tx *bbolt.Tx, u *media.Upload) error {
	heads := tx.Bucket(bucketUploadHeads)
	if len(heads.Get([]byte(u.ID))) == len(u.Head) {
		return nil
	}
	return heads.Put([]byte(u.ID), u.Head)
}

// Upload returns an upload in progress with its first bytes, or ENotFound.
func (s *DB) Upload(ctx context.Context, id string) (*media.Upload, error) {
	var u *media.Upload
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		if u, err = must[media.Upload](tx, bucketUploads, "upload", id); err != nil {
			return err
		}
		u.Head = append([]byte(nil), tx.Bucket(bucketUploadHeads).Get([]byte(id))...)
		return nil
	})
	return u, err
}

// SaveUpload records an upload's progress. Its expiry does not move.
func (s *DB) SaveUpload(ctx context.Context, u *media.Upload) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketUploads).Get([]byte(u.ID)) == nil {
			return notFound("upload", u.ID)
		}
		if err := putHead(tx, u); err != nil {
			return err
		}
		return put(tx.Bucket(bucketUploads), u.ID, u)
	})
}

// DeleteUpload forgets an upload and its indexes; a missing one is fine.
func (s *DB) DeleteUpload(ctx context.Context, id string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		u, err := get[media.Upload](tx.Bucket(bucketUploads), id)
		if err != nil || u == nil {
			return err
		}
		if err := tx.Bucket(indexUploadsByUser).Delete(key(u.UserID, u.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(indexUploadsExpiry).Delete(expiryKey(u)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUploadHeads).Delete([]byte(id)); err != nil {
			return err
		}
		return tx.Bucket(bucketUploads).Delete([]byte(id))
	})
}

// CountUploads counts a user's uploads in progress.
func (s *DB) CountUploads(ctx context.Context, userID string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		return scanPrefix(tx.Bucket(indexUploadsByUser), key(userID, ""), "", func(string) (bool, error) {
			n++
			return true, nil
		})
	})
	return n, err
}

// ExpiredUploads lists up to limit uploads that expired before the time,
// oldest first.
func (s *DB) ExpiredUploads(ctx context.Context, before time.Time, limit int) ([]media.Upload, error) {
	var out []media.Upload
	err := s.db.View(func(tx *bbolt.Tx) error {
		uploads := tx.Bucket(bucketUploads)
		c := tx.Bucket(indexUploadsExpiry).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[:8])) >= before.UnixNano() {
				break
			}
			u, err := get[media.Upload](uploads, string(k[9:]))
			if err != nil {
				return err
			}
			if u != nil {
				out = append(out, *u)
			}
		}
		return nil
	})
	return out, err
}

// AddPhoto records verified evidence and attaches it to its report's
// slot, in one transaction. The same bytes attached again keep their first
// record and gain the new attachment.
func (s *DB) AddPhoto(ctx context.Context, p *fieldsync.Photo) error {
	return s.update(func(tx *bbolt.Tx) error {
		photos := tx.Bucket(bucketPhotos)
		if photos.Get([]byte(p.SHA256)) == nil {
			if err := put(photos, p.SHA256, p); err != nil {
				return err
			}
		}
		attachments := tx.Bucket(indexReportPhotos)
		if attachments.Get(key(p.ReportID, p.Slot, p.SHA256)) != nil {
			return nil // attached before: a retry changes nothing
		}
		if err := attachments.Put(key(p.ReportID, p.Slot, p.SHA256), nil); err != nil {
			return err
		}
		if err := tx.Bucket(indexPhotoReports).Put(key(p.SHA256, p.ReportID), nil); err != nil {
			return err
		}
		if err := putAttachment(tx, p, p.CreatedAt); err != nil {
			return err
		}
		return writeAudit(tx, "report", p.ReportID, nil, map[string]any{"photo": map[string]string{"slot": p.Slot, "sha256": p.SHA256}},
			fieldsync.Actor{UserID: p.UploadedBy, DeviceID: p.DeviceID}, "report.photo", p.CreatedAt)
	})
}

// Photo returns verified evidence by hash, or ENotFound.
func (s *DB) Photo(ctx context.Context, sha string) (*fieldsync.Photo, error) {
	return view[fieldsync.Photo](s, bucketPhotos, "photo", sha)
}

// ReportPhotos lists the photos attached to a report, by slot.
func (s *DB) ReportPhotos(ctx context.Context, reportID string) ([]fieldsync.Photo, error) {
	out := []fieldsync.Photo{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		photos := tx.Bucket(bucketPhotos)
		return scanPrefix(tx.Bucket(indexReportPhotos), key(reportID, ""), "", func(rest string) (bool, error) {
			slot, sha, _ := strings.Cut(rest, "\x00")
			p, err := get[fieldsync.Photo](photos, sha)
			if err == nil && p != nil {
				p.ReportID, p.Slot = reportID, slot
				out = append(out, *p)
			}
			return true, err
		})
	})
	return out, err
}

// PhotoReports lists the reports a photo is attached to.
func (s *DB) PhotoReports(ctx context.Context, sha string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return scanPrefix(tx.Bucket(indexPhotoReports), key(sha, ""), "", func(report string) (bool, error) {
			out = append(out, report)
			return true, nil
		})
	})
	return out, err
}

// attachmentID names a photo on a report's slot in the sync feed.
func attachmentID(reportID, slot, sha string) string { return reportID + ":" + slot + ":" + sha }

// putAttachment stores a photo's attachment to a report's slot and sends
// it to the devices that see the report: photo metadata is part of the
// bundle of a visit.
func putAttachment(tx *bbolt.Tx, p *fieldsync.Photo, now time.Time) error {
	id := attachmentID(p.ReportID, p.Slot, p.SHA256)
	if err := put(tx.Bucket(bucketAttachments), id, p); err != nil {
		return err
	}
	_, err := publish(tx, "photo", id, syncproto.ChangeUpsert, now)
	return err
}
