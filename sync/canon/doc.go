// Package canon is the canonical form of a signed report: the document a
// signature covers (Document), serialized as RFC 8785 JSON (the JSON
// Canonicalization Scheme) and hashed with SHA-256.
//
// The tablet builds it when the customer signs, hashes it and signs the
// hash with its device key; the server rebuilds it from its own records
// and must arrive at the same bytes; `fieldsync verify` and third parties
// read it back from a report's bundle. Both sides call Build with the
// records they hold and the facts of the signing (Signing), so the form
// cannot drift between them. docs/sync.md, "The signed report's canonical
// form", describes it field by field: that section is the contract, and
// testdata/golden.json (and golden_addendum.json, of an addendum) pins it.
package canon
