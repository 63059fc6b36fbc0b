package bundle

import (
	"archive/zip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
)

// Member names.
const (
	NameReadme      = "README.txt"
	NameReport      = "report.json"
	NameSeal        = "seal.json"
	NameDeviceKey   = "device-key.json"
	NameServerKeys  = "server-keys.json"
	NameHead        = "log/head.txt"
	NameInclusion   = "log/inclusion.json"
	NameConsistency = "log/consistency.json"
	// The customer's remote sign-off (or refusal), when the report has
	// one: all or none of signoff.json and its inclusion proof.
	NameSignOff          = "signoff.json"
	NameSignOffInclusion = "log/signoff-inclusion.json"
)

// Signature roles, as in signatures/<role>.png.
const (
	RoleCustomer   = "customer"
	RoleTechnician = "technician"
	// RoleCustomerSignOff is the signature the customer drew when signing
	// the report off through a share link: signoff.json names it.
	RoleCustomerSignOff = "customer-signoff"
)

// roles are the signature roles in the order Write stores them.
var roles = []string{RoleCustomer, RoleTechnician, RoleCustomerSignOff}

// Bundle is a bundle's members, their bytes as stored.
type Bundle struct {
	Readme     []byte
	Report     []byte // canonical document
	Seal       []byte // fieldsync.Seal as JSON (SealJSON)
	DeviceKey  []byte // DeviceKeyJSON
	ServerKeys []byte // the server's JWKS
	Head       []byte // signed tree head note
	Inclusion  []byte // InclusionJSON
	// Consistency is nil unless the bundle was asked for with a size to
	// prove consistency from (ConsistencyJSON).
	Consistency []byte
	// SignOff is nil unless the report's customer signed it off or
	// refused it through a share link (SignOffJSON); SignOffInclusion is
	// then the proof of its statement in the tree of Head (InclusionJSON).
	SignOff          []byte
	SignOffInclusion []byte
	Photos           []Photo
	// Signatures holds the signature images by role; Strokes their
	// strokes files (JSON of the strokes the PNG carries).
	Signatures map[string][]byte
	Strokes    map[string][]byte
}

// Photo is one photo member: photos/<Slot>/<SHA256>.<Ext>.
type Photo struct {
	Slot   string
	SHA256 string // as the document names it
	Ext    string // jpg, png, webp, heic
	Data   []byte
	// Open, when Data is nil, streams the bytes to Write, so a server
	// need not hold a report's photos in memory. Read fills Data.
	Open func() (io.ReadCloser, error)
}

// Name returns the photo's member name.
func (p Photo) Name() string { return "photos/" + p.Slot + "/" + p.SHA256 + "." + p.Ext }

// Ext returns the file extension of a photo's media type, "bin" for one
// the server does not take.
func Ext(mediaType string) string {
	switch mediaType {
	case "image/jpeg":
		return "jpg"
	case "image/png":
		return "png"
	case "image/webp":
		return "webp"
	case "image/heic":
		return "heic"
	}
	return "bin"
}

var exts = []string{"jpg", "png", "webp", "heic", "bin"}

// SignatureName and StrokesName are the members of role's signature.
func SignatureName(role string) string { return "signatures/" + role + ".png" }
func StrokesName(role string) string   { return "signatures/" + role + ".strokes.json" }

// DeviceKey is device-key.json: the device's public key as an RFC 8037
// JWK, named by its RFC 7638 thumbprint, with when the server registered
// and retired it.
type DeviceKey struct {
	Kty       string     `json:"kty"`
	Crv       string     `json:"crv"`
	X         string     `json:"x"`
	Kid       string     `json:"kid"`
	AddedAt   time.Time  `json:"added_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// DeviceKeyJSON returns device-key.json of k.
func DeviceKeyJSON(k fieldsync.DeviceKey) ([]byte, error) {
	return marshal(DeviceKey{Kty: "OKP", Crv: "Ed25519", X: k.PublicKey, Kid: k.ID, AddedAt: k.AddedAt.UTC(), RetiredAt: utc(k.RetiredAt)})
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// SealJSON returns seal.json of s.
func SealJSON(s fieldsync.Seal) ([]byte, error) { return marshal(s) }

// SignOffJSON returns signoff.json of s: the sign-off with its server
// signature, as the server writes it.
func SignOffJSON(s fieldsync.SignOff) ([]byte, error) { return marshal(s) }

// Inclusion is log/inclusion.json: the log's entry Index is in the tree of
// Size entries. Hashes are standard base64 (tlog.Hash's JSON), as GET
// /v1/log/proof/inclusion answers them.
type Inclusion struct {
	Index int64       `json:"index"`
	Size  int64       `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// Consistency is log/consistency.json: the tree of New entries extends
// the tree of Old entries, as GET /v1/log/proof/consistency answers.
type Consistency struct {
	Old   int64       `json:"old"`
	New   int64       `json:"new"`
	Proof []tlog.Hash `json:"proof"`
}

// InclusionJSON and ConsistencyJSON return the members' bytes.
func InclusionJSON(index, size int64, p tlog.RecordProof) ([]byte, error) {
	return marshal(Inclusion{Index: index, Size: size, Proof: nonNil(p)})
}

func ConsistencyJSON(old, new int64, p tlog.TreeProof) ([]byte, error) {
	return marshal(Consistency{Old: old, New: new, Proof: nonNil(p)})
}

func nonNil(p []tlog.Hash) []tlog.Hash {
	if p == nil {
		return []tlog.Hash{}
	}
	return p
}

// JWK is one key of a JWKS, as the server publishes it.
type JWK = auth.JWK

// JWKS is a JSON Web Key Set of Ed25519 keys.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// Thumbprint returns the RFC 7638 thumbprint of an Ed25519 key's JWK:
// the kid of the server's keys and the id of a device's.
func Thumbprint(pub ed25519.PublicKey) string { return fieldsync.DeviceKeyID(pub) }

// publicKey decodes a JWK's x.
func publicKey(x string) (ed25519.PublicKey, error) {
	// Strict: bits past the key's last byte must be zero, so one key has
	// one spelling and a changed character never decodes to the same key.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(x)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("x is not an Ed25519 public key (32 bytes, base64url without padding)")
	}
	return ed25519.PublicKey(raw), nil
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// modified is every member's time: a bundle's bytes depend only on its
// contents.
var modified = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// member is one file to write: its bytes, or how to open them.
type member struct {
	name string
	data []byte
	open func() (io.ReadCloser, error)
}

// members lists b's files in the order Write stores them.
func (b *Bundle) members() []member {
	out := []member{{name: NameReadme, data: b.Readme}, {name: NameReport, data: b.Report}, {name: NameSeal, data: b.Seal},
		{name: NameDeviceKey, data: b.DeviceKey}, {name: NameServerKeys, data: b.ServerKeys}, {name: NameHead, data: b.Head},
		{name: NameInclusion, data: b.Inclusion}}
	if b.Consistency != nil {
		out = append(out, member{name: NameConsistency, data: b.Consistency})
	}
	if b.SignOff != nil {
		out = append(out, member{name: NameSignOff, data: b.SignOff})
	}
	if b.SignOffInclusion != nil {
		out = append(out, member{name: NameSignOffInclusion, data: b.SignOffInclusion})
	}
	photos := slices.Clone(b.Photos)
	slices.SortFunc(photos, func(x, y Photo) int { return strings.Compare(x.Name(), y.Name()) })
	for _, p := range photos {
		m := member{name: p.Name(), data: p.Data}
		if p.Data == nil {
			m.open = p.Open
		}
		out = append(out, m)
	}
	for _, role := range roles {
		if png, ok := b.Signatures[role]; ok {
			out = append(out, member{name: SignatureName(role), data: png})
		}
		if s, ok := b.Strokes[role]; ok {
			out = append(out, member{name: StrokesName(role), data: s})
		}
	}
	return out
}

// Write writes b as a ZIP to w. Photos and images, already compressed,
// are stored; the rest is deflated. The same b gives the same bytes.
func Write(w io.Writer, b Bundle) error {
	zw := zip.NewWriter(w)
	for _, m := range b.members() {
		if err := checkName(m.name); err != nil {
			return err
		}
		method := zip.Deflate
		if strings.HasPrefix(m.name, "photos/") || strings.HasSuffix(m.name, ".png") {
			method = zip.Store
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method, Modified: modified})
		if err != nil {
			return err
		}
		if err := m.write(f); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return zw.Close()
}

func (m member) write(w io.Writer) error {
	if m.open == nil {
		_, err := w.Write(m.data)
		return err
	}
	r, err := m.open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// sum is the lower-case hex SHA-256 of b.
func sum(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:])
}
