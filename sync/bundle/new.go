package bundle

import (
	"encoding/json"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// Parts is what a bundle is made from, as the server holds it.
type Parts struct {
	Document   canon.Document
	Seal       fieldsync.Seal
	DeviceKey  fieldsync.DeviceKey
	ServerKeys []byte // the server's JWKS
	Head       []byte // a signed tree head of Size entries
	Size       int64
	Inclusion  tlog.RecordProof // of Seal.LogIndex in the tree of Size
	// Since, when above 0, is the size of an earlier tree that
	// SinceProof proves the tree of Size extends.
	Since      int64
	SinceProof tlog.TreeProof
	// SignOff, when not nil, is the customer's sealed sign-off or refusal
	// of the report, and SignOffInclusion the proof of its statement
	// (seal.SignOffStatement) at its LogIndex in the tree of Size.
	SignOff          *fieldsync.SignOff
	SignOffInclusion tlog.RecordProof
	// Photos are the evidence photos with their bytes; Signatures the
	// signature images (PNG) by role: the document's, and under
	// RoleCustomerSignOff the one a signed SignOff names.
	Photos     []Photo
	Signatures map[string][]byte
}

// New assembles the bundle of p.
func New(p Parts) (Bundle, error) {
	doc, err := p.Document.Bytes()
	if err != nil {
		return Bundle{}, err
	}
	b := Bundle{Report: doc, Readme: Readme(p.Document, p.Seal, p.SignOff), ServerKeys: p.ServerKeys, Head: p.Head,
		Photos: p.Photos, Signatures: map[string][]byte{}, Strokes: map[string][]byte{}}
	if b.Seal, err = SealJSON(p.Seal); err != nil {
		return Bundle{}, err
	}
	if b.DeviceKey, err = DeviceKeyJSON(p.DeviceKey); err != nil {
		return Bundle{}, err
	}
	if b.Inclusion, err = InclusionJSON(p.Seal.LogIndex, p.Size, p.Inclusion); err != nil {
		return Bundle{}, err
	}
	if p.Since > 0 {
		if b.Consistency, err = ConsistencyJSON(p.Since, p.Size, p.SinceProof); err != nil {
			return Bundle{}, err
		}
	}
	if p.SignOff != nil {
		if b.SignOff, err = SignOffJSON(*p.SignOff); err != nil {
			return Bundle{}, err
		}
		if b.SignOffInclusion, err = InclusionJSON(p.SignOff.LogIndex, p.Size, p.SignOffInclusion); err != nil {
			return Bundle{}, err
		}
	}
	for role, png := range p.Signatures {
		s, err := signature.FromPNG(png)
		if err != nil {
			return Bundle{}, fmt.Errorf("%s signature: %w", role, err)
		}
		b.Signatures[role] = png
		if b.Strokes[role], err = json.Marshal(s); err != nil {
			return Bundle{}, err
		}
	}
	return b, nil
}
