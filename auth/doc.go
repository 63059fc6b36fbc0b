// Package auth signs people and tablets in and tells who a request acts
// for. It knows no HTTP: the server's middleware reads the Authorization
// header and calls Authenticate.
//
//   - service.go: Service, the entry point: users, login, refresh (opaque
//     refresh tokens rotated on every use; a reused one revokes its
//     family) and logout.
//   - password.go: argon2id password hashes.
//   - token.go: Issuer, which signs and verifies the short-lived Ed25519
//     JWT access tokens.
//   - keys.go: the signing keys on disk and the JWKS that publishes them.
//   - principal.go: Principal and Authenticate, which admits a token only
//     while its device is registered to its user and not revoked.
//   - throttle.go: Throttle, which slows password guessing per login and
//     per client address.
//
// The request and answer bodies of the sign-in endpoints are in
// auth/authproto, which the client SDK imports too.
package auth
