// Package seal is the server's seal on a signed report (fieldsync.Seal):
// the statement it signs and appends to the transparency log, and how
// anyone checks it with the server's public key.
//
// A statement is the seal without its signature, as RFC 8785 JSON (the
// same canonical form as the report's document, sync/canon): the bytes
// the server key signs are the bytes of the log record, so a seal, its
// log entry and `fieldsync verify` cannot disagree about what was sealed.
package seal
