package bolt

import (
	"context"
	"encoding/binary"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/tus"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

func expiryKey(u *tus.Upload) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(u.ExpiresAt.UnixNano())), append([]byte{0}, u.ID...)...)
}

// CreateUpload stores a new upload in progress with its indexes, unless
// its user has maxOpen uploads open already (ETooMany): counted in this
// transaction, so concurrent creates never pass the limit together.
func (s *DB) CreateUpload(ctx context.Context, u *tus.Upload, maxOpen int) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketUploads).Get([]byte(u.ID)) != nil {
			return fieldsync.Errorf(fieldsync.EConflict, "upload %q exists", u.ID)
		}
		if n, err := countUploads(tx, u.UserID, maxOpen); err != nil {
			return err
		} else if n >= maxOpen {
			return fieldsync.Errorf(fieldsync.ETooMany, "at most %d uploads may be open at once; finish or delete some", maxOpen)
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
func putHead(tx *bbolt.Tx, u *tus.Upload) error {
	heads := tx.Bucket(bucketUploadHeads)
	if len(heads.Get([]byte(u.ID))) == len(u.Head) {
		return nil
	}
	return heads.Put([]byte(u.ID), u.Head)
}

// Upload returns an upload in progress with its first bytes, or ENotFound.
func (s *DB) Upload(ctx context.Context, id string) (*tus.Upload, error) {
	var u *tus.Upload
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		if u, err = must[tus.Upload](tx, bucketUploads, "upload", id); err != nil {
			return err
		}
		u.Head = append([]byte(nil), tx.Bucket(bucketUploadHeads).Get([]byte(id))...)
		return nil
	})
	return u, err
}

// SaveUpload records an upload's progress. Its expiry does not move.
func (s *DB) SaveUpload(ctx context.Context, u *tus.Upload) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketUploads).Get([]byte(u.ID)) == nil {
			return notFound(fieldsync.EntityUpload, u.ID)
		}
		if err := putHead(tx, u); err != nil {
			return err
		}
		return put(tx.Bucket(bucketUploads), u.ID, u)
	})
}

// DeleteUpload forgets an upload and its indexes; a missing one is fine.
func (s *DB) DeleteUpload(ctx context.Context, id string) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return deleteUpload(tx, id) })
}

func deleteUpload(tx *bbolt.Tx, id string) error {
	u, err := get[tus.Upload](tx.Bucket(bucketUploads), id)
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
}

// CountUploads counts a user's uploads in progress.
func (s *DB) CountUploads(ctx context.Context, userID string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		n, err = countUploads(tx, userID, -1)
		return err
	})
	return n, err
}

// countUploads counts a user's uploads in progress, stopping at limit
// (none if negative).
func countUploads(tx *bbolt.Tx, userID string, limit int) (int, error) {
	n := 0
	err := scanPrefix(tx.Bucket(indexUploadsByUser), key(userID, ""), "", func(string) (bool, error) {
		n++
		return limit < 0 || n < limit, nil
	})
	return n, err
}

// ExpiredUploads lists up to limit uploads that expired before the time,
// oldest first.
func (s *DB) ExpiredUploads(ctx context.Context, before time.Time, limit int) ([]tus.Upload, error) {
	var out []tus.Upload
	err := s.db.View(func(tx *bbolt.Tx) error {
		uploads := tx.Bucket(bucketUploads)
		c := tx.Bucket(indexUploadsExpiry).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[:8])) >= before.UnixNano() {
				break
			}
			u, err := get[tus.Upload](uploads, string(k[9:]))
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
// slot, in one transaction, unless the report is signed and its signature
// does not name the photo (EReportSealed) or its template has no such
// slot (EInvalid); ENotFound
// for a report not stored. The same bytes attached again keep their first
// record and gain the new attachment. A photo recorded without a thumbnail
// joins the thumbnail worker's queue (PendingThumbnails). On return *p is
// the attachment as stored: the photo's record with p's report, slot,
// uploader, device, time and file name.
func (s *DB) AddPhoto(ctx context.Context, p *fieldsync.Photo) error {
	return s.update(func(tx *bbolt.Tx) error { return s.addPhoto(tx, p) })
}

// FinishUpload records the photo a finished upload became (as AddPhoto)
// and forgets the upload, in one transaction: a crash leaves the upload,
// to be finished again, or the photo, never both.
func (s *DB) FinishUpload(ctx context.Context, uploadID string, p *fieldsync.Photo) error {
	return s.update(func(tx *bbolt.Tx) error {
		if err := s.addPhoto(tx, p); err != nil {
			return err
		}
		return deleteUpload(tx, uploadID)
	})
}

// Attachable returns what AddPhoto would refuse of photo sha on the
// report's slot: ENotFound for a report not stored, EReportSealed for a
// signed one whose signature does not name it (Report.TakesPhoto),
// EInvalid for a slot its template lacks.
func (s *DB) Attachable(ctx context.Context, reportID, slot, sha string) error {
	return s.db.View(func(tx *bbolt.Tx) error { return attachable(tx, reportID, slot, sha) })
}

// attachable is the rule of Attachable, read in the transaction that
// records an attachment: a report signed since an upload began takes the
// photo only if the signature names it.
func attachable(tx *bbolt.Tx, reportID, slot, sha string) error {
	r, err := must[fieldsync.Report](tx, bucketReports, "report_id", reportID)
	if err != nil {
		return err
	}
	if err := r.TakesPhoto(slot, sha); err != nil {
		return err
	}
	t, err := get[fieldsync.Template](tx.Bucket(bucketTemplates), r.TemplateID)
	if err != nil {
		return err
	}
	if t == nil {
		return fieldsync.Errorf(fieldsync.EInvalid, "report %s has template %q, which this server does not have", reportID, r.TemplateID)
	}
	return t.CheckSlot(slot)
}

// addPhoto attaches a photo (attachPhoto) and seals its report if it was
// waiting for this photo (sealIfReady), in tx.
func (s *DB) addPhoto(tx *bbolt.Tx, p *fieldsync.Photo) error {
	if err := attachPhoto(tx, p); err != nil {
		return err
	}
	if !exists(tx.Bucket(indexSealWaiting), []byte(p.ReportID)) {
		return nil
	}
	_, err := s.sealIfReady(tx, p.ReportID, p.CreatedAt)
	return err
}

func attachPhoto(tx *bbolt.Tx, p *fieldsync.Photo) error {
	attachments := tx.Bucket(indexReportPhotos)
	if attachments.Get(key(p.ReportID, p.Slot, p.SHA256)) == nil {
		// A retry of an attachment made is answered as it was, whatever
		// became of the report since.
		if err := attachable(tx, p.ReportID, p.Slot, p.SHA256); err != nil {
			return err
		}
	}
	photos := tx.Bucket(bucketPhotos)
	stored, err := get[fieldsync.Photo](photos, p.SHA256)
	if err != nil {
		return err
	}
	if stored == nil {
		if err := put(photos, p.SHA256, p); err != nil {
			return err
		}
		if !p.Thumbnail {
			if err := tx.Bucket(bucketThumbQueue).Put([]byte(p.SHA256), nil); err != nil {
				return err
			}
		}
		stored = p
	}
	// The photo's metadata is the record's, read in this transaction: a
	// caller's copy may predate its thumbnail.
	att := *stored
	att.ReportID, att.Slot, att.UploadedBy, att.DeviceID, att.CreatedAt, att.Filename = p.ReportID, p.Slot, p.UploadedBy, p.DeviceID, p.CreatedAt, p.Filename
	*p = att
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
	return writeAudit(tx, fieldsync.EntityReport, p.ReportID, nil, map[string]any{"photo": map[string]string{"slot": p.Slot, "sha256": p.SHA256}},
		fieldsync.Actor{UserID: p.UploadedBy, DeviceID: p.DeviceID}, "report.photo", p.CreatedAt)
}

// PendingThumbnails lists up to limit photos awaiting a thumbnail, by
// hash. A queued hash whose record is missing comes with only SHA256 set,
// so that the worker clears it.
func (s *DB) PendingThumbnails(ctx context.Context, limit int) ([]fieldsync.Photo, error) {
	var out []fieldsync.Photo
	err := s.db.View(func(tx *bbolt.Tx) error {
		photos := tx.Bucket(bucketPhotos)
		c := tx.Bucket(bucketThumbQueue).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			p, err := get[fieldsync.Photo](photos, string(k))
			if err != nil {
				return err
			}
			if p == nil {
				p = &fieldsync.Photo{SHA256: string(k)}
			}
			out = append(out, *p)
		}
		return nil
	})
	return out, err
}

// SetThumbnail takes a photo off the thumbnail worker's queue. When made,
// the photo and each of its attachments record that it has a thumbnail,
// and the attachments go to the devices again. Calling it again changes
// nothing; a photo not stored is only taken off the queue.
func (s *DB) SetThumbnail(ctx context.Context, sha string, made bool) error {
	published := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketThumbQueue).Delete([]byte(sha)); err != nil {
			return err
		}
		photos := tx.Bucket(bucketPhotos)
		p, err := get[fieldsync.Photo](photos, sha)
		if err != nil || p == nil || !made {
			return err
		}
		if !p.Thumbnail {
			p.Thumbnail = true
			if err := put(photos, sha, p); err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		var reports []string
		if err := scanPrefix(tx.Bucket(indexPhotoReports), key(sha, ""), "", func(report string) (bool, error) {
			reports = append(reports, report)
			return true, nil
		}); err != nil {
			return err
		}
		for _, report := range reports {
			var ids []string
			if err := scanPrefix(tx.Bucket(indexReportPhotos), key(report, ""), "", func(rest string) (bool, error) {
				if slot, onSlot, _ := strings.Cut(rest, "\x00"); onSlot == sha {
					ids = append(ids, attachmentID(report, slot, sha))
				}
				return true, nil
			}); err != nil {
				return err
			}
			for _, id := range ids {
				a, err := get[fieldsync.Photo](tx.Bucket(bucketAttachments), id)
				if err != nil {
					return err
				}
				if a == nil || a.Thumbnail {
					continue
				}
				a.Thumbnail = true
				if err := putAttachment(tx, a, now); err != nil {
					return err
				}
				published = true
			}
		}
		return nil
	})
	if err == nil && published {
		s.notify()
	}
	return err
}

// Photo returns verified evidence by hash, or ENotFound.
func (s *DB) Photo(ctx context.Context, sha string) (*fieldsync.Photo, error) {
	return view[fieldsync.Photo](s, bucketPhotos, fieldsync.EntityPhoto, sha)
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
	_, err := publish(tx, fieldsync.EntityPhoto, id, syncproto.ChangeUpsert, now)
	return err
}
