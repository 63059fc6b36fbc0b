// Package syncproto is Fieldsync's offline-first sync protocol, shared by
// the server and the client SDK: the wire types of push and pull
// (protocol.go), the hybrid logical clock that orders edits from devices
// (hlc.go), and the push engine (engine.go), which applies a device's
// mutations exactly once, in seq order, in one store transaction, merging
// report drafts field by field with the domain's rules
// (fieldsync.Report.SetFields) under the clock of each field.
//
// The folder is sync/ but the package is named syncproto, so that it never
// shadows the standard library's sync: importers use it as syncproto.
// docs/sync.md describes the protocol for client authors.
package syncproto
