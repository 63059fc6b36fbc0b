// Package media receives photo evidence: the tus 1.0 resumable upload
// protocol (tus.go), content addressing by SHA-256, and the blob stores
// behind it (blobs.go declares what it needs; localstore and s3store
// implement it). Images are inspected and thumbnailed by media/photo;
// thumbnails are made after an upload, by a background worker whose queue
// the store keeps (thumbs.go).
package media
