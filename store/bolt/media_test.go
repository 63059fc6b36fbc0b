package bolt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/tus"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/templates"
)

var (
	shaA = strings.Repeat("a", 64)
	shaB = strings.Repeat("b", 64)
)

// photoWorld is a world with two draft reports on technician A's visit.
func photoWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	must(t, w.db.PublishTemplates(t.Context(), templates.All()))
	for _, id := range []string{"r1", "r2"} {
		must(t, w.db.CreateReport(t.Context(), &fieldsync.Report{ID: id, VisitID: w.visit, TemplateID: "tv-v1", Status: fieldsync.ReportDraft, CreatedAt: w.now},
			fieldsync.Actor{UserID: w.techA}))
	}
	return w
}

// photoOn is a photo as the media service records it on a report's slot.
func (w *world) photoOn(sha, report, slot string, thumb bool) *fieldsync.Photo {
	return &fieldsync.Photo{SHA256: sha, Size: 100, Type: "image/jpeg", Width: 40, Height: 30, Thumbnail: thumb,
		GPS: &fieldsync.GPS{Lat: 31.2, Lng: 121.5}, ReportID: report, Slot: slot, Filename: slot + ".jpg",
		UploadedBy: w.techA, DeviceID: "tab-a", CreatedAt: w.now}
}

func (w *world) addPhoto(t *testing.T, p *fieldsync.Photo) {
	t.Helper()
	must(t, w.db.AddPhoto(t.Context(), p))
}

func pendingSHAs(t *testing.T, db *bolt.DB, limit int) []string {
	t.Helper()
	ps, err := db.PendingThumbnails(t.Context(), limit)
	must(t, err)
	var out []string
	for _, p := range ps {
		out = append(out, p.SHA256)
	}
	return out
}

// pulledPhotos pulls technician A's partition from cursor and returns the
// photo attachments it holds, by id, with the next cursor.
func (w *world) pulledPhotos(t *testing.T, cursor string) (map[string]fieldsync.Photo, string) {
	t.Helper()
	changes, next, _, err := w.db.Pull(t.Context(), syncproto.PartitionsFor(w.techA, fieldsync.RoleTechnician), cursor, 1000)
	must(t, err)
	out := map[string]fieldsync.Photo{}
	for _, c := range changes {
		if c.Entity != "photo" {
			continue
		}
		var p fieldsync.Photo
		must(t, json.Unmarshal(c.Data, &p))
		out[c.ID] = p
	}
	return out, next
}

func TestAddPhotoQueuesThumbnail(t *testing.T) {
	tests := []struct {
		name string
		add  func(t *testing.T, w *world)
		want []string
	}{
		{"a new photo without a thumbnail is queued", func(t *testing.T, w *world) {
			w.addPhoto(t, w.photoOn(shaA, "r1", "serial_plate", false))
		}, []string{shaA}},
		{"a new photo with a thumbnail is not queued", func(t *testing.T, w *world) {
			w.addPhoto(t, w.photoOn(shaA, "r1", "serial_plate", true))
		}, nil},
		{"a photo attached to several slots is queued once", func(t *testing.T, w *world) {
			w.addPhoto(t, w.photoOn(shaA, "r1", "serial_plate", false))
			w.addPhoto(t, w.photoOn(shaA, "r1", "fault", false))
			w.addPhoto(t, w.photoOn(shaA, "r2", "serial_plate", false))
		}, []string{shaA}},
		{"a photo attached again after the worker gave up is not queued again", func(t *testing.T, w *world) {
			w.addPhoto(t, w.photoOn(shaA, "r1", "serial_plate", false))
			must(t, w.db.SetThumbnail(t.Context(), shaA, false))
			w.addPhoto(t, w.photoOn(shaA, "r2", "serial_plate", false))
		}, nil},
		{"photos are listed by hash, whatever the order they came in", func(t *testing.T, w *world) {
			w.addPhoto(t, w.photoOn(shaB, "r1", "serial_plate", false))
			w.addPhoto(t, w.photoOn(shaA, "r1", "fault", false))
		}, []string{shaA, shaB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := photoWorld(t)
			tt.add(t, w)
			if got := pendingSHAs(t, w.db, 10); !slices.Equal(got, tt.want) {
				t.Fatalf("pending %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("the limit keeps the first by hash", func(t *testing.T) {
		w := photoWorld(t)
		w.addPhoto(t, w.photoOn(shaB, "r1", "serial_plate", false))
		w.addPhoto(t, w.photoOn(shaA, "r1", "fault", false))
		ps, err := w.db.PendingThumbnails(t.Context(), 1)
		must(t, err)
		if len(ps) != 1 || ps[0].SHA256 != shaA || ps[0].Type != "image/jpeg" || ps[0].Size != 100 {
			t.Fatalf("PendingThumbnails(1) = %+v, want the record of %s", ps, shaA)
		}
	})
}

func TestSetThumbnailReachesEveryAttachment(t *testing.T) {
	ctx := t.Context()
	w := photoWorld(t)
	slots := [][2]string{{"r1", "serial_plate"}, {"r1", "fault"}, {"r2", "serial_plate"}}
	for _, s := range slots {
		w.addPhoto(t, w.photoOn(shaA, s[0], s[1], false))
	}
	w.addPhoto(t, w.photoOn(shaB, "r1", "fault", false)) // another photo, untouched
	_, cursor := w.pulledPhotos(t, "")

	must(t, w.db.SetThumbnail(ctx, shaA, true))
	if p, err := w.db.Photo(ctx, shaA); err != nil || !p.Thumbnail {
		t.Fatalf("the photo after SetThumbnail: %+v, %v", p, err)
	}
	for _, r := range []string{"r1", "r2"} {
		ps, err := w.db.ReportPhotos(ctx, r)
		must(t, err)
		for _, p := range ps {
			if p.Thumbnail != (p.SHA256 == shaA) {
				t.Errorf("report %s slot %s: thumbnail %v", r, p.Slot, p.Thumbnail)
			}
		}
	}
	got, next := w.pulledPhotos(t, cursor)
	if len(got) != len(slots) {
		t.Fatalf("the feed sent %d attachments again, want the %d of the photo: %v", len(got), len(slots), got)
	}
	for _, s := range slots {
		id := s[0] + ":" + s[1] + ":" + shaA
		p, ok := got[id]
		if !ok || !p.Thumbnail || p.ReportID != s[0] || p.Slot != s[1] || p.GPS == nil {
			t.Errorf("attachment %s in the feed: %+v (sent %v)", id, p, ok)
		}
	}
	if pending := pendingSHAs(t, w.db, 10); !slices.Equal(pending, []string{shaB}) {
		t.Errorf("pending after SetThumbnail: %q, want only the other photo", pending)
	}

	// Again: nothing changes and nothing reaches the devices.
	must(t, w.db.SetThumbnail(ctx, shaA, true))
	if again, _ := w.pulledPhotos(t, next); len(again) != 0 {
		t.Errorf("a second SetThumbnail sent %v", again)
	}

	// An attach that read the photo before its thumbnail was made records
	// the thumbnail all the same.
	stale := w.photoOn(shaA, "r2", "fault", false)
	w.addPhoto(t, stale)
	got, _ = w.pulledPhotos(t, next)
	if p := got["r2:fault:"+shaA]; !p.Thumbnail || p.Slot != "fault" || p.UploadedBy != w.techA {
		t.Errorf("a stale attach stored %+v", p)
	}
	if !stale.Thumbnail {
		t.Error("AddPhoto did not give back the stored photo")
	}
}

func TestSetThumbnailWithoutOne(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name string
		sha  string
		made bool
	}{
		{"a photo none could be made of leaves the queue and keeps no thumbnail", shaA, false},
		{"a photo not stored is only taken off the queue", shaB, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := photoWorld(t)
			w.addPhoto(t, w.photoOn(shaA, "r1", "serial_plate", false))
			_, cursor := w.pulledPhotos(t, "")
			must(t, w.db.SetThumbnail(ctx, tt.sha, tt.made))
			want := []string{shaA}
			if tt.sha == shaA {
				want = nil
			}
			if got := pendingSHAs(t, w.db, 10); !slices.Equal(got, want) {
				t.Errorf("pending %q, want %q", got, want)
			}
			if p, err := w.db.Photo(ctx, shaA); err != nil || p.Thumbnail {
				t.Errorf("the photo: %+v, %v", p, err)
			}
			if sent, _ := w.pulledPhotos(t, cursor); len(sent) != 0 {
				t.Errorf("the feed sent %v", sent)
			}
		})
	}
}

func TestFinishUploadRecordsThePhotoAndForgetsTheUpload(t *testing.T) {
	ctx := t.Context()
	w := photoWorld(t)
	u := &tus.Upload{ID: "up-1", UserID: w.techA, Length: 100, SHA256: shaA, ReportID: "r1", Slot: "serial_plate",
		Head: []byte{0xff, 0xd8}, CreatedAt: w.now, ExpiresAt: w.now.Add(time.Hour)}
	must(t, w.db.CreateUpload(ctx, u, 10))
	must(t, w.db.FinishUpload(ctx, u.ID, w.photoOn(shaA, "r1", "serial_plate", false)))

	if _, err := w.db.Upload(ctx, u.ID); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Errorf("the upload after FinishUpload: %v", err)
	}
	if n, err := w.db.CountUploads(ctx, w.techA); err != nil || n != 0 {
		t.Errorf("CountUploads = %d, %v", n, err)
	}
	if old, err := w.db.ExpiredUploads(ctx, w.now.Add(2*time.Hour), 10); err != nil || len(old) != 0 {
		t.Errorf("ExpiredUploads = %v, %v", old, err)
	}
	if ps, err := w.db.ReportPhotos(ctx, "r1"); err != nil || len(ps) != 1 || ps[0].SHA256 != shaA {
		t.Errorf("the report's photos: %+v, %v", ps, err)
	}
	if got := pendingSHAs(t, w.db, 10); !slices.Equal(got, []string{shaA}) {
		t.Errorf("pending %q", got)
	}
}

func TestOpenMigratesVersion8QueuesThumbnails(t *testing.T) {
	path := dbPath(t)
	db, err := bolt.Open(path)
	must(t, err)
	db.Close()
	// The file as version 8 left it: no queue; a draft to put a photo on.
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket([]byte("thumbs_pending")); err != nil {
			return err
		}
		tpl, err := json.Marshal(templates.All()[0])
		if err != nil {
			return err
		}
		r := fmt.Sprintf(`{"id":"r1","visit_id":"v1","template_id":%q,"status":"draft"}`, templates.All()[0].ID)
		if err := tx.Bucket([]byte("templates")).Put([]byte(templates.All()[0].ID), tpl); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("reports")).Put([]byte("r1"), []byte(r)); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(8))
	})

	db = dbOpen(t, path)
	w := &world{db: db, techA: "tech-a", now: dbEpoch}
	if err := db.AddPhoto(context.Background(), w.photoOn(shaA, "r1", "serial_plate", false)); err != nil {
		t.Fatalf("AddPhoto after the migration: %v", err)
	}
	if got := pendingSHAs(t, db, 10); !slices.Equal(got, []string{shaA}) {
		t.Errorf("pending %q", got)
	}
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) || bolt.SchemaVersion() < 9 {
		t.Errorf("schema_version = %d, SchemaVersion() = %d; want the current one, at least 9", v, bolt.SchemaVersion())
	}
}

func TestAddPhotoOnlyOnADraftsOwnSlots(t *testing.T) {
	w := photoWorld(t)
	ctx := t.Context()
	must(t, w.db.CreateReport(ctx, &fieldsync.Report{ID: "signed", VisitID: w.visit, TemplateID: "tv-v1", Status: fieldsync.ReportSigned, CreatedAt: w.now},
		fieldsync.Actor{UserID: w.techA}))
	tests := []struct {
		name, report, slot, code, detail string
	}{
		{"a draft's template slot takes a photo", "r1", "serial_plate", "", ""},
		{"a signed report takes none", "signed", "serial_plate", fieldsync.EReportSealed, "signed"},
		{"a slot the template lacks is refused, naming the allowed ones", "r1", "overview", fieldsync.EInvalid, `"overview" is not a photo slot of template tv-v1; use one of serial_plate, fault,`},
		{"a slot of control characters is refused, quoted", "r1", "\x00\r\n", fieldsync.EInvalid, `"\x00\r\n"`},
		{"a report not stored takes none", "nope", "serial_plate", fieldsync.ENotFound, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, call := range map[string]func() error{
				"AddPhoto":     func() error { return w.db.AddPhoto(ctx, w.photoOn(shaA, tt.report, tt.slot, false)) },
				"FinishUpload": func() error { return w.db.FinishUpload(ctx, "up-x", w.photoOn(shaB, tt.report, tt.slot, false)) },
				"Attachable":   func() error { return w.db.Attachable(ctx, tt.report, tt.slot, shaA) },
			} {
				err := call()
				if got := fieldsync.ErrorCode(err); got != tt.code || err != nil && !strings.Contains(err.Error(), tt.detail) {
					t.Errorf("%s: %v; want code %q naming %q", name, err, tt.code, tt.detail)
				}
			}
		})
	}
	photos, err := w.db.ReportPhotos(ctx, "signed")
	must(t, err)
	if len(photos) != 0 {
		t.Fatalf("the signed report shows %d photos", len(photos))
	}
}
