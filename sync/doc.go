// Package syncproto is Fieldsync's offline-first sync protocol: the wire
// types of push and pull (protocol.go), the hybrid logical clock that
// orders edits from devices (hlc.go), and the rules that merge a device's
// mutations into server records (merge.go).
//
// The folder is sync/ but the package is named syncproto, so that it never
// shadows the standard library's sync: importers use it as syncproto.
package syncproto
