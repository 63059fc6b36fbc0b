// Package authproto holds the wire types of the sign-in endpoints (login,
// refresh, logout), shared by the server and the client SDK so that each
// is written once. It imports only the standard library and the domain
// package, so the SDK takes none of the server's dependencies with it.
//
// Everything is in protocol.go; openapi.json in server/ documents the same
// bodies.
package authproto
