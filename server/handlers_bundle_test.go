package server

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// upload stores data as a photo on slot of the world's report, in one
// tus request.
func (w *mediaWorld) upload(t *testing.T, data []byte, slot string) string {
	t.Helper()
	sha := hexSHA(data)
	res, body := w.tus(t, w.techA, "POST", "/v1/media/uploads", map[string]string{
		"Upload-Length":   strconv.Itoa(len(data)),
		"Upload-Metadata": meta("sha256", sha, "report_id", w.report, "slot", slot),
		"Content-Type":    "application/offset+octet-stream",
	}, data)
	if res.StatusCode != 201 || res.Header.Get("Fieldsync-Photo") != "/v1/media/"+sha {
		t.Fatalf("upload on %s: %d %v %s", slot, res.StatusCode, res.Header, body)
	}
	return sha
}

// sealedReport stores, beside the world's draft, a report of its visit
// that a device signed and the server sealed, over photos and signatures
// uploaded to the draft: the seal made with the server's key and appended
// to the store's log, as sealing does.
func sealedReport(t *testing.T, w *mediaWorld) *fieldsync.Report {
	t.Helper()
	ctx := t.Context()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	res, body := w.do(t, "POST", "/v1/auth/login", "", map[string]string{"login": "tech.a", "password": "tech.a-password",
		"device_id": "tab-signing", "device_name": "Tablet", "device_key": base64.RawURLEncoding.EncodeToString(pub)})
	if res.StatusCode != 200 {
		t.Fatalf("login with a device key: %d %s", res.StatusCode, body)
	}
	photos := []fieldsync.SlotPhoto{
		{Slot: "serial_plate", SHA256: w.upload(t, testJPEG(t, 320, 240, 7), "serial_plate")},
		{Slot: "fault", SHA256: w.upload(t, testJPEG(t, 240, 320, 8), "fault")},
	}
	for slot, strokes := range map[string]signature.Strokes{fieldsync.SlotSignatureCustomer: signature.Builtin(), fieldsync.SlotSignatureTechnician: signature.Builtin()[:1]} {
		png, err := signature.Render(strokes, 300, 100)
		if err != nil {
			t.Fatal(err)
		}
		photos = append(photos, fieldsync.SlotPhoto{Slot: slot, SHA256: w.upload(t, png, slot)})
	}
	vb, err := w.store.VisitBundle(ctx, w.visit)
	if err != nil {
		t.Fatal(err)
	}
	// The auth service registers the key on the wall clock: seal after it.
	now := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	r := &fieldsync.Report{ID: "0190f000-0000-7000-8000-0000000000dd", VisitID: w.visit, TemplateID: "tv-v1", Status: fieldsync.ReportSealed,
		Answers: fieldsync.Answers{"power_on": json.RawMessage(`false`)}, Findings: "Panel cracked at the lower left.",
		Responsibility: fieldsync.ResponsibilityTransport, CreatedAt: now, UpdatedAt: now, SignedAt: &now, SignedPhotos: photos}
	r.Signature = &fieldsync.Signature{CustomerName: "刘女士", SignedAt: now, DeviceID: "tab-signing", KeyID: fieldsync.DeviceKeyID(pub)}
	signing, err := canon.SigningOf(r.Signature, photos)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := canon.Build(r, &vb.Visit, &vb.Ticket, &vb.Asset, signing)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := doc.Sum()
	r.Signature.Hash = hex.EncodeToString(digest[:])
	r.Signature.Value = base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, digest[:]))
	var index int64
	if err := w.store.ViewLog(ctx, func(l translog.Reader) (err error) { index, err = l.Size(); return err }); err != nil {
		t.Fatal(err)
	}
	k := w.keys.Signing()
	s, stmt, err := seal.New(r, now, index, seal.Key{ID: k.Kid, Private: k.Private})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.store.AppendLog(stmt); err != nil || got != index {
		t.Fatalf("AppendLog = %d, %v; want %d", got, err, index)
	}
	r.Seal = &s
	if err := w.store.CreateReport(ctx, r, fieldsync.Actor{UserID: w.techAID, DeviceID: "tab-signing"}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportBundleVerifiesWithTheServersKeys(t *testing.T) {
	w := newMediaWorld(t, "local")
	r := sealedReport(t, w)
	res, jwks := w.do(t, "GET", "/.well-known/jwks.json", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("jwks: %d", res.StatusCode)
	}
	path := "/v1/reports/" + r.ID + "/bundle"
	var first []byte
	for _, token := range []string{w.disp, w.techA} {
		res, body := w.do(t, "GET", path, token, nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("bundle: %d %v %.300s", res.StatusCode, res.Header, body)
		}
		if res.Uncompressed {
			t.Error("the bundle, a ZIP of photos, was gzip-compressed again")
		}
		b, err := bundle.Read(bytes.NewReader(body), int64(len(body)), bundle.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if v := bundle.Verify(b, jwks, nil); !v.OK() {
			t.Fatalf("the bundle does not verify: %v", v.Failures())
		}
		if len(b.Photos) != 2 || len(b.Signatures) != 2 || len(b.Strokes) != 2 || !strings.Contains(string(b.Readme), "fieldsync verify") {
			t.Errorf("bundle holds %d photos, %d signatures, %d strokes", len(b.Photos), len(b.Signatures), len(b.Strokes))
		}
		if first == nil {
			first = body
		} else if !bytes.Equal(first, body) {
			t.Error("two downloads at the same log size differ")
		}
	}

	// A head saved now checks against a later bundle that proves it
	// extends it.
	_, head := w.do(t, "GET", "/v1/log/head", "", nil)
	res, body := w.do(t, "GET", path+"?since=1", w.disp, nil)
	if res.StatusCode != 200 {
		t.Fatalf("bundle since 1: %d %s", res.StatusCode, body)
	}
	b, err := bundle.Read(bytes.NewReader(body), int64(len(body)), bundle.Limits{})
	if err != nil || b.Consistency == nil {
		t.Fatalf("bundle since 1: %v, consistency %q", err, b.Consistency)
	}
	if v := bundle.Verify(b, jwks, head); !v.OK() {
		t.Fatalf("with the saved head: %v", v.Failures())
	}

	// Others: it does not exist; a bad since is named; a draft has none.
	res, body = w.do(t, "GET", path, w.techB, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.do(t, "GET", path, w.custB, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.do(t, "GET", path+"?since=0", w.disp, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	res, body = w.do(t, "GET", path+"?since=99", w.disp, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	res, body = w.do(t, "GET", "/v1/reports/"+w.report+"/bundle", w.disp, nil)
	if p := wantProblem(t, res, body, 409, fieldsync.EConflict); !strings.Contains(p.Detail, "not sealed") {
		t.Errorf("draft: %+v", p)
	}
}

// A customer's remote sign-off, or refusal, of a sealed report is in its
// bundle, downloaded with a login or through the link, proved in the same
// head as the seal, and verifies with the server's keys.
func TestReportBundleCarriesTheCustomersSignOff(t *testing.T) {
	for _, c := range []struct {
		name string
		sign map[string]any
	}{
		{"signed", map[string]any{"customer_name": "刘女士", "strokes": signature.Builtin()}},
		{"refused", map[string]any{"refuse": true, "reason": "屏幕仍有竖线"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newMediaWorld(t, "local")
			r := sealedReport(t, w)
			l := w.link(t, w.disp, r.ID, nil)
			c.sign["hash"] = r.Signature.Hash
			var so fieldsync.SignOff
			w.call(t, "", "POST", l.URL+"/sign", c.sign, 201, &so)
			_, jwks := w.do(t, "GET", "/.well-known/jwks.json", "", nil)

			var first []byte
			for _, get := range []struct{ path, token string }{{"/v1/reports/" + r.ID + "/bundle", w.disp}, {l.URL + "/bundle", ""}} {
				res, body := w.do(t, "GET", get.path, get.token, nil)
				if res.StatusCode != 200 {
					t.Fatalf("%s: %d %.300s", get.path, res.StatusCode, body)
				}
				b, err := bundle.Read(bytes.NewReader(body), int64(len(body)), bundle.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				v := bundle.Verify(b, jwks, nil)
				if !v.OK() {
					t.Fatalf("%s does not verify: %v", get.path, v.Failures())
				}
				var lines []string
				for _, f := range v.Findings {
					lines = append(lines, f.String())
				}
				got := strings.Join(lines, "\n")
				want := []string{"signoff.json: signed by server key " + so.KeyID,
					"sign-off inclusion: the sign-off is entry " + strconv.FormatInt(so.LogIndex, 10) + " of the log's tree of " + strconv.FormatInt(so.LogIndex+1, 10)}
				if so.Decision == fieldsync.SignOffSigned {
					want = append(want, "signatures/customer-signoff.png matches", "signatures/customer-signoff.strokes.json: the strokes")
				} else if _, ok := b.Signatures[bundle.RoleCustomerSignOff]; ok || !strings.Contains(got, "the customer refused report "+r.ID) {
					t.Errorf("a refusal's bundle: %v\n%s", ok, got)
				}
				for _, line := range want {
					if !strings.Contains(got, line) {
						t.Errorf("%s: findings lack %q:\n%s", get.path, line, got)
					}
				}
				if first == nil {
					first = body
				} else if !bytes.Equal(first, body) {
					t.Error("the bundle through the link differs from the one with a login")
				}
			}
		})
	}
}
