// Package fieldsync is the domain of after-sales field service: the records
// (users and devices, customers, sites, assets, tickets, visits, inspection
// reports and their photos), the rules that govern them, and the error codes
// the API promises. It performs no I/O and imports no framework; the outer
// packages store these types (store/bolt), serve them (server), sync them
// (sync) and keep them on a tablet (clientsdk). A rule the tablet and the
// server both apply is written here, once.
//
// A map of the package:
//
//   - error.go: Error, the one application error, and every stable code.
//   - user.go: the four roles, accounts, devices and refresh tokens.
//   - customer.go, ticket.go: who called, where, about which product, and
//     the ticket that records it.
//   - visit.go: a technician's visit, its state machine and its window.
//   - report.go: the inspection report (鉴定单): how fields are edited and
//     merged, and what signing needs.
//   - template.go: report templates: the checklist, its answers, photo slots.
//   - photo.go: a photo attached to a report.
//   - audit.go, context.go: who changed what (the actor of a request).
//   - entity.go: the names of the kinds of record.
//
// Start with error.go, then visit.go and report.go.
package fieldsync
