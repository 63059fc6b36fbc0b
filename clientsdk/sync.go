package clientsdk

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// SyncReport says what one sync round did. (Not "Report": in this package
// a report is the inspection report.)
type SyncReport struct {
	Pushed     int  // mutations the server answered
	Applied    int  // of which applied
	Duplicates int  // of which seen before (applied by an earlier, unanswered push)
	Refused    int  // of which refused: conflicts and rejections, now in Conflicts
	Pulled     int  // changes applied from the server
	Reset      bool // the server asked the device to drop its copy and pull from the start
	// PhotosRefused is how many photos the server refused for good in
	// the round's upload, now in RefusedPhotos.
	PhotosRefused int
}

// Sync runs one round: push the outbox, oldest first, in batches of
// syncproto.MaxBatch, then pull until the server has nothing more, then
// upload the photo queue (upload.go). A failed push leaves the outbox as
// it was; pushing again is safe, the server dedupes by seq. Errors:
// ErrDeviceRevoked and ErrSignedOut stop syncing until the next Login;
// anything else is worth retrying later.
//
// The error is the text records' alone: photos never fail a round. The
// result counts the photos the server refused for good (PhotosRefused);
// how the others went is told by Photos, Status (PhotoError) and the
// photo events; those not sent wait for the next round.
func (c *Client) Sync(ctx context.Context) (SyncReport, error) {
	if c.isClosed() {
		return SyncReport{}, ErrClosed
	}
	rep, err := c.records.round(ctx)
	if classify(err) != sessionEnded && ctx.Err() == nil {
		// Even after a failed text round: photos of reports the server has
		// need nothing else, and a dead network costs one request. Their
		// failure is told by Status and Events, not by Sync.
		rep.PhotosRefused, _ = c.uploads.counted(ctx)
	}
	return rep, err
}

// recordSync runs the text part of a round, one at a time: push the
// outbox, then pull.
type recordSync struct {
	db      *bbolt.DB
	out     *outbox
	in      *puller
	notices *notices
	log     *slog.Logger
	now     func() time.Time

	mu sync.Mutex // one round at a time
}

func (r *recordSync) round(ctx context.Context) (SyncReport, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var rep SyncReport
	err := r.out.push(ctx, &rep)
	if err == nil {
		err = r.in.pull(ctx, &rep)
	}
	if err != nil {
		r.notices.setLastErr(err)
		r.log.Warn("sync failed", "err", err, "pushed", rep.Pushed, "pulled", rep.Pulled)
		r.notices.emit(Event{Kind: EventError, Err: err, Report: rep})
		return rep, fmt.Errorf("clientsdk: sync: %w", err)
	}
	if err := r.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyLastSync, u64(uint64(r.now().UnixMilli())))
	}); err != nil {
		return rep, err
	}
	r.notices.setLastErr(nil)
	r.log.Debug("synced", "pushed", rep.Pushed, "refused", rep.Refused, "pulled", rep.Pulled, "reset", rep.Reset)
	r.notices.emit(Event{Kind: EventSynced, Report: rep})
	return rep, nil
}
