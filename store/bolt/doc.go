// Package bolt is the server's store on a single bbolt file, the embedded
// default of `fieldsync serve`. Every write is one bbolt transaction (one
// fsync); records are JSON values in buckets named in schema.go, and the
// file records its schema version so that Open can migrate older files.
//
// Start with Open in db.go; each domain has a file of its own (users.go,
// sessions.go).
package bolt
