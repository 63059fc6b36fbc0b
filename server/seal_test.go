package server

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// draft creates a complete draft report on the world's visit from tab.
func (w *mediaWorld) draft(t *testing.T, tab *device, id string) {
	t.Helper()
	answers := map[string]any{}
	for _, it := range w.template(t, "tv-v1").Items {
		if it.Required {
			answers[it.ID] = sampleAnswer(it)
		}
	}
	if rs := tab.push(t, tab.mutation("report", id, "upsert", "", map[string]any{"visit_id": w.visit, "template_id": "tv-v1", "answers": answers})); rs[0].Status != syncproto.Applied {
		t.Fatalf("draft %s: %s", id, statuses(rs))
	}
}

// reportJSON reads a report as the dispatcher sees it.
func (w *mediaWorld) reportJSON(t *testing.T, id string) fieldsync.Report {
	t.Helper()
	var r fieldsync.Report
	w.call(t, w.disp, "GET", "/v1/reports/"+id, nil, 200, &r)
	return r
}

// checkSeals holds the log to the seals: one record per sealed report,
// each seal's statement the record at its log_index, signed by the
// server's key.
func (w *mediaWorld) checkSeals(t *testing.T, sealed []string) {
	t.Helper()
	pub := w.keys.Signing().Public()
	var size int64
	noErr(t, w.store.ViewLog(t.Context(), func(r translog.Reader) error {
		var err error
		if size, err = r.Size(); err != nil {
			return err
		}
		for _, id := range sealed {
			rep := w.reportJSON(t, id)
			if rep.Status != fieldsync.ReportSealed || rep.Seal == nil || rep.Signature == nil {
				return fmt.Errorf("report %s is %s with seal %v", id, rep.Status, rep.Seal)
			}
			rec, err := translog.ReadRecord(r, rep.Seal.LogIndex)
			if err != nil {
				return err
			}
			stmt, err := seal.Statement(*rep.Seal)
			if err != nil {
				return err
			}
			if string(rec) != string(stmt) {
				return fmt.Errorf("report %s: log record %d is %s, not its statement %s", id, rep.Seal.LogIndex, rec, stmt)
			}
			if err := seal.Verify(*rep.Seal, pub); err != nil {
				return err
			}
			if rep.Seal.Hash != rep.Signature.Hash || rep.Seal.DeviceSignature != rep.Signature.Value {
				return fmt.Errorf("report %s: seal %+v is not of signature %+v", id, rep.Seal, rep.Signature)
			}
		}
		return translog.Audit(r)
	}))
	if size != int64(len(sealed)) {
		t.Fatalf("log size %d, want one record per sealed report (%d)", size, len(sealed))
	}
}

// Every check of a sign action, through real pushes: what is refused is
// refused with its code and kept as refused work; what is applied is
// sealed once its photos are in.
func TestSignActionChecks(t *testing.T) {
	w := newMediaWorld(t, "local")
	tab := w.device(t, "tech.a", "tab-checks")
	other := newDeviceKey(t)
	sha := strings.Repeat("ab", 32)
	customer := []fieldsync.SlotPhoto{{Slot: fieldsync.SlotSignatureCustomer, SHA256: sha}}
	tests := []struct {
		name   string
		sign   func(id string) syncproto.Mutation
		status string // of the report after: "" when refused
		code   string
		detail string
	}{
		{"good signature, no photos", func(id string) syncproto.Mutation { return tab.sign(t, id, signing{}) }, "sealed", "", ""},
		{"good signature, a photo named and not in", func(id string) syncproto.Mutation {
			return tab.sign(t, id, signing{photos: []fieldsync.SlotPhoto{{Slot: "serial_plate", SHA256: sha}}})
		}, "signed", "", ""},
		{"customer signature with the name", func(id string) syncproto.Mutation {
			return tab.sign(t, id, signing{photos: customer, customer: "刘女士"})
		}, "signed", "", ""},
		{"wrong hash", func(id string) syncproto.Mutation { return tab.sign(t, id, signing{hash: strings.Repeat("0", 64)}) },
			"", fieldsync.ESealHashMismatch, "differs from the server's"},
		{"signature by another key", func(id string) syncproto.Mutation {
			return tab.sign(t, id, signing{key: other, keyID: fieldsync.DeviceKeyID(tab.key.Public().(ed25519.PublicKey))})
		}, "", fieldsync.EBadDeviceSignature, "does not verify"},
		{"unknown key id", func(id string) syncproto.Mutation { return tab.sign(t, id, signing{key: other}) },
			"", fieldsync.EBadDeviceSignature, "has no key"},
		{"required slot with neither photo nor reason", func(id string) syncproto.Mutation {
			return tab.sign(t, id, signing{reasons: []fieldsync.SlotReason{{Slot: "fault", Reason: "无法拍摄"}}})
		}, "", fieldsync.EReportIncomplete, "serial_plate"},
		{"customer signature without a name", func(id string) syncproto.Mutation { return tab.sign(t, id, signing{photos: customer}) },
			"", fieldsync.EInvalid, "customer_name is required"},
		{"a sign without signature fields", func(id string) syncproto.Mutation { return tab.mutation("report", id, "action", "sign", nil) },
			"", fieldsync.EInvalid, "a sign action needs signed_at"},
	}
	var sealed []string
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("0190f000-0000-7000-8000-%012d", 100+i)
			w.draft(t, tab, id)
			rs := tab.push(t, tt.sign(id))
			rep := w.reportJSON(t, id)
			if tt.code == "" {
				if rs[0].Status != syncproto.Applied || string(rep.Status) != tt.status || rep.Signature == nil {
					t.Fatalf("%s; report %s, signature %v; want applied and %s", statuses(rs), rep.Status, rep.Signature, tt.status)
				}
				if rep.Status == fieldsync.ReportSealed {
					sealed = append(sealed, id)
				}
				return
			}
			if rs[0].Status != syncproto.Rejected || rs[0].Code != tt.code || !strings.Contains(rs[0].Detail, tt.detail) {
				t.Fatalf("%s %q; want rejected %s saying %q", statuses(rs), rs[0].Detail, tt.code, tt.detail)
			}
			if rep.Status != fieldsync.ReportDraft || rep.Signature != nil {
				t.Fatalf("refused, the report is %s with signature %v", rep.Status, rep.Signature)
			}
			refused, err := w.store.RefusedWork(t.Context(), w.visit)
			noErr(t, err)
			kept := false
			for _, r := range refused {
				kept = kept || r.Mutation.ID == id && r.Code == tt.code
			}
			if !kept {
				t.Fatalf("the refused sign is not kept as refused work: %+v", refused)
			}
		})
	}
	w.checkSeals(t, sealed)

	// A key retired by a new login signs nothing after.
	id := "0190f000-0000-7000-8000-000000000200"
	w.draft(t, tab, id)
	old := tab.key
	tab.key = newDeviceKey(t)
	again := w.loginWithKey(t, "tech.a", tab.id, tab.key.Public().(ed25519.PublicKey))
	tab.token, tab.install, tab.seq = again.AccessToken, again.InstallID, 0
	if rs := tab.push(t, tab.sign(t, id, signing{key: old})); rs[0].Code != fieldsync.EBadDeviceSignature || !strings.Contains(rs[0].Detail, "retired") {
		t.Fatalf("signed with the retired key: %s %q", statuses(rs), rs[0].Detail)
	}

	// A device revoked between its request's authentication and its
	// push: the engine on the store, as the handler runs it.
	w.clock.Advance(1)
	revoked, err := w.store.RevokeDevice(t.Context(), w.techAID, tab.id, w.clock.Now())
	noErr(t, err)
	w.clock.Advance(1)
	m := tab.sign(t, id, signing{})
	e := &syncproto.Engine{Store: w.store, Templates: func(tid string) (fieldsync.Template, bool) { return w.template(t, tid), true }, Now: w.clock.Now}
	resp, err := e.Push(t.Context(), syncproto.Principal{UserID: w.techAID, Role: fieldsync.RoleTechnician, Device: tab.id, Install: tab.install},
		syncproto.PushRequest{DeviceID: tab.id, InstallID: tab.install, Mutations: []syncproto.Mutation{m}})
	noErr(t, err)
	if r := resp.Results[0]; r.Code != fieldsync.EBadDeviceSignature || !strings.Contains(r.Detail, "revoked") {
		t.Fatalf("signed by a device revoked at %v: %+v", revoked.RevokedAt, r)
	}
	w.checkSeals(t, sealed)
}

// A report signed before its photo reached the server waits, signed,
// and is sealed by the photo's upload, with no action of the device;
// the feed carries the seal to the tablets and dispatchers.
func TestSignedReportIsSealedByItsLastPhoto(t *testing.T) {
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) {
			w := newMediaWorld(t, kind)
			tab := w.device(t, "tech.a", "tab-late")
			w.draft(t, tab, w.report)
			plate, fault := testJPEG(t, 64, 48, 7), testJPEG(t, 64, 48, 8)
			photos := []fieldsync.SlotPhoto{{Slot: "serial_plate", SHA256: hexSHA(plate)}, {Slot: "fault", SHA256: hexSHA(fault)}}
			if rs := tab.push(t, tab.sign(t, w.report, signing{photos: photos})); rs[0].Status != syncproto.Applied {
				t.Fatalf("sign: %s %s", statuses(rs), rs[0].Detail)
			}
			for i, data := range [][]byte{plate, fault} {
				if rep := w.reportJSON(t, w.report); rep.Status != fieldsync.ReportSigned || rep.Seal != nil {
					t.Fatalf("with %d of 2 photos the report is %s, seal %v; want signed", i, rep.Status, rep.Seal)
				}
				res, body := w.createOn(t, w.techA, w.report, photos[i].Slot, data)
				if res.StatusCode != 201 {
					t.Fatalf("create: %d %s", res.StatusCode, body)
				}
				if res, body := w.patch(t, w.techA, res.Header.Get("Location"), 0, data, ""); res.StatusCode != 204 {
					t.Fatalf("upload: %d %s", res.StatusCode, body)
				}
			}
			w.checkSeals(t, []string{w.report})
			c, ok := tab.pull(t)["report/"+w.report]
			var pulled fieldsync.Report
			noErr(t, json.Unmarshal(c.Data, &pulled))
			if !ok || pulled.Status != fieldsync.ReportSealed || pulled.Seal == nil || pulled.Signature == nil {
				t.Fatalf("the tablet pulls %s", c.Data)
			}
		})
	}
}

// A server without a key to seal leaves signed reports signed, logged
// once; the sweep at start seals them once there is a key.
func TestSignedReportsWaitForAKey(t *testing.T) {
	w := newMediaWorld(t, "local")
	w.store.SetSealKey(nil, w.api.log)
	tab := w.device(t, "tech.a", "tab-nokey")
	ids := []string{"0190f000-0000-7000-8000-000000000301", "0190f000-0000-7000-8000-000000000302"}
	for _, id := range ids {
		w.draft(t, tab, id)
		if rs := tab.push(t, tab.sign(t, id, signing{})); rs[0].Status != syncproto.Applied {
			t.Fatalf("sign: %s", statuses(rs))
		}
		if rep := w.reportJSON(t, id); rep.Status != fieldsync.ReportSigned || rep.Seal != nil {
			t.Fatalf("without a key the report is %s, seal %v", rep.Status, rep.Seal)
		}
	}
	if n := strings.Count(w.logs.String(), "no server key"); n != 1 {
		t.Errorf("the missing key is logged %d times, want once", n)
	}
	w.checkSeals(t, nil)
	k := w.keys.Signing()
	w.store.SetSealKey(func() seal.Key { return seal.Key{ID: k.Kid, Private: k.Private} }, nil)
	n, err := w.store.SealWaiting(t.Context(), w.clock.Now())
	if err != nil || n != 2 {
		t.Fatalf("SealWaiting = %d, %v; want both reports sealed", n, err)
	}
	w.checkSeals(t, ids)
	if n, err := w.store.SealWaiting(t.Context(), w.clock.Now()); err != nil || n != 0 {
		t.Fatalf("SealWaiting again = %d, %v; want nothing left", n, err)
	}
}
