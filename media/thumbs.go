package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
)

// Thumbnails are made off the upload path: decoding a 4 MB JPEG takes
// more CPU than receiving it, so the request that completes an upload
// only queues the photo (in the store, where the queue survives a
// restart) and wakes RunThumbnails. A photo's thumb_url appears once
// its thumbnail exists, and its attachments go to the devices again.

// thumbBatch is how many queued photos MakeThumbnails reads at a time.
const thumbBatch = 32

// yieldToUploads waits, before a thumbnail is made, for ThumbQuiet with
// no upload request in progress, and at most ThumbPatience. Decoding a
// photo takes a core for a quarter of a second, which an upload would
// otherwise wait for: technicians sending evidence from the field come
// before dispatchers looking at it. The patience bounds the wait, so
// thumbnails are still made under a steady stream of uploads.
func (s *Service) yieldToUploads(ctx context.Context) error {
	patience := time.NewTimer(s.ThumbPatience)
	defer patience.Stop()
	for {
		wait := s.ThumbQuiet
		if s.writes.Load() == 0 {
			idle := time.Since(s.started) - time.Duration(s.lastWrite.Load())
			if idle >= s.ThumbQuiet {
				return nil
			}
			wait -= idle
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-patience.C:
			return nil
		case <-time.After(wait):
		}
	}
}

// MakeThumbnails makes the thumbnail of every queued photo, one photo at
// a time, and returns how many photos it gave one (a thumbnail found
// stored already counts). A photo none can be made of (HEIC, bytes that
// do not decode, evidence missing) leaves the queue without one. Any other
// failure (the blob store unreachable) is logged and leaves the photo
// queued for a later call; this call goes on with the others and returns
// the first such error. Calls run one after the other.
func (s *Service) MakeThumbnails(ctx context.Context) (int, error) {
	s.thumbMu.Lock()
	defer s.thumbMu.Unlock()
	made := 0
	var first error
	// Photos that failed stay queued: the next page skips them, so each
	// queued photo is tried at most once per call.
	failed := map[string]bool{}
	for {
		queued, err := s.Store.PendingThumbnails(ctx, len(failed)+thumbBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.Logger.Warn("reading the thumbnail queue failed", "error", err.Error())
			}
			return made, err
		}
		tried := 0
		for i := range queued {
			p := &queued[i]
			if failed[p.SHA256] {
				continue
			}
			if err := s.yieldToUploads(ctx); err != nil {
				return made, errors.Join(first, err)
			}
			tried++
			ok, err := s.thumbnail(ctx, p)
			if err == nil {
				err = s.Store.SetThumbnail(ctx, p.SHA256, ok)
			}
			if err != nil {
				if ctx.Err() != nil {
					return made, errors.Join(first, ctx.Err())
				}
				failed[p.SHA256] = true
				s.Metrics.ThumbsFailed.WithLabelValues("retry").Inc()
				// The hash and the error only: a photo's metadata holds where
				// it was taken.
				s.Logger.Warn("thumbnail failed; the photo stays queued", "sha256", p.SHA256, "error", err.Error())
				if first == nil {
					first = fmt.Errorf("media: thumbnail of %s: %w", p.SHA256, err)
				}
				continue
			}
			if ok {
				s.Metrics.ThumbsMade.Inc()
				made++
			}
		}
		if tried == 0 {
			return made, first
		}
	}
}

// thumbnail makes and stores a photo's thumbnail unless it is stored
// already. It returns false without an error when none can ever be made,
// and an error only for a failure that may pass.
func (s *Service) thumbnail(ctx context.Context, p *fieldsync.Photo) (bool, error) {
	// Checked before anything is read: there is no use fetching a HEIC.
	if !photo.CanThumbnail(photo.Type(p.Type)) {
		s.Metrics.ThumbsFailed.WithLabelValues("no_decoder").Inc()
		return false, nil
	}
	key := ThumbKey(p.SHA256)
	switch _, err := s.Blobs.Stat(ctx, key); {
	case err == nil:
		return true, nil // made by an earlier try, or put there by hand
	case !errors.Is(err, ErrNotFound):
		return false, err
	}
	r, err := s.Blobs.Open(ctx, EvidenceKey(p.SHA256), 0, -1)
	if err != nil {
		return s.noThumbnail(err)
	}
	jpg, err := photo.Thumbnail(r, photo.Type(p.Type), s.ThumbSide)
	_ = r.Close() // only read from, and what was read is decoded or refused
	if err != nil {
		return s.noThumbnail(err)
	}
	if err := s.Blobs.Put(ctx, key, bytes.NewReader(jpg), int64(len(jpg))); err != nil {
		return false, err
	}
	return true, nil
}

// noThumbnail sorts an error of reading or decoding a photo: the photo
// missing or not decoding is for good, anything else may pass.
func (s *Service) noThumbnail(err error) (bool, error) {
	switch {
	case errors.Is(err, ErrNotFound):
		s.Metrics.ThumbsFailed.WithLabelValues("no_evidence").Inc()
	case errors.Is(err, photo.ErrNotImage), errors.Is(err, photo.ErrTooLarge), errors.Is(err, photo.ErrNoDecoder):
		s.Metrics.ThumbsFailed.WithLabelValues("not_image").Inc()
	default:
		return false, err
	}
	return false, nil
}

// RunThumbnails runs MakeThumbnails when an upload completes and every
// interval until ctx ends: the interval takes up photos queued before a
// restart and retries those whose failure may have passed. Failures are
// logged by MakeThumbnails.
func (s *Service) RunThumbnails(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_, _ = s.MakeThumbnails(ctx) // it logs its failures, and failed photos stay queued
		select {
		case <-ctx.Done():
			return
		case <-s.thumbWake:
		case <-t.C:
		}
	}
}
