// Package bundletest makes real report bundles for tests: real Ed25519
// keys, a canonical document, a device signature, a seal appended to a
// transparency log held in memory, signature PNGs drawn from strokes and
// JPEG photos.
package bundletest

import (
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/internal/testenv"
	"github.com/fieldsync/fieldsync/media/signature"
	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// Log is a translog.Writer in memory.
type Log struct {
	hashes  map[int64]tlog.Hash
	records [][]byte
}

func NewLog() *Log { return &Log{hashes: map[int64]tlog.Hash{}} }

func (l *Log) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := l.hashes[x]
		if !ok {
			return nil, fmt.Errorf("hash %d missing", x)
		}
		out[i] = h
	}
	return out, nil
}

func (l *Log) Size() (int64, error) { return int64(len(l.records)), nil }

func (l *Log) Record(i int64) ([]byte, error) {
	if i < 0 || i >= int64(len(l.records)) {
		return nil, fmt.Errorf("record %d missing", i)
	}
	return l.records[i], nil
}

func (l *Log) WriteHashes(start int64, hs []tlog.Hash) error {
	for i, h := range hs {
		l.hashes[start+int64(i)] = h
	}
	return nil
}

func (l *Log) PutRecord(i int64, data []byte) error {
	if i != int64(len(l.records)) {
		return fmt.Errorf("record %d out of order", i)
	}
	l.records = append(l.records, data)
	return nil
}

func (l *Log) SetSize(int64) error { return nil }

// Server is a sealing server: its key, its JWKS and its log.
type Server struct {
	Key  seal.Key
	Keys []seal.Key // every key of the JWKS, Key first
	Log  *Log
}

// NewServer makes a server with one fresh key and an empty log.
func NewServer(t testing.TB) *Server {
	s := &Server{Log: NewLog()}
	s.Key = NewKey(t)
	s.Keys = []seal.Key{s.Key}
	return s
}

// NewKey makes a server key as `fieldsync admin add-key` does.
func NewKey(t testing.TB) seal.Key {
	k, err := auth.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return seal.Key{ID: k.Kid, Private: k.Private}
}

// JWKS returns the JWKS of keys, as the server publishes it.
func JWKS(t testing.TB, keys ...seal.Key) []byte {
	var set []auth.Key
	for i, k := range keys {
		// Newest first, as the key set orders them.
		set = append(set, auth.Key{Kid: k.ID, Private: k.Private, Created: time.Unix(int64(len(keys)-i), 0)})
	}
	ks, err := auth.NewKeySet(set...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ks.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Head returns the log's signed head and its size.
func (s *Server) Head(t testing.TB) ([]byte, int64) {
	signer, err := translog.NewSigner(s.Key.ID, s.Key.Private)
	if err != nil {
		t.Fatal(err)
	}
	head, err := translog.SignedHead(s.Log, signer)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.Log.Size()
	return head, n
}

// Options shape a sealed report.
type Options struct {
	ReportID string   // default rep-1
	Photos   [][]byte // default two small noise JPEGs
}

// Sealed is a report the server sealed, and its bundle.
type Sealed struct {
	Report   *fieldsync.Report
	Document canon.Document
	Seal     fieldsync.Seal
	Parts    bundle.Parts
	Bundle   bundle.Bundle
}

// Seal signs a report on a fresh device, seals it and appends the seal
// to the log, and returns its bundle at the log's size then.
func (s *Server) Seal(t testing.TB, o Options) *Sealed {
	t.Helper()
	if o.ReportID == "" {
		o.ReportID = "rep-1"
	}
	if o.Photos == nil {
		o.Photos = [][]byte{testenv.NoiseJPEG(64, 48, 1), testenv.NoiseJPEG(48, 64, 2)}
	}
	devPub, devPriv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signedAt := time.Date(2026, 4, 2, 10, 30, 0, 0, time.UTC)
	dk := fieldsync.DeviceKey{ID: fieldsync.DeviceKeyID(devPub), PublicKey: base64.RawURLEncoding.EncodeToString(devPub), AddedAt: signedAt.Add(-time.Hour)}
	r := &fieldsync.Report{ID: o.ReportID, VisitID: "vis-1", TemplateID: "tpl-washer",
		Answers:  fieldsync.Answers{"drum_noise": json.RawMessage(`true`), "error_code": json.RawMessage(`"E21"`)},
		Findings: "Pump seal worn.", Cause: "Foreign object in the drain pump", Responsibility: fieldsync.ResponsibilityCustomerDamage}
	v := &fieldsync.Visit{ID: "vis-1", TicketID: "tkt-1"}
	tk := &fieldsync.Ticket{ID: "tkt-1", AssetID: "ast-1"}
	a := &fieldsync.Asset{ID: "ast-1", Serial: "SN-4711"}
	var photos []bundle.Photo
	var slotted []fieldsync.SlotPhoto
	for i, data := range o.Photos {
		slot := "serial_plate"
		if i > 0 {
			slot = fmt.Sprintf("damage_%d", i)
		}
		h := sha256.Sum256(data)
		p := bundle.Photo{Slot: slot, SHA256: hex.EncodeToString(h[:]), Ext: "jpg", Data: data}
		photos = append(photos, p)
		slotted = append(slotted, fieldsync.SlotPhoto{Slot: p.Slot, SHA256: p.SHA256})
	}
	sigs := map[string][]byte{}
	for role, slot := range map[string]string{bundle.RoleCustomer: fieldsync.SlotSignatureCustomer, bundle.RoleTechnician: fieldsync.SlotSignatureTechnician} {
		strokes := signature.Builtin()
		if role == bundle.RoleTechnician {
			strokes = strokes[:2]
		}
		png, err := signature.Render(strokes, 300, 100)
		if err != nil {
			t.Fatal(err)
		}
		sigs[role] = png
		h := sha256.Sum256(png)
		slotted = append(slotted, fieldsync.SlotPhoto{Slot: slot, SHA256: hex.EncodeToString(h[:])})
	}
	sig := &fieldsync.Signature{CustomerName: "Zoë Müller", SignedAt: signedAt, DeviceID: "dev-7", KeyID: dk.ID}
	signing, err := canon.SigningOf(sig, slotted)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := canon.Build(r, v, tk, a, signing)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := doc.Sum()
	if err != nil {
		t.Fatal(err)
	}
	sig.Hash = hex.EncodeToString(digest[:])
	sig.Value = base64.RawURLEncoding.EncodeToString(ed25519.Sign(devPriv, digest[:]))
	r.Signature, r.SignedPhotos = sig, slotted

	index, _ := s.Log.Size()
	sl, stmt, err := seal.New(r, signedAt.Add(time.Minute), index, s.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := translog.Append(s.Log, stmt); err != nil || got != index {
		t.Fatalf("append = %d, %v", got, err)
	}
	r.Seal = &sl
	out := &Sealed{Report: r, Document: doc, Seal: sl}
	out.Parts = bundle.Parts{Document: doc, Seal: sl, DeviceKey: dk, ServerKeys: JWKS(t, s.Keys...), Photos: photos, Signatures: sigs}
	s.Prove(t, out)
	return out
}

// Prove brings the bundle's head and inclusion proof to the log's size
// now, as a bundle downloaded now would carry.
func (s *Server) Prove(t testing.TB, sd *Sealed) {
	t.Helper()
	sd.Parts.Head, sd.Parts.Size = s.Head(t)
	proof, err := translog.ProveInclusion(s.Log, sd.Seal.LogIndex, sd.Parts.Size)
	if err != nil {
		t.Fatal(err)
	}
	sd.Parts.Inclusion = proof
	if so := sd.Parts.SignOff; so != nil {
		if sd.Parts.SignOffInclusion, err = translog.ProveInclusion(s.Log, so.LogIndex, sd.Parts.Size); err != nil {
			t.Fatal(err)
		}
	}
	if sd.Bundle, err = bundle.New(sd.Parts); err != nil {
		t.Fatal(err)
	}
}

// SignOffOptions shape a customer's sign-off.
type SignOffOptions struct {
	// Refuse, when not empty, is the reason the customer refuses the
	// report instead of signing it off.
	Refuse string
	// ReportID and Hash are of what the customer signs off: by default
	// the sealed report's.
	ReportID, Hash string
	// Key seals the sign-off: by default the server's.
	Key *seal.Key
}

// SignOff has sd's customer sign it off through a share link, drawing
// their signature (or refuse it): the sign-off is sealed with the server
// key, appended to the log, and sd's bundle is proved again with it.
func (s *Server) SignOff(t testing.TB, sd *Sealed, o SignOffOptions) *fieldsync.SignOff {
	t.Helper()
	so := &fieldsync.SignOff{ReportID: cmp.Or(o.ReportID, sd.Seal.ReportID), Hash: cmp.Or(o.Hash, sd.Seal.Hash), Decision: fieldsync.SignOffSigned,
		CustomerName: "Zoë Müller", At: "2026-04-03T08:15:00Z", LinkID: "lnk-1"}
	if o.Refuse != "" {
		so.Decision, so.CustomerName, so.Reason = fieldsync.SignOffRefused, "", o.Refuse
	} else {
		png, err := signature.Render(signature.Builtin()[1:], 600, 200)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(png)
		so.SignatureSHA256 = hex.EncodeToString(h[:])
		sd.Parts.Signatures[bundle.RoleCustomerSignOff] = png
	}
	if err := so.Validate(); err != nil {
		t.Fatal(err)
	}
	key := s.Key
	if o.Key != nil {
		key = *o.Key
	}
	index, _ := s.Log.Size()
	stmt, err := seal.SignOff(so, index, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := translog.Append(s.Log, stmt); err != nil || got != index {
		t.Fatalf("append = %d, %v", got, err)
	}
	sd.Parts.SignOff = so
	s.Prove(t, sd)
	return so
}

// Since adds to sd's bundle the proof that its tree extends the tree of
// old entries.
func (s *Server) Since(t testing.TB, sd *Sealed, old int64) {
	t.Helper()
	p, err := translog.ProveConsistency(s.Log, old, sd.Parts.Size)
	if err != nil {
		t.Fatal(err)
	}
	sd.Parts.Since, sd.Parts.SinceProof = old, p
	var err2 error
	if sd.Bundle, err2 = bundle.New(sd.Parts); err2 != nil {
		t.Fatal(err2)
	}
}
