// Package auth signs people and tablets in: argon2id passwords, short-lived
// Ed25519 JWT access tokens (keys in keys.go, published as a JWKS), opaque
// refresh tokens rotated on every use (a reused one revokes its family),
// registered devices an admin can revoke, login throttling, and the Echo
// middleware that authenticates requests and checks roles.
//
// Start with Service in service.go; Issuer (token.go) is what verifies a
// request's token.
package auth
