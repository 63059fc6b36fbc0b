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

	v1 := e.Group("/v1", authn)
	v1.GET("/me", s.handleMe())
	v1.GET("/users", s.handleListUsers(), staff)
	v1.POST("/users", s.handleCreateUser(), admin)
	v1.GET("/devices", s.handleListDevices(), admin)
	v1.POST("/devices/:id/revoke", s.handleRevokeDevice(), admin)
}
