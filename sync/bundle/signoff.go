package bundle

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/seal"
)

// signOff checks the customer's sign-off, when the bundle holds one: it
// is of this report and of exactly the sealed document, signed by the
// JWKS key its key_id names, in the log of log/head.txt, and, when the
// customer signed, with the image it names and that image's strokes.
func (v *verifier) signOff() {
	if v.b.SignOff == nil {
		for _, name := range []string{NameSignOffInclusion, SignatureName(RoleCustomerSignOff), StrokesName(RoleCustomerSignOff)} {
			if v.has(name) {
				v.fail(name, "part of a sign-off, but the bundle holds no %s", NameSignOff)
			}
		}
		return
	}
	var so fieldsync.SignOff
	if err := exact(v.b.SignOff, &so); err != nil {
		v.fail(NameSignOff, "%v", err)
		return
	}
	if so.Version != fieldsync.SignOffVersion {
		v.fail(NameSignOff, "version %q is not %s", so.Version, fieldsync.SignOffVersion)
		return
	}
	valid := so
	if err := valid.Validate(); err != nil || valid.CustomerName != so.CustomerName || valid.Reason != so.Reason {
		v.fail(NameSignOff, "not a sign-off the server records: %s", detail(err, "untrimmed name or reason"))
		return
	}
	switch {
	case v.doc == nil:
		v.fail(NameSignOff, "cannot be compared with report.json, which is not a document")
		return
	case so.ReportID != v.doc.ReportID:
		v.fail(NameSignOff, "signs off report %s, not report %s of report.json", so.ReportID, v.doc.ReportID)
		return
	case so.Hash != v.hash:
		v.fail(NameSignOff, "the customer %s hash %s, not report.json's %s", did(so), so.Hash, v.hash)
		return
	}
	what := fmt.Sprintf("the customer %q signed off report %s (hash %s) at %s", so.CustomerName, so.ReportID, short(so.Hash), so.At)
	if so.Decision == fieldsync.SignOffRefused {
		what = fmt.Sprintf("the customer refused report %s (hash %s) at %s: %q", so.ReportID, short(so.Hash), so.At, so.Reason)
	}
	v.pass(NameSignOff, "%s, through link %s", what, so.LinkID)
	v.signOffSignature(so)
	v.signOffInclusion(so)
	if so.Decision == fieldsync.SignOffRefused {
		for _, name := range []string{SignatureName(RoleCustomerSignOff), StrokesName(RoleCustomerSignOff)} {
			if v.has(name) {
				v.fail(name, "the customer refused, and a refusal carries no signature")
			}
		}
		return
	}
	v.signatureImage(RoleCustomerSignOff, so.SignatureSHA256)
}

func (v *verifier) has(name string) bool {
	switch name {
	case NameSignOffInclusion:
		return v.b.SignOffInclusion != nil
	case SignatureName(RoleCustomerSignOff):
		_, ok := v.b.Signatures[RoleCustomerSignOff]
		return ok
	case StrokesName(RoleCustomerSignOff):
		_, ok := v.b.Strokes[RoleCustomerSignOff]
		return ok
	}
	return false
}

func did(so fieldsync.SignOff) string {
	if so.Decision == fieldsync.SignOffRefused {
		return "refused"
	}
	return "signed off"
}

// detail is a fieldsync.Error's detail, or alt without an error.
func detail(err error, alt string) string {
	if err == nil {
		return alt
	}
	return fieldsync.ErrorDetail(err)
}

func (v *verifier) signOffSignature(so fieldsync.SignOff) {
	pub, ok := v.keys[so.KeyID]
	if !ok {
		v.fail(NameSignOff, "signed by key kid %s, which the keys file does not hold (it holds %s)", so.KeyID, strings.Join(v.kids, ", "))
		return
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(so.Signature)
	if err == nil {
		err = seal.VerifySignOff(so, pub)
	}
	if err != nil {
		v.fail(NameSignOff, "signature invalid for key kid %s", so.KeyID)
		return
	}
	v.pass(NameSignOff, "signed by server key %s", so.KeyID)
}

func (v *verifier) signOffInclusion(so fieldsync.SignOff) {
	if v.b.SignOffInclusion == nil {
		v.fail(NameSignOffInclusion, "missing from the bundle, which holds %s", NameSignOff)
		return
	}
	stmt, _ := seal.SignOffStatement(so)
	v.entry("sign-off inclusion", NameSignOffInclusion, v.b.SignOffInclusion, "sign-off", so.LogIndex, stmt)
}
