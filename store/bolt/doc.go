// Package bolt is the server's store on a single bbolt file, the embedded
// default of `fieldsync serve`. Every write is one bbolt transaction (one
// fsync); records are JSON values in buckets named in schema.go, and the
// file records its schema version so that Open can migrate older files.
//
// Start with Open in db.go. Each kind of record has a file of its own
// (users.go, sessions.go, customers.go, sites.go, assets.go, tickets.go,
// visits.go, reports.go, media.go). They share one way to write a record
// (records.go), the audit trail (audit.go), index keys (keys.go) and paged
// listings (page.go). feed.go keeps the sync feed that pulls read,
// push.go is a push batch's transaction, load.go writes many records
// in one, and backup.go copies the file out while writes go on.
package bolt
