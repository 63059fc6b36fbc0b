package clientsdk

import (
	"errors"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

func TestOpen(t *testing.T) {
	t.Run("the device id is required", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{})
		wantCode(t, err, fieldsync.EInvalid)
	})
	t.Run("a file stays with the device that created it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.db")
		c, err := Open(path, Options{Key: testKey, DeviceID: "tab-1"})
		must(t, err)
		must(t, c.Close())
		if _, err := Open(path, Options{Key: testKey, DeviceID: "tab-2"}); err == nil {
			t.Fatal("opened tab-1's file as tab-2")
		}
		c, err = Open(path, Options{Key: testKey, DeviceID: "tab-1"})
		must(t, err)
		must(t, c.Close())
	})
	t.Run("the schema version is recorded and a newer file refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.db")
		c, err := Open(path, Options{Key: testKey, DeviceID: "tab-1"})
		must(t, err)
		must(t, c.db.View(func(tx *bbolt.Tx) error {
			if v := getU64(tx.Bucket(bucketMeta), keySchema); v != uint64(SchemaVersion()) {
				t.Errorf("schema version %d, want %d", v, SchemaVersion())
			}
			return nil
		}))
		must(t, c.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, u64(99)) }))
		must(t, c.Close())
		if _, err := Open(path, Options{Key: testKey, DeviceID: "tab-1"}); err == nil {
			t.Fatal("opened a file of schema 99")
		}
	})
	t.Run("a closed client says so", func(t *testing.T) {
		c, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{Key: testKey, DeviceID: "tab-1"})
		must(t, err)
		must(t, c.Close())
		if _, err := c.Visits(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Visits after Close: %v", err)
		}
	})
}

// A local write and its outbox entry commit together: after a restart the
// outbox and what the app reads agree.
func TestLocalWritesSurviveRestart(t *testing.T) {
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	h.net.set(func(n *netSwitch) { n.down = true })

	must(t, c.Depart(visit))
	must(t, c.Arrive(visit))
	report, err := c.CreateReport(visit, "tv-v1")
	must(t, err)
	must(t, c.SetAnswer(report, "power_on", true))
	must(t, c.Close())

	c = h.open()
	out := outboxOf(t, c)
	want := []struct {
		entity     fieldsync.Entity
		op, action string
	}{{"visit", "action", "depart"}, {"visit", "action", "arrive"}, {"report", "upsert", ""}, {"report", "upsert", ""}}
	if len(out) != len(want) {
		t.Fatalf("outbox has %d entries, want %d", len(out), len(want))
	}
	for i, m := range out {
		if m.Seq != int64(i+1) || m.Entity != want[i].entity || m.Op != want[i].op || m.Action != want[i].action {
			t.Errorf("outbox[%d] = %+v, want seq %d %+v", i, m, i+1, want[i])
		}
	}
	if s := status(t, c); s.Pending != 4 {
		t.Errorf("Status.Pending = %d, want 4", s.Pending)
	}
	b, err := c.Bundle(visit)
	must(t, err)
	if b.Visit.Status != fieldsync.VisitOnSite || b.Visit.ArrivedAt == nil || b.Visit.DepartedAt == nil {
		t.Errorf("visit after restart: %s departed %v arrived %v", b.Visit.Status, b.Visit.DepartedAt, b.Visit.ArrivedAt)
	}
	if len(b.Reports) != 1 || b.Reports[0].ID != report || string(b.Reports[0].Answers["power_on"]) != "true" {
		t.Errorf("reports after restart: %+v", b.Reports)
	}

	// The seq counter and the clock go on where they stopped.
	must(t, c.SetAnswer(report, "packaging_intact", false))
	out = outboxOf(t, c)
	last, prev := out[len(out)-1], out[len(out)-2]
	if last.Seq != 5 {
		t.Errorf("next seq after restart = %d, want 5", last.Seq)
	}
	if mustHLC(t, last.HLC).Compare(mustHLC(t, prev.HLC)) <= 0 {
		t.Errorf("stamp %s is not after %s", last.HLC, prev.HLC)
	}
}

func TestOverlay(t *testing.T) {
	tests := []struct {
		name string
		do   func(t *testing.T, c *Client, visit string)
	}{
		{"arriving offline puts the visit on site at the time of the arrival", func(t *testing.T, c *Client, visit string) {
			must(t, c.Depart(visit))
			must(t, c.Arrive(visit))
			v := visitOf(t, c, visit)
			if v.Status != fieldsync.VisitOnSite || v.ArrivedAt == nil {
				t.Fatalf("visit is %s, arrived %v", v.Status, v.ArrivedAt)
			}
			vs, err := c.Visits()
			must(t, err)
			if len(vs) != 1 || vs[0].Status != fieldsync.VisitOnSite {
				t.Fatalf("Visits() = %+v", vs)
			}
		}},
		{"a step the state machine forbids is refused and queues nothing", func(t *testing.T, c *Client, visit string) {
			wantCode(t, c.Complete(visit), fieldsync.EInvalidTransition)
			must(t, c.Depart(visit))
			wantCode(t, c.Depart(visit), fieldsync.EInvalidTransition)
			if n := len(outboxOf(t, c)); n != 1 {
				t.Fatalf("outbox has %d entries, want 1", n)
			}
		}},
		{"a visit the device does not have is not found", func(t *testing.T, c *Client, _ string) {
			wantCode(t, c.Arrive("visit-nowhere"), fieldsync.ENotFound)
			_, err := c.CreateReport("visit-nowhere", "tv-v1")
			wantCode(t, err, fieldsync.ENotFound)
		}},
		{"answers merge item by item and the last one wins", func(t *testing.T, c *Client, visit string) {
			r, err := c.CreateReport(visit, "tv-v1")
			must(t, err)
			must(t, c.SetAnswer(r, "power_on", true))
			must(t, c.SetAnswer(r, "packaging_intact", true))
			must(t, c.SetAnswer(r, "power_on", false))
			got, err := c.Report(r)
			must(t, err)
			if string(got.Answers["power_on"]) != "false" || string(got.Answers["packaging_intact"]) != "true" {
				t.Fatalf("answers = %s", got.Answers)
			}
			if got.Status != fieldsync.ReportDraft || got.VisitID != visit || got.TemplateID != "tv-v1" {
				t.Fatalf("report = %+v", got)
			}
		}},
		{"an answer the template refuses is not queued", func(t *testing.T, c *Client, visit string) {
			r, err := c.CreateReport(visit, "tv-v1")
			must(t, err)
			wantCode(t, c.SetAnswer(r, "power_on", "yes"), fieldsync.EInvalid)
			wantCode(t, c.SetAnswer(r, "no_such_item", true), fieldsync.EInvalid)
			if n := len(outboxOf(t, c)); n != 1 {
				t.Fatalf("outbox has %d entries, want 1 (the creation)", n)
			}
		}},
		{"a template the device does not have is not found", func(t *testing.T, c *Client, visit string) {
			_, err := c.CreateReport(visit, "tv-v9")
			wantCode(t, err, fieldsync.ENotFound)
		}},
		{"SetReport sends only what changed", func(t *testing.T, c *Client, visit string) {
			r, err := c.CreateReport(visit, "tv-v1")
			must(t, err)
			findings, cause := "panel cracked at the corner", "impact"
			must(t, c.SetReport(r, ReportFields{Findings: &findings}))
			must(t, c.SetReport(r, ReportFields{Cause: &cause}))
			must(t, c.SetReport(r, ReportFields{})) // nothing: no entry
			out := outboxOf(t, c)
			if len(out) != 3 || len(out[1].Fields) != 1 || out[1].Fields["findings"] == nil || len(out[2].Fields) != 1 || out[2].Fields["cause"] == nil {
				t.Fatalf("outbox = %+v", out)
			}
			got, err := c.Report(r)
			must(t, err)
			if got.Findings != findings || got.Cause != cause {
				t.Fatalf("report = %+v", got)
			}
			bad := fieldsync.Responsibility("the weather")
			wantCode(t, c.SetReport(r, ReportFields{Responsibility: &bad}), fieldsync.EInvalid)
		}},
		{"signing with required items unanswered is refused on the device", func(t *testing.T, c *Client, visit string) {
			r, err := c.CreateReport(visit, "tv-v1")
			must(t, err)
			must(t, c.SetAnswer(r, "power_on", true))
			wantCode(t, c.SignReport(r, noPhotos("tv-v1")), fieldsync.EReportIncomplete)
		}},
		{"a signed report refuses edits", func(t *testing.T, c *Client, visit string) {
			r, err := c.CreateReport(visit, "tv-v1")
			must(t, err)
			answerRequired(t, c, r, "tv-v1")
			must(t, c.SignReport(r, noPhotos("tv-v1")))
			got, err := c.Report(r)
			must(t, err)
			if got.Status != fieldsync.ReportSigned || got.SignedAt == nil {
				t.Fatalf("report after signing: %s", got.Status)
			}
			wantCode(t, c.SetAnswer(r, "power_on", false), fieldsync.EReportSealed)
			wantCode(t, c.SignReport(r, noPhotos("tv-v1")), fieldsync.EReportSealed)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
			c := h.open()
			h.online(c)
			h.net.set(func(n *netSwitch) { n.down = true })
			tt.do(t, c, visit)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustHLC(t *testing.T, s string) syncproto.HLC {
	t.Helper()
	h, err := syncproto.ParseHLC(s)
	must(t, err)
	return h
}
