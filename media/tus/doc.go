// Package tus is the tus 1.0.0 resumable upload protocol
// (https://tus.io/protocols/resumable-upload) as Fieldsync speaks it,
// written once for the server and the client SDK: the version, the
// extensions, the path, the header names and the metadata keys
// (protocol.go), the Upload-Metadata codec (metadata.go) and the
// Upload-Checksum header (checksum.go). It also holds the record of an
// upload in progress (upload.go), so that the server's store keeps it
// without linking the media service and its image decoders.
//
// The package is pure: it imports the standard library and the domain
// package only, and does no I/O.
package tus
