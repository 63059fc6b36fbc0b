// Package bundle is a sealed report's evidence in one ZIP file, made to
// be checked offline by anyone holding the server's public keys
// (obtained separately, from /.well-known/jwks.json): what the server
// serves at GET /v1/reports/{id}/bundle and `fieldsync verify` checks.
//
// The members, always in this order (those marked optional only when
// the report has them):
//
//	README.txt                         what the bundle is and how to check it (not checked)
//	report.json                        the canonical document (sync/canon), byte for byte as hashed
//	seal.json                          the server's seal (fieldsync.Seal) with its signature
//	device-key.json                    the signing device's public key: a JWK {kty OKP, crv Ed25519,
//	                                   x, kid = RFC 7638 thumbprint} with added_at and retired_at
//	server-keys.json                   the server's JWKS when the bundle was made (informational:
//	                                   verification uses the keys the user holds)
//	log/head.txt                       the transparency log's signed tree head (a signed note)
//	log/inclusion.json                 {index, size, proof}: the seal's statement is entry index
//	                                   of the tree of size entries
//	log/consistency.json               optional {old, new, proof}: the tree of new entries extends
//	                                   the tree of old, for checking against a head saved earlier
//	signoff.json                       optional: the customer's remote sign-off or refusal
//	                                   (fieldsync.SignOff) with the server's signature, of this
//	                                   report's hash, as the server writes it
//	log/signoff-inclusion.json         with signoff.json, and only with it: {index, size, proof},
//	                                   the sign-off's statement is entry index of the same tree
//	photos/<slot>/<sha256>.<ext>       each photo the document names
//	signatures/customer.png            the signature images the document names,
//	signatures/technician.png          each carrying its strokes (media/signature)
//	signatures/<role>.strokes.json     the strokes again as a file, as in the PNG
//	signatures/customer-signoff.png    optional, with a signed (not refused) signoff.json: the
//	signatures/customer-signoff.strokes.json  signature it names, and its strokes
//
// Write gives the same bytes for the same Bundle (fixed order, fixed
// times). Read takes a ZIP from anyone: it bounds the members' number
// and sizes while it decompresses, refuses unsafe or unexpected names
// and duplicates, refuses part of a sign-off without the rest, and never
// writes to disk. Verify checks everything but README.txt and returns one
// finding per check.
package bundle
