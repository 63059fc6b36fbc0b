package bundle

import (
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// Readme returns README.txt for the bundle of document d sealed by s and,
// when so is not nil, signed off or refused by its customer with so.
func Readme(d canon.Document, s fieldsync.Seal, so *fieldsync.SignOff) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `Fieldsync report bundle

This ZIP file is the evidence of service report %s (visit %s, ticket %s,
asset %s), signed on device %s at %s`, d.ReportID, d.VisitID, d.TicketID, d.AssetID, d.DeviceID, d.SignedAt)
	if d.CustomerName != "" {
		fmt.Fprintf(&b, ` by the customer %q`, d.CustomerName)
	}
	fmt.Fprintf(&b, `,
and sealed by the Fieldsync server with its key %s at %s.
`, s.KeyID, s.SealedAt)
	switch {
	case so == nil:
	case so.Decision == fieldsync.SignOffRefused:
		fmt.Fprintf(&b, `
The customer refused to sign it off through a share link at %s
(server key %s, log entry %d), saying: %q
`, so.At, so.KeyID, so.LogIndex, so.Reason)
	default:
		fmt.Fprintf(&b, `
The customer %q signed it off through a share link at %s
(server key %s, log entry %d).
`, so.CustomerName, so.At, so.KeyID, so.LogIndex)
	}
	b.WriteString(`
How to check it, offline:

  1. Get the server's public keys yourself, not from this bundle:
     save https://<server>/.well-known/jwks.json as JWKS.json.
  2. Run:  fieldsync verify --keys JWKS.json BUNDLE.zip
     It exits 0 only when every check holds, and otherwise names what
     does not match. With --head HEAD.txt (a tree head you saved earlier
     from https://<server>/v1/log/head) it also checks that the log grew
     only by appending since then.

What each file is:

  report.json            the signed report as a canonical document (RFC 8785
                         JSON); its SHA-256 is what the device signed
  seal.json              the server's seal: report id, hash, device signature,
                         time, log index, signed with the server key key_id
  device-key.json        the signing tablet's public key (JWK); kid is its
                         RFC 7638 thumbprint
  server-keys.json       the server's keys when this bundle was made, for
                         information only: check with keys you got yourself
  log/head.txt           the transparency log's signed tree head
  log/inclusion.json     proof that the seal is entry log_index of that log
  log/consistency.json   (when present) proof that this head extends an
                         earlier one
  signoff.json           (when present) the customer's later sign-off or
                         refusal of exactly this report (its hash), sealed
                         with the server key key_id
  log/signoff-inclusion.json  proof that the sign-off is entry log_index of
                         the same log
  photos/<slot>/<sha256>.<ext>   each photo; its name is its SHA-256
  signatures/<role>.png          the customer's and technician's signatures
  signatures/<role>.strokes.json the pen strokes each signature was drawn from
  signatures/customer-signoff.png (and .strokes.json) the signature the
                         customer drew to sign off, named in signoff.json

This README is not evidence and is not checked.
`)
	return []byte(b.String())
}
