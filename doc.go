// Package fieldsync holds the domain of after-sales field service: the
// nouns (users, devices, and later tickets, visits and reports), the rules
// that govern them, the error codes the API promises, and the interfaces
// the outer packages implement. It performs no I/O; storage lives in
// store/bolt, HTTP in server, tokens in auth.
//
// Start with error.go (the stable error codes) and user.go (the four roles).
package fieldsync
