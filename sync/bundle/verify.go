package bundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// Finding is the outcome of one check.
type Finding struct {
	Check  string // what was checked: a member, a photo, a signature
	OK     bool
	Detail string // what holds, or exactly what does not
	// Unchecked marks a member Verify reads for people only.
	Unchecked bool
}

func (f Finding) String() string { return f.Check + ": " + f.Detail }

// Result is every finding of a verification, in the order checked.
type Result struct{ Findings []Finding }

// OK reports whether every check held.
func (r Result) OK() bool {
	for _, f := range r.Findings {
		if !f.OK {
			return false
		}
	}
	return len(r.Findings) > 0
}

// Failures returns the findings that did not hold.
func (r Result) Failures() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if !f.OK {
			out = append(out, f)
		}
	}
	return out
}

func (r *Result) pass(check, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Check: check, OK: true, Detail: fmt.Sprintf(format, args...)})
}

func (r *Result) fail(check, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Check: check, Detail: fmt.Sprintf(format, args...)})
}

// verifier holds what the checks share.
type verifier struct {
	Result
	b    *Bundle
	keys map[string]ed25519.PublicKey // the user's JWKS, by kid
	kids []string
	doc  *canon.Document
	hash string // SHA-256 of report.json
	seal *fieldsync.Seal
	head *tlog.Tree
}

// Verify checks b with the server keys jwks (a JWKS the user obtained
// apart from the bundle; server-keys.json is only compared with it) and,
// when earlierHead is not nil, against a tree head the user saved
// earlier. It checks that:
//
//   - report.json is a canonical document (canon.Parse) and its SHA-256
//     is the hash the seal states;
//   - every photo and signature image the document names is in the
//     bundle with that SHA-256, nothing else is, and each strokes file is
//     the strokes its image carries;
//   - device-key.json is a well-formed Ed25519 JWK whose kid is its
//     thumbprint and the seal's device key, and the seal's device
//     signature is that key's signature of the document's SHA-256;
//   - the seal is signed by the JWKS key its key_id names;
//   - log/head.txt is signed by a key of the JWKS, and log/inclusion.json
//     proves the seal's statement is entry log_index of that tree;
//   - with signoff.json, the customer's sign-off: it is of report.json's
//     report and SHA-256 (what the customer signed off or refused is
//     exactly the sealed document), signed by the JWKS key its key_id
//     names, log/signoff-inclusion.json proves its statement is entry
//     log_index of the head's tree, and when the customer signed, the
//     image signatures/customer-signoff.png has the SHA-256 it names and
//     its strokes file is the strokes the image carries (a refusal has no
//     image);
//   - with earlierHead: it is signed by a key of the JWKS and the two
//     trees are one log (log/consistency.json proves it when their sizes
//     differ).
//
// Every JSON member must be exactly as the server writes it. README.txt
// is not checked: it is words for people and nothing in it is evidence.
func Verify(b *Bundle, jwks, earlierHead []byte) Result {
	v := &verifier{b: b}
	if err := v.readKeys(jwks); err != nil {
		v.fail("keys", "%v", err)
		return v.Result
	}
	v.report()
	v.sealMember()
	v.files()
	v.deviceKey()
	v.sealSignature()
	v.serverKeys()
	v.logHead()
	v.inclusion()
	v.signOff()
	v.consistency(earlierHead)
	v.Findings = append(v.Findings, Finding{Check: NameReadme, OK: true, Unchecked: true,
		Detail: "not checked: it explains the bundle to people and is not evidence"})
	return v.Result
}

func (v *verifier) readKeys(jwks []byte) error {
	var set JWKS
	if err := json.Unmarshal(jwks, &set); err != nil {
		return fmt.Errorf("the keys file is not a JWKS (a JSON object with \"keys\"): %v", err)
	}
	v.keys = map[string]ed25519.PublicKey{}
	for i, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue // not a key that signs seals
		}
		pub, err := publicKey(k.X)
		if err != nil || k.Kid == "" {
			return fmt.Errorf("the keys file's key %d (kid %q): %v", i, k.Kid, err)
		}
		v.keys[k.Kid] = pub
		v.kids = append(v.kids, k.Kid)
	}
	if len(v.keys) == 0 {
		return fmt.Errorf("the keys file holds no Ed25519 key")
	}
	return nil
}

func (v *verifier) report() {
	v.hash = sum(v.b.Report)
	d, err := canon.Parse(v.b.Report)
	if err != nil {
		v.fail(NameReport, "not a canonical report document: %v", err)
		return
	}
	v.doc = &d
	v.pass(NameReport, "report %s, a canonical %s document (sha256 %s)", d.ReportID, canon.Version, v.hash)
}

// exact reads member name's JSON into into and requires that the server
// would write the same bytes: no field of another spelling, no extra
// space, no value of another form.
func exact(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("not valid: %v", err)
	}
	again, err := json.Marshal(into)
	if err != nil || !bytes.Equal(again, data) {
		return fmt.Errorf("not as the server writes it (altered bytes)")
	}
	return nil
}

func (v *verifier) sealMember() {
	var s fieldsync.Seal
	if err := exact(v.b.Seal, &s); err != nil {
		v.fail(NameSeal, "%v", err)
		return
	}
	if s.Version != fieldsync.SealVersion {
		v.fail(NameSeal, "version %q is not %s", s.Version, fieldsync.SealVersion)
		return
	}
	v.seal = &s
	switch {
	case v.doc == nil:
		v.fail(NameSeal, "cannot be compared with report.json, which is not a document")
	case s.ReportID != v.doc.ReportID:
		v.fail(NameSeal, "seals report %s, not report %s of report.json", s.ReportID, v.doc.ReportID)
	case s.Hash != v.hash:
		v.fail(NameReport, "differs from what was signed (hash %s, sealed %s)", v.hash, s.Hash)
	case s.DeviceID != v.doc.DeviceID:
		v.fail(NameSeal, "names device %s, but report.json was signed on device %s", s.DeviceID, v.doc.DeviceID)
	default:
		v.pass(NameSeal, "seals report %s with hash %s, at %s", s.ReportID, s.Hash, s.SealedAt)
	}
}

func short(sha string) string {
	if len(sha) > 8 {
		return sha[:8] + "…"
	}
	return sha
}

// files checks every photo and signature image against the document.
func (v *verifier) files() {
	if v.doc == nil {
		v.fail("photos", "not checked: report.json is not a document that names them")
		return
	}
	named := map[string]bool{}
	for _, want := range v.doc.Photos {
		check := fmt.Sprintf("photo %s (sha256 %s)", want.Slot, short(want.SHA256))
		i := slices.IndexFunc(v.b.Photos, func(p Photo) bool { return p.Slot == want.Slot && p.SHA256 == want.SHA256 })
		if i < 0 {
			v.fail(check, "missing from the bundle (photos/%s/%s.*)", want.Slot, want.SHA256)
			continue
		}
		p := v.b.Photos[i]
		named[p.Name()] = true
		if got := sum(p.Data); got != want.SHA256 {
			v.fail(check, "content differs (%s has sha256 %s)", p.Name(), got)
			continue
		}
		v.pass(check, "%s matches", p.Name())
	}
	for _, p := range v.b.Photos {
		if !named[p.Name()] {
			v.fail(p.Name(), "a photo report.json does not name")
		}
	}
	for _, s := range []struct{ role, sha string }{{RoleCustomer, v.doc.CustomerSignature}, {RoleTechnician, v.doc.TechnicianSignature}} {
		v.signatureImage(s.role, s.sha)
	}
}

func (v *verifier) signatureImage(role, want string) {
	png, has := v.b.Signatures[role]
	strokes, hasStrokes := v.b.Strokes[role]
	check := fmt.Sprintf("%s signature (sha256 %s)", role, short(want))
	switch {
	case want == "" && !has && !hasStrokes:
		return
	case want == "":
		v.fail(SignatureName(role), "the report was signed without a %s signature, yet the bundle holds one", role)
		return
	case !has:
		v.fail(check, "missing from the bundle (%s)", SignatureName(role))
		return
	}
	if got := sum(png); got != want {
		v.fail(check, "content differs (%s has sha256 %s)", SignatureName(role), got)
		return
	}
	v.pass(check, "%s matches", SignatureName(role))
	if !hasStrokes {
		v.fail(StrokesName(role), "missing from the bundle")
		return
	}
	s, err := signature.FromPNG(png)
	if err != nil {
		v.fail(StrokesName(role), "the image carries no strokes to compare with: %v", err)
		return
	}
	if inPNG, err := json.Marshal(s); err != nil || !bytes.Equal(inPNG, strokes) {
		v.fail(StrokesName(role), "differs from the strokes in %s", SignatureName(role))
		return
	}
	v.pass(StrokesName(role), "the strokes %s carries", SignatureName(role))
}

func (v *verifier) deviceKey() {
	var k DeviceKey
	if err := exact(v.b.DeviceKey, &k); err != nil {
		v.fail(NameDeviceKey, "%v", err)
		return
	}
	pub, err := publicKey(k.X)
	switch {
	case k.Kty != "OKP" || k.Crv != "Ed25519":
		v.fail(NameDeviceKey, "kty %q crv %q is not an Ed25519 key (OKP, Ed25519)", k.Kty, k.Crv)
		return
	case err != nil:
		v.fail(NameDeviceKey, "%v", err)
		return
	case Thumbprint(pub) != k.Kid:
		v.fail(NameDeviceKey, "kid %s is not the key's thumbprint %s", k.Kid, Thumbprint(pub))
		return
	case k.AddedAt.IsZero() || (k.RetiredAt != nil && k.RetiredAt.Before(k.AddedAt)):
		v.fail(NameDeviceKey, "added_at and retired_at are not a key's lifetime")
		return
	}
	if v.seal == nil {
		v.fail("device signature", "not checked: seal.json is not a seal")
		return
	}
	if sealed, err := time.Parse(canon.TimeLayout, v.seal.SealedAt); err == nil && k.AddedAt.After(sealed) {
		v.fail(NameDeviceKey, "added at %s, after the seal (%s)", k.AddedAt.Format(time.RFC3339), v.seal.SealedAt)
		return
	}
	if k.Kid != v.seal.DeviceKeyID {
		v.fail(NameDeviceKey, "is key %s, but the seal names device key %s", k.Kid, v.seal.DeviceKeyID)
		return
	}
	digest, err := hex.DecodeString(v.seal.Hash)
	sig, serr := base64.RawURLEncoding.Strict().DecodeString(v.seal.DeviceSignature)
	if err != nil || serr != nil || !ed25519.Verify(pub, digest, sig) {
		v.fail("device signature", "invalid for device key %s over hash %s", k.Kid, v.seal.Hash)
		return
	}
	v.pass("device signature", "device %s signed hash %s with key %s", v.seal.DeviceID, v.seal.Hash, k.Kid)
}

func (v *verifier) sealSignature() {
	if v.seal == nil {
		v.fail("seal", "not checked: seal.json is not a seal")
		return
	}
	pub, ok := v.keys[v.seal.KeyID]
	if !ok {
		v.fail("seal", "signed by key kid %s, which the keys file does not hold (it holds %s)", v.seal.KeyID, strings.Join(v.kids, ", "))
		return
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(v.seal.Signature); err != nil {
		v.fail("seal", "signature invalid for key kid %s", v.seal.KeyID)
		return
	}
	if err := seal.Verify(*v.seal, pub); err != nil {
		v.fail("seal", "%s", strings.TrimPrefix(fieldsync.ErrorDetail(err), "seal: "))
		return
	}
	v.pass("seal", "signed by server key %s", v.seal.KeyID)
}

// serverKeys checks that server-keys.json is a JWKS as the server
// publishes it and agrees with the user's keys on every kid both hold.
func (v *verifier) serverKeys() {
	var set JWKS
	if err := exact(v.b.ServerKeys, &set); err != nil {
		v.fail(NameServerKeys, "%v", err)
		return
	}
	for _, k := range set.Keys {
		pub, err := publicKey(k.X)
		switch {
		case k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig":
			v.fail(NameServerKeys, "key %s is not an Ed25519 signing key (kty OKP, crv Ed25519, alg EdDSA, use sig)", k.Kid)
			return
		case err != nil:
			v.fail(NameServerKeys, "key %s: %v", k.Kid, err)
			return
		case Thumbprint(pub) != k.Kid:
			v.fail(NameServerKeys, "key %s: kid is not the key's thumbprint %s", k.Kid, Thumbprint(pub))
			return
		}
		if mine, ok := v.keys[k.Kid]; ok && !mine.Equal(pub) {
			v.fail(NameServerKeys, "key %s differs from the key of that kid in the keys file", k.Kid)
			return
		}
	}
	v.pass(NameServerKeys, "%d keys, consistent with the keys file (informational: the keys file is what counts)", len(set.Keys))
}

// openHead checks a tree head's signature by any key of the user's JWKS.
func (v *verifier) openHead(msg []byte) (tlog.Tree, error) {
	var vs []note.Verifier
	for _, kid := range v.kids {
		nv, err := translog.NewVerifier(kid, v.keys[kid])
		if err != nil {
			return tlog.Tree{}, err
		}
		vs = append(vs, nv)
	}
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			var by []string
			for _, sig := range unverified.Note.UnverifiedSigs {
				by = append(by, sig.Name)
			}
			return tlog.Tree{}, fmt.Errorf("signed by %s, no key of the keys file", strings.Join(by, ", "))
		}
		return tlog.Tree{}, fmt.Errorf("signature invalid: %v", err)
	}
	for _, sig := range n.Sigs {
		if _, err := base64.StdEncoding.Strict().DecodeString(sig.Base64); err != nil {
			return tlog.Tree{}, fmt.Errorf("signature by %s is not in canonical base64", sig.Name)
		}
	}
	t, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return tlog.Tree{}, err
	}
	return t, nil
}

func (v *verifier) logHead() {
	t, err := v.openHead(v.b.Head)
	if err != nil {
		v.fail("log head", "%s: %v", NameHead, err)
		return
	}
	v.head = &t
	v.pass("log head", "tree of %d entries, signed by a key of the keys file", t.N)
}

func (v *verifier) inclusion() {
	var stmt []byte
	var index int64
	if v.seal != nil {
		index = v.seal.LogIndex
		stmt, _ = seal.Statement(*v.seal)
	}
	v.entry("inclusion", NameInclusion, v.b.Inclusion, "seal", index, stmt)
}

// entry checks that the inclusion proof data, member name, proves that
// what (the seal, the sign-off), whose statement stmt is entry index, is
// in the tree of log/head.txt. stmt nil: what is not valid.
func (v *verifier) entry(check, name string, data []byte, what string, index int64, stmt []byte) {
	var in Inclusion
	if err := exact(data, &in); err != nil {
		v.fail(name, "%v", err)
		return
	}
	if stmt == nil || v.head == nil {
		v.fail(check, "not checked: it needs a valid %s and tree head", what)
		return
	}
	switch {
	case in.Index != index:
		v.fail(name, "proves entry %d, but the %s is entry %d", in.Index, what, index)
		return
	case in.Size != v.head.N:
		v.fail(name, "proves against a tree of %d entries, but log/head.txt is of %d", in.Size, v.head.N)
		return
	}
	if err := translog.VerifyInclusion(in.Proof, in.Index, stmt, *v.head); err != nil {
		v.fail(check, "%s: %v", name, err)
		return
	}
	v.pass(check, "the %s is entry %d of the log's tree of %d", what, in.Index, v.head.N)
}

// consistency checks a saved head against the bundle's. Without one it
// only reads log/consistency.json, which proves nothing on its own.
func (v *verifier) consistency(earlier []byte) {
	var c *Consistency
	if v.b.Consistency != nil {
		c = new(Consistency)
		if err := exact(v.b.Consistency, c); err != nil {
			v.fail(NameConsistency, "%v", err)
			return
		}
	}
	if earlier == nil {
		if c != nil {
			v.Findings = append(v.Findings, Finding{Check: NameConsistency, OK: true, Unchecked: true,
				Detail: "not checked: give the tree head you saved earlier (--head) to check it"})
		}
		return
	}
	saved, err := v.openHead(earlier)
	if err != nil {
		v.fail("saved head", "%v", err)
		return
	}
	if v.head == nil {
		v.fail("consistency", "not checked: log/head.txt is not a valid head")
		return
	}
	old, head := saved, *v.head
	if saved.N > head.N {
		old, head = head, saved // the saved head is the newer one
	}
	switch {
	case old.N == head.N:
		if old.Hash != head.Hash {
			v.fail("consistency", "the saved head and log/head.txt are trees of %d entries with different hashes: the log was rewritten", old.N)
			return
		}
	case c == nil:
		v.fail("consistency", "the saved head is of %d entries and log/head.txt of %d: the bundle carries no log/consistency.json (download it with ?since=%d)", saved.N, v.head.N, min(saved.N, v.head.N))
		return
	case c.Old != old.N || c.New != head.N:
		v.fail(NameConsistency, "proves %d → %d entries, not %d → %d", c.Old, c.New, old.N, head.N)
		return
	default:
		if err := translog.VerifyConsistency(c.Proof, old, head); err != nil {
			v.fail("consistency", "%s: %v", NameConsistency, err)
			return
		}
	}
	v.pass("consistency", "the saved head (%d entries) and log/head.txt (%d entries) are one append-only log", saved.N, v.head.N)
}
