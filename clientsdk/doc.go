// Package clientsdk is the technician's side of Fieldsync: a local bbolt
// database on the tablet, the work done offline, and its sync with the
// server when the network returns.
//
// Every app method (Visits, Bundle, Arrive, CreateReport, SetAnswer,
// SignReport…) works offline. A write checks itself against what the
// device knows (the visit state machine, the report's template), then
// commits the local change and its outbox entry in one bbolt transaction:
// a crash never leaves one without the other. Reads return the server's
// last state with the pending outbox laid over it (the overlay), computed
// at read time, so a pull rebases it for free.
//
// Sync runs one round of the protocol in docs/sync.md: push the outbox in
// seq order (the server dedupes by seq, so a retry is always safe), move
// what the server refuses to Conflicts, then pull the user's partition
// page by page. Start runs rounds in the background: on start, after local
// changes, when a long-polled pull brings news, and after failures with
// backoff. Tokens are renewed on their own; a revoked device or an ended
// session stops syncing (ErrDeviceRevoked, ErrSignedOut) and keeps every
// byte of local work.
//
// Photos (photos.go, upload.go): AttachPhoto copies a picture into
// <db file>.photos/<sha256> (streamed and hashed, never held whole in
// memory) and, in one transaction, queues it and lists it on its report.
// After the text records of each round, the queue is uploaded by tus in
// chunks of Options.PhotoChunkSize, each with its checksum; the offset the
// server acknowledged is stored after every chunk, so a cut or a restart
// resumes from the server's offset. Bytes the server already has are
// attached, not sent. Each photo goes queued → uploading → verified, or
// failed with the server's code (its file kept); one failing never holds
// up the others, and photos never hold up the text records (Start uploads
// them on a goroutine of their own; Sync's result is the text round's).
//
// Start reading with client.go (Options, Open, and the parts a Client is
// made of), then app.go (what the app calls) and overlay.go (how reads see
// pending work). A sync round is sync.go, which pushes through outbox.go
// and pulls through pull.go; session.go keeps the device signed in;
// loop.go runs rounds in the background; classify.go sorts every error of
// the network once (retry later, refused for good, session ended…).
// Photos are photos.go (the device's copies and queue), upload.go (a
// photo round) and tus.go (the requests, in the terms of media/tus).
// status.go is Status and Events. local.go lists the buckets of the file:
//
//	meta     schema version, device id, install id, seq counter, last HLC, cursor, tokens, user,
//	         sync stats, photo id counter
//	records  entity \x00 id -> {rev, data}: the server's last state (plus, after a push, the
//	         device's own applied changes at the revision the server gave them)
//	outbox   seq (big-endian) -> syncproto.Mutation not yet answered
//	outbox_by_record  entity \x00 id \x00 seq -> empty: the outbox by record, same transactions
//	refused  seq (big-endian) -> Refusal: what the server did not apply, with its code
//	photos   photo id (big-endian) -> the photo queue entry: sha256, report, slot, size, file
//	         name and type, capture time, status, bytes the server acknowledged, upload URL,
//	         error, attempts
//	photos_by_report  report \x00 slot \x00 sha256 -> photo id: a report's photos, same transactions
//
// The network is one small interface, Transport (an *http.Client is one),
// so tests and the app can cut it.
package clientsdk
