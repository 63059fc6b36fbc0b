// Package media receives photo evidence over the tus resumable upload
// protocol, names each photo by its SHA-256, and keeps it in a blob store.
// The protocol's wire terms and the record of an upload in progress are
// in media/tus; images are inspected and thumbnailed by media/photo.
//
// Start with New and Service (service.go): creating, resuming, attaching
// and dropping uploads, and the Store the service needs of the server's
// store. Then, by job:
//
//   - write.go: the write path. Write takes a request's bytes in, checks
//     them, and either keeps them for the next request or completes the
//     upload: the photo is verified, published under its hash and
//     recorded on its report, in one place (complete).
//   - incoming.go: a request body on its way in, spooled to disk and
//     hashed as it arrives.
//   - stream.go: a photo sent whole in one request is stored while it
//     arrives, its last bytes held back until they pass their checks.
//   - checksums.go: an upload's SHA-256 carried from request to request.
//   - reader.go: reading a stored photo or its thumbnail, by ranges.
//   - blobs.go: BlobStore, what the service needs of a blob store, and the
//     keys of objects; localstore (a directory) and s3store (S3 through
//     minio-go) implement it, and blobtest checks an implementation.
//   - thumbs.go: thumbnails, made after an upload by a background worker
//     whose queue the store keeps.
//   - metrics.go: the counters of uploads and thumbnails.
package media
