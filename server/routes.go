package server

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/fieldsync/fieldsync"
)

const pushPath = "/v1/sync/push"

// routes lists every route the server answers, with the roles it admits.
// openapi.json describes exactly these (TestOpenAPIMatchesRoutes).
func (s *Server) routes() {
	e := s.echo
	authn := authenticate(s.deps.Issuer, s.deps.Store)
	admin := require(roleAdmin)
	staff := require(roleAdmin, roleDispatcher)

	// Operations and discovery: public. Metrics are not here: see Metrics.
	e.GET("/healthz", s.handleHealth())
	e.GET("/readyz", s.handleReady())
	e.GET("/openapi.json", s.handleOpenAPI())
	e.GET("/.well-known/jwks.json", s.handleJWKS())
	e.GET("/v1/log/head", s.handleLogHead())
	e.GET("/v1/log/proof/inclusion", s.handleInclusionProof())
	e.GET("/v1/log/proof/consistency", s.handleConsistencyProof())
	e.GET("/v1/log/records/:index", s.handleLogRecord())

	// Sessions: the credentials are the body.
	e.POST("/v1/auth/login", s.handleLogin())
	e.POST("/v1/auth/refresh", s.handleRefresh())
	e.POST("/v1/auth/logout", s.handleLogout())

	// Everything else needs an access token. Middleware is named per route,
	// not on a group, so an unknown path is a 404, never a 401.
	e.GET("/v1/me", s.handleMe(), authn)
	e.GET("/v1/users", s.handleListUsers(), authn, staff)
	e.POST("/v1/users", s.handleCreateUser(), authn, admin)
	e.POST("/v1/me/password", s.handleChangePassword(), authn)
	e.POST("/v1/users/:id/password", s.handleResetPassword(), authn, admin)
	e.POST("/v1/users/:id/disable", s.handleDisableUser(), authn, admin)
	e.POST("/v1/users/:id/enable", s.handleEnableUser(), authn, admin)
	e.GET("/v1/devices", s.handleListDevices(), authn, admin)
	e.POST("/v1/devices/:id/revoke", s.handleRevokeDevice(), authn, admin)

	// The after-sales domain. Reads that customers or technicians may make
	// check fieldsync.Viewer.Sees (server/visibility.go); the roles here
	// are the outer fence.
	e.POST("/v1/customers", s.handleCreateCustomer(), authn, staff)
	e.GET("/v1/customers", s.handleListCustomers(), authn, staff)
	e.GET("/v1/customers/:id", s.handleGetCustomer(), authn, staffOr(roleCustomer))
	e.POST("/v1/sites", s.handleCreateSite(), authn, staff)
	e.GET("/v1/sites", s.handleListSites(), authn, staff)
	e.GET("/v1/sites/:id", s.handleGetSite(), authn, staff)
	e.POST("/v1/assets", s.handleCreateAsset(), authn, staff)
	e.GET("/v1/assets", s.handleListAssets(), authn, staff)
	e.GET("/v1/assets/:id", s.handleGetAsset(), authn, staff)
	e.POST("/v1/tickets", s.handleCreateTicket(), authn, staff)
	e.GET("/v1/tickets", s.handleListTickets(), authn, staffOr(roleCustomer))
	e.GET("/v1/tickets/:id", s.handleGetTicket(), authn, staffOr(roleCustomer))
	e.POST("/v1/tickets/:id/contact", s.handleContactTicket(), authn, staff)
	e.POST("/v1/tickets/:id/close", s.handleTicketStep(fieldsync.TicketClose), authn, staff)
	e.POST("/v1/tickets/:id/cancel", s.handleTicketStep(fieldsync.TicketCancel), authn, staff)
	e.POST("/v1/tickets/:id/reopen", s.handleTicketStep(fieldsync.TicketReopen), authn, staff)
	e.PATCH("/v1/customers/:id", s.handleEditCustomer(), authn, staff)
	e.PATCH("/v1/sites/:id", s.handleEditSite(), authn, staff)
	e.PATCH("/v1/assets/:id", s.handleEditAsset(), authn, staff)
	e.PATCH("/v1/tickets/:id", s.handleEditTicket(), authn, staff)
	e.PATCH("/v1/visits/:id", s.handleEditVisit(), authn, staff)
	e.POST("/v1/visits", s.handleCreateVisit(), authn, staff)
	e.GET("/v1/visits", s.handleListVisits(), authn)
	e.GET("/v1/visits/:id", s.handleGetVisit(), authn)
	e.POST("/v1/visits/:id/assign", s.handleAssignVisit(), authn, staff)
	e.POST("/v1/visits/:id/cancel", s.handleCancelVisit(), authn, staff)
	e.GET("/v1/second-visits", s.handleListSecondVisits(), authn, staff)
	e.GET("/v1/reports", s.handleListReports(), authn, staffOr(roleCustomer))
	e.GET("/v1/reports/:id", s.handleGetReport(), authn)
	e.GET(bundlePath, s.withMedia(s.handleReportBundle()), authn)
	e.GET("/v1/templates", s.handleListTemplates(), authn)
	e.GET("/v1/templates/:id", s.handleGetTemplate(), authn)
	e.GET("/v1/audit", s.handleAudit(), authn, admin)
	e.POST("/v1/warranty/decide", s.handleWarrantyDecide(), authn, staffOr(roleTechnician))
	e.POST("/v1/reports/:id/warranty/settle", s.handleSettleWarranty(), authn, staff)
	e.GET(backupPath, s.handleBackup(), authn, admin)

	// Sync: technicians push their offline work; they and staff pull.
	e.POST(pushPath, s.handlePush(), middleware.BodyLimit(byteSize(PushBodyLimit)), authn, require(roleTechnician))
	e.GET("/v1/sync/pull", s.handlePull(), authn, staffOr(roleTechnician))

	// Photos: technicians upload by tus; whoever may see a report sees its
	// photos (checked in the handler).
	e.OPTIONS(uploadsPath, s.withMedia(s.handleTusOptions()))
	e.POST(uploadsPath, s.withMedia(s.handleTusCreate()), authn, require(roleTechnician))
	e.HEAD(uploadsPath+"/:id", s.withMedia(s.handleTusHead()), authn, require(roleTechnician))
	e.PATCH(uploadsPath+"/:id", s.withMedia(s.handleTusPatch()), authn, require(roleTechnician))
	e.DELETE(uploadsPath+"/:id", s.withMedia(s.handleTusDelete()), authn, require(roleTechnician))
	e.HEAD("/v1/media/:sha", s.withMedia(s.handlePhotoHead()), authn)
	e.GET("/v1/media/:sha", s.withMedia(s.handlePhotoGet()), authn)
	e.POST("/v1/media/:sha/attach", s.withMedia(s.handlePhotoAttach()), authn, require(roleTechnician))

	// Share links: staff and the report's technician (checked in the
	// handler) make and revoke them; whoever holds a link's token reads
	// its report and signs it off, without an account, within a per-peer
	// rate (handlers_links.go).
	e.POST("/v1/reports/:id/links", s.handleCreateLink(), authn, staffOr(roleTechnician))
	e.GET("/v1/reports/:id/links", s.handleListLinks(), authn, staffOr(roleTechnician))
	e.DELETE("/v1/reports/:id/links/:link_id", s.handleRevokeLink(), authn, staffOr(roleTechnician))
	shared := s.sharedLimit()
	e.GET(sharedPrefix+":token", s.handleShared(), shared)
	e.POST(sharedPrefix+":token/sign", s.handleSharedSign(), shared)
	e.GET(sharedMediaPath, s.withMedia(s.handleSharedPhoto(false)), shared)
	e.HEAD(sharedMediaPath, s.withMedia(s.handleSharedPhoto(true)), shared)
	e.GET(sharedBundlePath, s.handleSharedBundle(), shared)
	e.POST(sharedPrefix+":token/followup", s.handleSharedFollowUp(), shared)
	// The customer's report page at the link, and the pages' assets
	// (handlers_pages.go): HTML, not API operations.
	e.GET(pagePrefix+":token", s.handleReportPage(), shared)
	e.GET(staticPath, s.handleStatic())

	// Follow-ups: staff read them all and record phone answers; a
	// customer reads and answers their own (checked in the handler).
	e.GET("/v1/followups", s.handleListFollowUps(), authn, staffOr(roleCustomer))
	e.GET("/v1/followups/:id", s.handleGetFollowUp(), authn, staffOr(roleCustomer))
	e.POST("/v1/followups/:id/answer", s.handleAnswerFollowUp(), authn, staffOr(roleCustomer))
	e.POST("/v1/followups/:id/close", s.handleCloseFollowUp(), authn, staff)
	// Work orders and certificates: staff read them all, a customer
	// those of their own tickets and assets (checked in the handlers).
	e.GET("/v1/workorders", s.handleListWorkOrders(), authn, staffOr(roleCustomer))
	e.GET("/v1/workorders/:id", s.handleGetWorkOrder(), authn, staffOr(roleCustomer))
	e.GET("/v1/assets/:id/certificates", s.handleAssetCertificates(), authn, staffOr(roleCustomer))
	// Complaints: a ticket's customer or staff open one; staff work it,
	// its customer reads it (checked in the handlers).
	e.POST("/v1/tickets/:id/complaints", s.handleOpenComplaint(), authn, staffOr(roleCustomer))
	e.GET("/v1/complaints", s.handleListComplaints(), authn, staffOr(roleCustomer))
	e.GET("/v1/complaints/:id", s.handleGetComplaint(), authn, staffOr(roleCustomer))
	e.POST("/v1/complaints/:id/contact", s.handleComplaintStep(fieldsync.ComplaintContact), authn, staff)
	e.POST("/v1/complaints/:id/propose", s.handleComplaintStep(fieldsync.ComplaintPropose), authn, staff)
	e.POST("/v1/complaints/:id/close", s.handleComplaintStep(fieldsync.ComplaintClose), authn, staff)
	e.POST("/v1/complaints/:id/escalate", s.handleComplaintStep(fieldsync.ComplaintEscalate), authn, staff)
	// Pick-ups and appraisal slips: the dispatcher's lists; a customer
	// reads those of their own tickets (checked in the handler).
	e.GET("/v1/pickups", s.handleListPickups(), authn, staff)
	e.GET("/v1/pickups/:id", s.handleGetPickup(), authn, staffOr(roleCustomer))

	// The staff's browser sessions (session.go): outside /v1 and
	// openapi.json, for the dispatcher's pages. webSession admits admins
	// and dispatchers only and checks CSRF on every state change.
	e.POST("/dispatch/login", s.handleWebLogin())
	e.POST("/dispatch/logout", s.handleWebLogout(), s.webSession)
	e.GET("/dispatch/session", s.handleWebSession(), s.webSession)
	e.GET(eventsPath, s.handleEvents(), s.webSession)
}

// staffOr admits admins, dispatchers and one more role.
func staffOr(r fieldsync.Role) echo.MiddlewareFunc {
	return require(roleAdmin, roleDispatcher, r)
}
