package clientsdk

import (
	"encoding/json"
	"io"
	"os"
	"time"

	bbolt "go.etcd.io/bbolt"

	syncproto "github.com/fieldsync/fieldsync/sync"
)

// A revoked tablet may be in the wrong hands. On the server's first
// device_revoked answer the device forgets what the server holds anyway —
// every record (visits, customers, sites, templates…), the pull cursor,
// the photos the server has verified (queue entries and files), the
// tokens and the device's signing keys — in the transaction that stops syncing. What the server has not
// got stays, sealed: the outbox, refused work and photos not uploaded.
// ExportPending writes them out for a dispatcher to enter by hand.

// forget drops what a revoked device no longer needs (see above); it runs
// inside the transaction that records the revocation and returns the
// removal of the photo files no entry names any more, to run once that
// transaction has committed.
func (c *Client) forget(tx *bbolt.Tx) (func(), error) {
	if err := recreate(tx, bucketRecords); err != nil {
		return nil, err
	}
	meta := tx.Bucket(bucketMeta)
	// The device's keys sign nothing new once it is revoked.
	for _, k := range [][]byte{keyCursor, keyDeviceKey, keyDeviceKeyNext} {
		if err := meta.Delete(k); err != nil {
			return nil, err
		}
	}
	var dropped []int64
	var shas []string
	if err := eachPhoto(tx, func(id int64, e *photoEntry) error {
		if e.State == PhotoVerified {
			dropped, shas = append(dropped, id), append(shas, e.SHA256)
			return tx.Bucket(bucketPhotosByReport).Delete(photoIndexKey(e.ReportID, e.Slot, e.SHA256))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, id := range dropped {
		if err := tx.Bucket(bucketPhotos).Delete(photoKey(id)); err != nil {
			return nil, err
		}
	}
	// Freed pages keep what they held until the file is rewritten.
	if err := meta.Put(keyCompact, []byte{1}); err != nil {
		return nil, err
	}
	c.log.Warn("device revoked: synced records, verified photos and tokens deleted; unsynced work kept")
	return func() { c.files.removeUnused(shas) }, nil
}

// removeUnused removes the files of the hashes that no queue entry names;
// what it cannot remove now, the next Open sweeps.
func (p *photoFiles) removeUnused(shas []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, sha := range shas {
		if used, err := p.referenced(sha); err == nil && !used {
			os.Remove(p.path(sha))
		}
	}
}

// PendingWork is the document ExportPending writes: the work this device
// did that the server has not applied, readable without the SDK.
type PendingWork struct {
	Format     string    `json:"format"` // PendingWorkFormat
	DeviceID   string    `json:"device_id"`
	UserID     string    `json:"user_id,omitempty"` // who signed in last on the device
	ExportedAt time.Time `json:"exported_at"`
	// Mutations are the outbox, in the order made: each names its record
	// (entity and id), what was done (op, action, fields) and when (hlc).
	Mutations []syncproto.Mutation `json:"mutations"`
	// Refused is the work the server answered with a conflict or a
	// rejection, with its code.
	Refused []Refusal `json:"refused"`
	// Photos are the photos not verified by the server: queued, half
	// uploaded or failed. File is the device's copy.
	Photos []PendingPhoto `json:"photos"`
}

// PendingWorkFormat names the layout of PendingWork.
const PendingWorkFormat = "fieldsync-pending-work/1"

// PendingPhoto is a photo in PendingWork: its report's listing of it
// (LocalPhoto), and where it stands.
type PendingPhoto struct {
	ID       int64  `json:"id"`
	ReportID string `json:"report_id"`
	LocalPhoto
	Type       string    `json:"type,omitempty"`
	CapturedAt time.Time `json:"captured_at"`
	Error      string    `json:"error,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	File       string    `json:"file"` // the device's copy
}

// ExportPending writes the device's unsynced work as one JSON document
// (PendingWork), in clear: for a dispatcher when the device cannot sync
// it any more (revoked, or its user gone). It works offline and changes
// nothing; the app should hand the document on, not keep it.
func (c *Client) ExportPending(w io.Writer) error {
	if c.isClosed() {
		return ErrClosed
	}
	doc := PendingWork{
		Format: PendingWorkFormat, DeviceID: c.opts.DeviceID, ExportedAt: c.opts.Now().UTC(),
		Mutations: []syncproto.Mutation{}, Refused: []Refusal{}, Photos: []PendingPhoto{},
	}
	err := c.db.View(func(tx *bbolt.Tx) (err error) {
		if doc.UserID, err = getSecret(tx, keyUserID); err != nil {
			return err
		}
		if doc.Mutations, err = queued(tx, 0, 0); err != nil {
			return err
		}
		if err := eachJSON(tx, bucketRefused, nil, func(_ []byte, r *Refusal) error {
			doc.Refused = append(doc.Refused, *r)
			return nil
		}); err != nil {
			return err
		}
		return eachPhoto(tx, func(id int64, e *photoEntry) error {
			if e.State != PhotoVerified {
				doc.Photos = append(doc.Photos, PendingPhoto{
					ID: id, ReportID: e.ReportID, LocalPhoto: e.listing(),
					Type: e.Type, CapturedAt: e.CapturedAt, Error: e.Code, Detail: e.Detail, File: c.files.path(e.SHA256),
				})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if doc.Mutations == nil {
		doc.Mutations = []syncproto.Mutation{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
