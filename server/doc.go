// Package server is Fieldsync's HTTP API on Echo: the middleware every
// request passes (request id, logs, recovery, limits, gzip, metrics), the
// one error handler that turns any error into application/problem+json,
// and the handlers. routes.go lists every route with the roles it admits;
// openapi.json describes them and a test keeps the two in step.
package server
