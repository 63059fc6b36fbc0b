// Package server is Fieldsync's HTTP API on Echo: the middleware every
// request passes (request id, logs, recovery, limits, gzip, metrics), the
// one error handler that turns any error into application/problem+json,
// and the handlers. Handlers decode, check who may act, call the domain,
// the store or a service, and encode; the rules live in those.
//
// Start with routes.go, which lists every route with the roles it admits;
// openapi.json describes them and a test keeps the two in step. Then:
// server.go (New, Deps and the Store the server declares), problem.go
// (errors to HTTP), authn.go (the bearer token and roles), json.go and
// request.go (bodies and query parameters), page.go (list answers),
// sla.go (deadlines as the API shows them), metrics.go, and the handlers
// by noun: handlers_auth.go, handlers_users.go, handlers_customers.go,
// handlers_tickets.go, handlers_visits.go, handlers_templates.go,
// handlers_audit.go, handlers_sync.go, handlers_media.go and
// handlers_ops.go.
package server
