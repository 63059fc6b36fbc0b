package server

import (
	"github.com/fieldsync/fieldsync/auth"
)

// routes lists every route the server answers, with the roles it admits.
// openapi.json describes exactly these (TestOpenAPIMatchesRoutes).
func (s *Server) routes() {
	e := s.echo
	authn := auth.Authenticate(s.deps.Issuer, s.deps.Store)
	admin := auth.Require(roleAdmin)
	staff := auth.Require(roleAdmin, roleDispatcher)

	// Operations and discovery: public.
	e.GET("/healthz", s.handleHealth())
	e.GET("/readyz", s.handleReady())
	e.GET("/metrics", s.handleMetrics())
	e.GET("/openapi.json", s.handleOpenAPI())
	e.GET("/.well-known/jwks.json", s.handleJWKS())

	// Sessions: the credentials are the body.
	e.POST("/v1/auth/login", s.handleLogin())
	e.POST("/v1/auth/refresh", s.handleRefresh())
	e.POST("/v1/auth/logout", s.handleLogout())

	// Everything else needs an access token. Middleware is named per route,
	// not on a group, so an unknown path is a 404, never a 401.
	e.GET("/v1/me", s.handleMe(), authn)
	e.GET("/v1/users", s.handleListUsers(), authn, staff)
	e.POST("/v1/users", s.handleCreateUser(), authn, admin)
	e.GET("/v1/devices", s.handleListDevices(), authn, admin)
	e.POST("/v1/devices/:id/revoke", s.handleRevokeDevice(), authn, admin)
}
