package clientsdk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
)

// attachFile writes data to a file of the test and attaches it.
func attachFile(t *testing.T, c *Client, report, slot string, data []byte) (PhotoRef, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), slot+".jpg")
	must(t, os.WriteFile(path, data, 0o600))
	return c.AttachPhoto(report, slot, path)
}

func photoDirNames(t *testing.T, c *Client) []string {
	t.Helper()
	entries, err := os.ReadDir(c.files.dir)
	must(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// draftOnDevice opens a signed-in device with a draft report of a
// scheduled visit.
func draftOnDevice(t *testing.T) (*harness, *Client, string) {
	t.Helper()
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	report, err := c.CreateReport(visit, "tv-v1")
	must(t, err)
	return h, c, report
}

func TestAttachPhoto(t *testing.T) {
	h, c, report := draftOnDevice(t)
	jpg := []byte("\xff\xd8\xff\xe0 not much of a picture, but the device does not judge")

	t.Run("refuses unknown reports and bad slots, copying nothing", func(t *testing.T) {
		_, err := attachFile(t, c, "no-such-report", "serial_plate", jpg)
		wantCode(t, err, fieldsync.ENotFound)
		_, err = attachFile(t, c, report, strings.Repeat("s", maxSlotLen+1), jpg)
		wantCode(t, err, fieldsync.EInvalid)
		_, err = c.AttachPhoto(report, "serial_plate", filepath.Join(t.TempDir(), "missing.jpg"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a missing file: %v", err)
		}
		if names := photoDirNames(t, c); len(names) != 0 {
			t.Fatalf("the photo directory holds %v", names)
		}
	})

	t.Run("the same bytes are stored once, under their hash", func(t *testing.T) {
		a, err := attachFile(t, c, report, "serial_plate", jpg)
		must(t, err)
		b, err := attachFile(t, c, report, "fault", jpg)
		must(t, err)
		if a.SHA256 != b.SHA256 || a.ID == b.ID || a.Size != int64(len(jpg)) {
			t.Fatalf("refs %+v %+v", a, b)
		}
		if names := photoDirNames(t, c); len(names) != 1 || names[0] != a.SHA256 {
			t.Fatalf("the photo directory holds %v", names)
		}
		photos, err := c.ReportPhotos(report)
		must(t, err)
		if len(photos) != 2 || photos[0].Slot != "fault" || photos[1].Slot != "serial_plate" || photos[0].Type != "image/jpeg" {
			t.Fatalf("report photos %+v", photos)
		}
	})

	t.Run("a restart clears what a crash left in the photo directory", func(t *testing.T) {
		known := photoDirNames(t, c)
		orphan := strings.Repeat("ab", 32)
		for _, name := range []string{tmpPhotoPrefix + "123", orphan} {
			must(t, os.WriteFile(filepath.Join(c.files.dir, name), []byte("left over"), 0o600))
		}
		must(t, c.Close())
		c = h.open()
		if names := photoDirNames(t, c); len(names) != len(known) || names[0] != known[0] {
			t.Fatalf("after the restart the photo directory holds %v, want %v", names, known)
		}
	})

	t.Run("another user may not sign in while photos wait", func(t *testing.T) {
		h.sync(c) // the fake server has no photo routes: the photos stay queued
		if s := status(t, c); s.Pending != 0 || s.PhotosQueued != 2 {
			t.Fatalf("status %+v, want an empty outbox and 2 photos queued", s)
		}
		h.fake.addTechnician("wang", "another-long-password")
		wantCode(t, c.Login(context.Background(), "wang", "another-long-password"), fieldsync.EConflict)
	})
}

// A photo of a report whose creation the server refused can never be
// uploaded: it fails with the refusal's code, without asking the server.
func TestPhotoOfARefusedReportFails(t *testing.T) {
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	other := h.fake.addTechnician("wang", "another-long-password")
	c := h.open()
	h.online(c)
	h.net.set(func(n *netSwitch) { n.down = true })
	report, err := c.CreateReport(visit, "tv-v1")
	must(t, err)
	ref, err := attachFile(t, c, report, "serial_plate", []byte("\xff\xd8\xff\xe0 evidence"))
	must(t, err)
	h.fake.reassign(visit, other)
	h.net.set(func(n *netSwitch) { n.down = false })
	if rep := h.sync(c); rep.Refused != 1 {
		t.Fatalf("sync %+v, want the report's creation refused", rep)
	}
	photos, err := c.Photos()
	must(t, err)
	if len(photos) != 1 || photos[0].ID != ref.ID || photos[0].Status != PhotoFailed || photos[0].Error == "" {
		t.Fatalf("photos %+v", photos)
	}
	if s := status(t, c); s.PhotosFailed != 1 || s.PhotoError != "" {
		t.Fatalf("status %+v", s)
	}
}

func TestUploadPath(t *testing.T) {
	for _, tc := range []struct {
		base, loc, want string
	}{
		{"http://fs.example.com", "/v1/media/uploads/abc", "/v1/media/uploads/abc"},
		{"http://fs.example.com", "http://fs.example.com/v1/media/uploads/abc", "/v1/media/uploads/abc"},
		{"https://fs.example.com/fs", "/fs/v1/media/uploads/abc", "/v1/media/uploads/abc"},
		{"http://fs.example.com", "https://evil.example.com/v1/media/uploads/abc", ""},
		{"http://fs.example.com", "/v1/sync/push", ""},
		{"http://fs.example.com", "/v1/media/uploads/", ""},
		{"http://fs.example.com", "", ""},
	} {
		got, err := uploadPath(tc.base, tc.loc)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("uploadPath(%q, %q) = %q, %v; want %q", tc.base, tc.loc, got, err, tc.want)
		}
	}
}

// What the server would refuse for good is refused at attach, offline,
// with the server's codes, and nothing is queued or copied: a file that
// is not a photo by its first bytes, one larger than the server takes,
// and a slot the report's template has no place for.
func TestAttachPhotoRefusesWhatTheServerWould(t *testing.T) {
	_, c, report := draftOnDevice(t)
	_, err := attachFile(t, c, report, "invoice", []byte("root:x:0:0:root:/root:/bin/bash\n"))
	wantCode(t, err, fieldsync.ENotAnImage)
	_, err = attachFile(t, c, report, "no_such_slot", []byte("\xff\xd8\xff\xe0 a picture"))
	wantCode(t, err, fieldsync.EInvalid)
	if err == nil || !strings.Contains(err.Error(), "serial_plate") {
		t.Fatalf("the slot's refusal does not name the template's slots: %v", err)
	}
	huge := filepath.Join(t.TempDir(), "huge.jpg")
	must(t, os.WriteFile(huge, []byte("\xff\xd8\xff\xe0"), 0o600))
	must(t, os.Truncate(huge, photo.MaxBytes+1))
	_, err = c.AttachPhoto(report, "fault", huge)
	wantCode(t, err, fieldsync.ETooLarge)

	if names := photoDirNames(t, c); len(names) != 0 {
		t.Fatalf("the photo directory holds %v", names)
	}
	if photos, err := c.Photos(); err != nil || len(photos) != 0 {
		t.Fatalf("photos queued: %+v, %v", photos, err)
	}
}
