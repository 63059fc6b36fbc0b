package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/clientsdk"
)

// checker compares, from the outside, what the devices were told with
// what the server holds. Every problem it finds is a violation.
type checker struct {
	f          *fleet
	admin      *apiClient
	blob       func(ctx context.Context, sha string) ([]byte, error)
	violations []string
	applied    int // acknowledged and applied mutations
	refused    int // refused by the server (moved to the devices' Conflicts)
	photos     int // verified photos
}

func (c *checker) fail(format string, args ...any) {
	c.violations = append(c.violations, fmt.Sprintf(format, args...))
}

func (c *checker) run(ctx context.Context) error {
	details, err := c.visitDetails(ctx)
	if err != nil {
		return err
	}
	audit, err := c.audit(ctx)
	if err != nil {
		return err
	}
	if err := c.exactlyOnce(audit); err != nil {
		return err
	}
	c.lastWriteWins(details)
	if err := c.devicesMatch(details); err != nil {
		return err
	}
	return c.photosStored(ctx, details, audit)
}

// serverVisit is the part of GET /v1/visits/{id} the checks read.
type serverVisit struct {
	fieldsync.Visit
	Reports []serverReport `json:"reports"`
}

type serverReport struct {
	fieldsync.Report
	Photos []struct {
		SHA256 string `json:"sha256"`
		Slot   string `json:"slot"`
	} `json:"photos"`
}

func (c *checker) visitDetails(ctx context.Context) (map[string]*serverVisit, error) {
	out := map[string]*serverVisit{}
	for _, t := range c.f.techsOf() {
		for _, id := range t.visits {
			var v serverVisit
			if err := c.admin.get(ctx, "/v1/visits/"+id, nil, &v); err != nil {
				return nil, err
			}
			out[id] = &v
		}
	}
	return out, nil
}

func (c *checker) audit(ctx context.Context) ([]fieldsync.AuditEntry, error) {
	var all []fieldsync.AuditEntry
	for _, entity := range []fieldsync.Entity{fieldsync.EntityVisit, fieldsync.EntityReport} {
		cursor := ""
		for {
			var page struct {
				Items      []fieldsync.AuditEntry `json:"items"`
				NextCursor string                 `json:"next_cursor"`
			}
			q := url.Values{"entity": {string(entity)}, "limit": {"200"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			if err := c.admin.get(ctx, "/v1/audit", q, &page); err != nil {
				return nil, err
			}
			all = append(all, page.Items...)
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	return all, nil
}

// exactlyOnce: every mutation a device made is either refused (in its
// Conflicts) or applied, and each applied one has exactly one audit entry
// from that device on that record.
func (c *checker) exactlyOnce(audit []fieldsync.AuditEntry) error {
	got := map[writeKey]int{}
	for _, e := range audit {
		kind := e.Action
		switch kind {
		case "report.create", "report.update":
			kind = "report.upsert"
		case "report.photo":
			continue // photos are checked by photosStored
		}
		got[writeKey{e.DeviceID, e.Entity, e.EntityID, kind}]++
	}
	want := map[writeKey]int{}
	for _, d := range c.f.devices {
		for k, n := range d.writes {
			want[k] += n
		}
		refusals, err := d.c.Conflicts()
		if err != nil {
			return err
		}
		for _, r := range refusals {
			k := writeKey{d.id, r.Mutation.Entity, r.Mutation.ID, mutationKind(r.Mutation)}
			want[k]--
			c.refused++
			if r.Mutation.Entity == fieldsync.EntityReport {
				c.fail("device %s: report edit %d on %s refused: %s %s", d.id, r.Mutation.Seq, r.Mutation.ID, r.Code, r.Detail)
			}
		}
	}
	for k, n := range want {
		if n < 0 {
			c.fail("device %s: more refusals than mutations of %s on %s %s", k.device, k.kind, k.entity, k.id)
		}
		if got[k] != n {
			c.fail("device %s: %d %s on %s %s acknowledged as applied, %d in the audit trail", k.device, n, k.kind, k.entity, k.id, got[k])
		}
		c.applied += max(n, 0)
	}
	devices := map[string]bool{}
	for _, d := range c.f.devices {
		devices[d.id] = true
	}
	for k, n := range got {
		if _, ok := want[k]; !ok && devices[k.device] {
			c.fail("device %s: %d audit entries %s on %s %s that no device made", k.device, n, k.kind, k.entity, k.id)
		}
	}
	return nil
}

// lastWriteWins: each draft field on the server is the last write to it.
func (c *checker) lastWriteWins(details map[string]*serverVisit) {
	reports := map[string]*serverReport{}
	for _, v := range details {
		for i := range v.Reports {
			reports[v.Reports[i].ID] = &v.Reports[i]
		}
	}
	for id, l := range c.f.ledger.reports {
		r := reports[id]
		if r == nil {
			c.fail("report %s: not on the server", id)
			continue
		}
		for field, want := range l.fields {
			var got any
			switch {
			case field == "findings":
				got = r.Findings
			case field == "cause":
				got = r.Cause
			case strings.HasPrefix(field, "answers."):
				got = r.Answers[strings.TrimPrefix(field, "answers.")]
			}
			if !sameJSON(mustJSON(got), want) {
				c.fail("report %s: %s is %s on the server, the last write was %s", id, field, mustJSON(got), want)
			}
		}
	}
}

// devicesMatch: after the final sync, every device holds its technician's
// visits and reports exactly as the server does.
func (c *checker) devicesMatch(details map[string]*serverVisit) error {
	for _, d := range c.f.devices {
		visits, err := d.c.Visits()
		if err != nil {
			return err
		}
		var ids []string
		for _, v := range visits {
			ids = append(ids, v.ID)
		}
		slices.Sort(ids)
		want := slices.Sorted(slices.Values(d.tech.visits))
		if !slices.Equal(ids, want) {
			c.fail("device %s: holds visits %v, the server assigns %v", d.id, ids, want)
			continue
		}
		for _, id := range want {
			b, err := d.c.Bundle(id)
			if err != nil {
				return err
			}
			s := details[id]
			if !sameJSON(mustJSON(visitState(b.Visit)), mustJSON(visitState(s.Visit))) {
				c.fail("device %s: visit %s is %s on the device, %s on the server", d.id, id, mustJSON(visitState(b.Visit)), mustJSON(visitState(s.Visit)))
			}
			if len(b.Reports) != len(s.Reports) {
				c.fail("device %s: visit %s has %d reports on the device, %d on the server", d.id, id, len(b.Reports), len(s.Reports))
				continue
			}
			for i := range b.Reports {
				local, server := reportState(b.Reports[i]), reportState(s.Reports[i].Report)
				if !sameJSON(mustJSON(local), mustJSON(server)) {
					c.fail("device %s: report %s differs:\n  device %s\n  server %s", d.id, b.Reports[i].ID, mustJSON(local), mustJSON(server))
				}
			}
		}
	}
	return nil
}

func visitState(v fieldsync.Visit) any {
	return map[string]any{"status": v.Status, "technician_id": v.TechnicianID,
		"departed_at": v.DepartedAt, "arrived_at": v.ArrivedAt, "finished_at": v.FinishedAt}
}

// reportState is what a device and the server must agree on. Field
// clocks are sync internals the API does not show; the values they
// decided are compared.
func reportState(r fieldsync.Report) any {
	return map[string]any{"id": r.ID, "status": r.Status, "answers": r.Answers, "findings": r.Findings,
		"cause": r.Cause}
}

// photosStored: every photo a device had verified is on its report on
// the server, attached once (one audit entry), and in the blob store
// under its hash, with bytes that hash to it.
func (c *checker) photosStored(ctx context.Context, details map[string]*serverVisit, audit []fieldsync.AuditEntry) error {
	onReport := map[string]bool{}
	for _, v := range details {
		for _, r := range v.Reports {
			for _, p := range r.Photos {
				onReport[r.ID+"/"+p.Slot+"/"+p.SHA256] = true
			}
		}
	}
	attached := map[string]int{}
	for _, e := range audit {
		if e.Action != "report.photo" {
			continue
		}
		var p struct{ Slot, SHA256 string }
		json.Unmarshal(e.Changes["photo"].To, &p)
		attached[e.EntityID+"/"+p.Slot+"/"+p.SHA256]++
	}
	for _, d := range c.f.devices {
		photos, err := d.c.Photos()
		if err != nil {
			return err
		}
		for _, p := range photos {
			if p.Status != clientsdk.PhotoVerified {
				c.fail("device %s: photo %s is %s: %s %s", d.id, p.SHA256, p.Status, p.Error, p.Detail)
				continue
			}
			c.photos++
			k := p.ReportID + "/" + p.Slot + "/" + p.SHA256
			if !onReport[k] {
				c.fail("device %s: verified photo %s is not on report %s slot %s", d.id, p.SHA256, p.ReportID, p.Slot)
			}
			if attached[k] != 1 {
				c.fail("device %s: photo %s on report %s: %d audit entries, want 1", d.id, p.SHA256, p.ReportID, attached[k])
			}
			data, err := c.blob(ctx, p.SHA256)
			if err != nil {
				c.fail("photo %s: not in the store: %v", p.SHA256, err)
				continue
			}
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != p.SHA256 {
				c.fail("photo %s: the stored bytes hash to %x", p.SHA256, sum)
			}
		}
	}
	return nil
}

// localBlob reads a photo from the server's media directory.
func localBlob(data string) func(context.Context, string) ([]byte, error) {
	return func(_ context.Context, sha string) ([]byte, error) {
		return os.ReadFile(filepath.Join(data, "media", "objects", "photos", sha))
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(mustJSON(x), mustJSON(y))
}
