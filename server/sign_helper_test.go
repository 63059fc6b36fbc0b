package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth/authproto"
	"github.com/fieldsync/fieldsync/internal/benchworld"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// loginWithKey signs login in from device, presenting pub as the
// device's signing key.
func (ts *testServer) loginWithKey(t *testing.T, login, device string, pub ed25519.PublicKey) authproto.Tokens {
	t.Helper()
	return ts.loginWith(t, login, device, map[string]string{"device_key": base64.RawURLEncoding.EncodeToString(pub)})
}

func newDeviceKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// signing is how a test signs a report; the zero value signs the stored
// report as a tablet would, giving a reason for every required slot
// without a photo.
type signing struct {
	photos   []fieldsync.SlotPhoto
	reasons  []fieldsync.SlotReason // nil: a reason for each required slot without a photo
	customer string
	// report is the report as the server will hold it when the sign
	// applies (edits earlier in the same batch); nil reads the stored one.
	report *fieldsync.Report
	key    ed25519.PrivateKey // nil: the device's key
	keyID  string             // "": key's id
	// hash, when set, is signed instead of the document's.
	hash string
}

// sign returns the device's sign action of report: the canonical
// document rebuilt from the server's records, its hash signed with the
// device key (benchworld.SignFields, which the benchmarks share).
func (d *device) sign(t *testing.T, reportID string, s signing) syncproto.Mutation {
	t.Helper()
	fields := d.signFields(t, reportID, s)
	return d.mutation(fieldsync.EntityReport, reportID, syncproto.OpAction, "sign", fields)
}

func (d *device) signFields(t *testing.T, reportID string, s signing) map[string]any {
	t.Helper()
	ctx := t.Context()
	r := s.report
	if r == nil {
		var err error
		if r, err = d.w.store.Report(ctx, reportID); err != nil {
			t.Fatal(err)
		}
	}
	v, err := d.w.store.Visit(ctx, r.VisitID)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := d.w.store.Ticket(ctx, v.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.w.store.Asset(ctx, tk.AssetID)
	if err != nil {
		t.Fatal(err)
	}
	reasons := s.reasons
	if reasons == nil {
		tpl := d.w.template(t, r.TemplateID)
		for _, slot := range tpl.RequiredSlots() {
			has := false
			for _, p := range s.photos {
				has = has || p.Slot == slot
			}
			if !has {
				reasons = append(reasons, fieldsync.SlotReason{Slot: slot, Reason: "客户不在场，无法拍摄"})
			}
		}
	}
	sig := fieldsync.Signature{CustomerName: s.customer, SignedAt: d.w.clock.Now().UTC().Truncate(time.Second), DeviceID: d.id, Unphotographed: reasons}
	key := s.key
	if key == nil {
		key = d.key
	}
	fields, err := benchworld.SignFields(r, v, tk, a, sig, s.photos, key, s.keyID, s.hash)
	if err != nil {
		t.Fatal(err)
	}
	return fields
}

// draftOf is the report a batch creates with these answers before it
// signs it (signing.report).
func draftOf(t *testing.T, id, visitID, templateID string, answers map[string]any) *fieldsync.Report {
	t.Helper()
	r := &fieldsync.Report{ID: id, VisitID: visitID, TemplateID: templateID, Answers: map[string]json.RawMessage{}}
	for k, v := range answers {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		r.Answers[k] = raw
	}
	return r
}
