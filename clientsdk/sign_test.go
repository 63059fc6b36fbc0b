package clientsdk

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/templates"
)

// signWorld is a signed-in tablet, now offline, with a visit under way
// and its draft report, every required item answered.
type signWorld struct {
	h      *harness
	c      *Client
	visit  string
	report string
}

func newSignWorld(t *testing.T) *signWorld {
	t.Helper()
	h := newHarness(t)
	visit := h.fake.addVisit(h.tech, "a", fieldsync.VisitScheduled)
	c := h.open()
	h.online(c)
	h.net.set(func(n *netSwitch) { n.down = true })
	must(t, c.Depart(visit))
	must(t, c.Arrive(visit))
	report, err := c.CreateReport(visit, "tv-v1")
	must(t, err)
	answerRequired(t, c, report, "tv-v1")
	return &signWorld{h: h, c: c, visit: visit, report: report}
}

// signAction returns the last queued mutation, which must be a sign.
func signAction(t *testing.T, c *Client) syncproto.Mutation {
	t.Helper()
	out := outboxOf(t, c)
	m := out[len(out)-1]
	if m.Entity != fieldsync.EntityReport || m.Op != syncproto.OpAction || m.Action != "sign" {
		t.Fatalf("the last queued change is %+v, not a sign", m)
	}
	return m
}

// Signed offline, the action carries the hash of the canonical document
// the server rebuilds from its own records, signed with the key the
// device presented at login, and every field ParseSignAction reads.
func TestSignReportSignsTheCanonicalDocument(t *testing.T) {
	w := newSignWorld(t)
	c, h := w.c, w.h
	findings, cause := "backlight dead / 背光不亮", "power board"
	must(t, c.SetReport(w.report, ReportFields{Findings: &findings, Cause: &cause}))
	plate := attach(t, c, w.report, "serial_plate", writeTestFile(t, "plate.jpg", smallPhoto(t, 1)))
	customer, err := c.AttachSignature(w.report, "customer", signature.Builtin())
	must(t, err)
	technician, err := c.AttachSignature(w.report, "technician", signature.Builtin())
	must(t, err)
	h.clock.Advance(1500 * time.Millisecond) // signed between two seconds
	signedAt := h.clock.Now().UTC().Truncate(time.Second)

	o := noPhotos("tv-v1", "serial_plate")
	o.CustomerName = "Zoë Müller"
	must(t, c.SignReport(w.report, o))

	m := signAction(t, c)
	if got, want := slices.Sorted(maps.Keys(m.Fields)), []string{"customer_name", "hash", "key_id", "photos", "signature", "signed_at", "unphotographed"}; !slices.Equal(got, want) {
		t.Fatalf("the sign action's fields are %v, want %v", got, want)
	}
	tpl, _ := templates.ByID("tv-v1")
	a, err := fieldsync.ParseSignAction(m.Fields, tpl, testDevice)
	must(t, err)
	s := a.Signature
	wantPhotos := []fieldsync.SlotPhoto{{Slot: "serial_plate", SHA256: plate.SHA256}, {Slot: fieldsync.SlotSignatureCustomer, SHA256: customer.SHA256}, {Slot: fieldsync.SlotSignatureTechnician, SHA256: technician.SHA256}}
	if !sameElements(a.Photos, wantPhotos) {
		t.Errorf("photos = %+v, want %+v", a.Photos, wantPhotos)
	}
	var at string
	must(t, json.Unmarshal(m.Fields["signed_at"], &at))
	if at != signedAt.Format(time.RFC3339) || !s.SignedAt.Equal(signedAt) {
		t.Errorf("signed_at = %s, want the device clock to the second, %s", at, signedAt.Format(time.RFC3339))
	}
	if s.CustomerName != o.CustomerName {
		t.Errorf("customer_name = %q", s.CustomerName)
	}
	var wantReasons []fieldsync.SlotReason
	for _, slot := range []string{"accessories", "fault", "invoice", "packaging"} {
		wantReasons = append(wantReasons, fieldsync.SlotReason{Slot: slot, Reason: "the customer kept it"})
	}
	if !slices.Equal(s.Unphotographed, wantReasons) {
		t.Errorf("unphotographed = %+v, want %+v", s.Unphotographed, wantReasons)
	}

	// The key is the one the login presented.
	pub, err := base64.RawURLEncoding.DecodeString(h.fake.keys[testDevice])
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("the login presented no key: %q", h.fake.keys[testDevice])
	}
	key := &fieldsync.DeviceKey{ID: fieldsync.DeviceKeyID(pub), PublicKey: h.fake.keys[testDevice]}
	if s.KeyID != key.ID {
		t.Errorf("key_id = %s, want %s", s.KeyID, key.ID)
	}
	must(t, s.VerifyWith(key))

	// The app sees the report signed, with the signature as pushed.
	local, err := c.Report(w.report)
	must(t, err)
	if local.Status != fieldsync.ReportSigned || local.Signature == nil || local.Signature.Hash != s.Hash || local.Signature.KeyID != s.KeyID ||
		local.Signature.DeviceID != testDevice || !local.Signature.SignedAt.Equal(signedAt) || !slices.Equal(local.Signature.Unphotographed, wantReasons) {
		t.Fatalf("the local report after signing: %s %+v", local.Status, local.Signature)
	}

	// The server's records give the same document.
	h.net.set(func(n *netSwitch) { n.down = false })
	if rep := h.sync(c); rep.Refused != 0 {
		t.Fatalf("the sign was refused: %+v", rep)
	}
	r, ok := h.fake.Report(w.report)
	if !ok {
		t.Fatal("the server has no report")
	}
	v := record[fieldsync.Visit](h.fake, "visit", w.visit)
	tk := record[fieldsync.Ticket](h.fake, "ticket", v.TicketID)
	as := record[fieldsync.Asset](h.fake, "asset", tk.AssetID)
	signing, err := canon.SigningOf(&s, a.Photos)
	must(t, err)
	doc, err := canon.Build(&r, &v, &tk, &as, signing)
	must(t, err)
	hash, err := doc.Hash()
	must(t, err)
	if hash != s.Hash {
		t.Fatalf("the device signed %s; the server's records hash to %s", s.Hash, hash)
	}
	if doc.Findings != findings || doc.AssetSerial != as.Serial || doc.CustomerSignature != customer.SHA256 || doc.TechnicianSignature != technician.SHA256 || len(doc.Photos) != 1 {
		t.Fatalf("the document: %+v", doc)
	}

	// Sealed on the server, the next pull shows it.
	seal := h.fake.seal(w.report)
	h.sync(c)
	local, err = c.Report(w.report)
	must(t, err)
	if local.Status != fieldsync.ReportSealed || local.Seal == nil || *local.Seal != seal || local.Signature == nil || local.Signature.Hash != s.Hash {
		t.Fatalf("the report after the seal was pulled: %s seal %+v signature %+v", local.Status, local.Seal, local.Signature)
	}
}

func sameElements(a, b []fieldsync.SlotPhoto) bool {
	by := func(x, y fieldsync.SlotPhoto) int { return strings.Compare(x.Slot+x.SHA256, y.Slot+y.SHA256) }
	return slices.Equal(slices.SortedFunc(slices.Values(a), by), slices.SortedFunc(slices.Values(b), by))
}

// What the server would refuse is refused on the device, with its code
// and a detail naming what to fix, and nothing is queued.
func TestSignReportRefusesOnTheDevice(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, w *signWorld)
		o      func() SignOptions
		code   string
		detail string
	}{
		{"a required slot with neither photo nor reason", nil, func() SignOptions {
			o := noPhotos("tv-v1")
			delete(o.Unphotographed, "invoice")
			return o
		}, fieldsync.EReportIncomplete, "invoice"},
		{"no reasons at all names every empty required slot", nil, func() SignOptions { return SignOptions{} },
			fieldsync.EReportIncomplete, "serial_plate, fault, packaging, invoice, accessories"},
		{"a reason for a slot that is not a required one", nil, func() SignOptions {
			o := noPhotos("tv-v1")
			o.Unphotographed["installation"] = "wall mount not used"
			return o
		}, fieldsync.EInvalid, `"installation" is not a required photo slot`},
		{"a reason for a slot the template lacks", nil, func() SignOptions {
			o := noPhotos("tv-v1")
			o.Unphotographed["serail_plate"] = "typo"
			return o
		}, fieldsync.EInvalid, `"serail_plate"`},
		{"an empty reason", nil, func() SignOptions {
			o := noPhotos("tv-v1")
			o.Unphotographed["fault"] = "  "
			return o
		}, fieldsync.EInvalid, "say why slot fault has no photo"},
		{"a photo and a reason on one slot", func(t *testing.T, w *signWorld) {
			attach(t, w.c, w.report, "fault", writeTestFile(t, "fault.jpg", smallPhoto(t, 2)))
		}, func() SignOptions { return noPhotos("tv-v1") }, fieldsync.EInvalid, "slot fault has a photo and a reason"},
		{"the customer's signature without their name", func(t *testing.T, w *signWorld) {
			_, err := w.c.AttachSignature(w.report, "customer", signature.Builtin())
			must(t, err)
		}, func() SignOptions { return noPhotos("tv-v1") }, fieldsync.EInvalid, "customer_name is required"},
		{"a name with spaces around it", nil, func() SignOptions {
			o := noPhotos("tv-v1")
			o.CustomerName = " Li Wei"
			return o
		}, fieldsync.EInvalid, "customer_name must not begin or end with spaces"},
		{"the ticket is not on the device", func(t *testing.T, w *signWorld) {
			dropRecord(t, w.c, fieldsync.EntityTicket, "ticket-a")
		}, func() SignOptions { return noPhotos("tv-v1") }, fieldsync.ENotFound, "ticket ticket-a of visit visit-a is not on this device"},
		{"the asset is not on the device", func(t *testing.T, w *signWorld) {
			dropRecord(t, w.c, fieldsync.EntityAsset, "asset-a")
		}, func() SignOptions { return noPhotos("tv-v1") }, fieldsync.ENotFound, "asset asset-a of ticket ticket-a is not on this device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSignWorld(t)
			if tt.before != nil {
				tt.before(t, w)
			}
			queued := len(outboxOf(t, w.c))
			checked := w.c.CheckSign(w.report, tt.o())
			err := w.c.SignReport(w.report, tt.o())
			if fieldsync.ErrorCode(checked) != fieldsync.ErrorCode(err) || fieldsync.ErrorDetail(checked) != fieldsync.ErrorDetail(err) {
				t.Errorf("CheckSign said %v, SignReport %v", checked, err)
			}
			wantCode(t, err, tt.code)
			if !strings.Contains(fieldsync.ErrorDetail(err), tt.detail) {
				t.Errorf("detail %q does not say %q", fieldsync.ErrorDetail(err), tt.detail)
			}
			if n := len(outboxOf(t, w.c)); n != queued {
				t.Errorf("a refused signature queued %d change(s)", n-queued)
			}
			if r, err := w.c.Report(w.report); err != nil || r.Status != fieldsync.ReportDraft || r.Signature != nil {
				t.Errorf("the report after a refused signature: %+v %v", r, err)
			}
		})
	}
}

// A device without a key (it never signed in, or was revoked) cannot
// sign, and says why.
func TestSignReportNeedsTheDeviceKey(t *testing.T) {
	w := newSignWorld(t)
	must(t, w.c.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyDeviceKey) }))
	if err := w.c.CheckSign(w.report, noPhotos("tv-v1")); err != ErrNoDeviceKey {
		t.Fatalf("checking without a key: %v, want ErrNoDeviceKey", err)
	}
	if err := w.c.SignReport(w.report, noPhotos("tv-v1")); err != ErrNoDeviceKey {
		t.Fatalf("signing without a key: %v, want ErrNoDeviceKey", err)
	}
}

// Signing needs no server at all: the file alone, reopened with the
// server gone, signs and keeps the action for the next sync.
func TestSignReportWorksWithNoServer(t *testing.T) {
	w := newSignWorld(t)
	must(t, w.c.Close())
	w.h.fake.srv.Close()
	c, err := Open(w.h.path, w.h.opts)
	must(t, err)
	defer c.Close()
	must(t, c.SignReport(w.report, noPhotos("tv-v1")))
	m := signAction(t, c)
	tpl, _ := templates.ByID("tv-v1")
	if _, err := fieldsync.ParseSignAction(m.Fields, tpl, testDevice); err != nil {
		t.Fatalf("the queued action does not parse: %v", err)
	}
	if r, err := c.Report(w.report); err != nil || r.Status != fieldsync.ReportSigned {
		t.Fatalf("report after signing with no server: %+v %v", r, err)
	}
}

// dropRecord removes a record from the device's copy of the server's data.
func dropRecord(t *testing.T, c *Client, entity fieldsync.Entity, id string) {
	t.Helper()
	must(t, c.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketRecords).Delete(recordKey(entity, id)) }))
}

// A customer who draws again replaces the drawing: the signature names
// only the latest image on each signature slot.
func TestSignReportNamesTheLatestDrawing(t *testing.T) {
	w := newSignWorld(t)
	c := w.c
	first, err := c.AttachSignature(w.report, "customer", signature.Builtin())
	must(t, err)
	again := signature.Strokes{{{X: 10, Y: 10, T: 0}, {X: 200, Y: 120, T: 40}, {X: 400, Y: 30, T: 90}}}
	second, err := c.AttachSignature(w.report, "customer", again)
	must(t, err)
	if first.SHA256 == second.SHA256 {
		t.Fatal("two different drawings made one image")
	}
	o := noPhotos("tv-v1")
	o.CustomerName = "Li Na"
	must(t, c.SignReport(w.report, o))
	tpl, _ := templates.ByID("tv-v1")
	a, err := fieldsync.ParseSignAction(signAction(t, c).Fields, tpl, testDevice)
	must(t, err)
	want := []fieldsync.SlotPhoto{{Slot: fieldsync.SlotSignatureCustomer, SHA256: second.SHA256}}
	if !sameElements(a.Photos, want) {
		t.Errorf("photos = %+v, want only the second drawing %+v", a.Photos, want)
	}
}
