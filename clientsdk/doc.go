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
// byte of unsynced work.
//
// The file is sealed at rest (vault.go): Options.Key (KeySize bytes from
// the platform's keystore) is required, and every value that can hold
// personal data or a credential — records, outbox, refused work, the photo
// queue, and meta's tokens, user, role and cursor — is XChaCha20-Poly1305
// with a fresh random nonce and its bucket and key as associated data.
// The bbolt keys stay in clear: entity names, record ids (UUIDs), seqs,
// photo ids, and a photo index's report id, slot and hash; so do meta's
// counters and stamps and the photo files (the platform's file encryption
// covers those). Another key fails Open with ErrWrongKey; a file an older
// SDK wrote in clear is sealed in one transaction on its first open with a
// key, then rewritten so no freed page keeps the clear values. A revoked
// device (revoke.go), on the server's first device_revoked answer, deletes
// every record, the verified photos and its tokens in the transaction that
// stops syncing (and rewrites the file on the next Open); the outbox,
// refused work and photos not uploaded stay, and ExportPending writes them
// as JSON for a dispatcher.
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
// and pulls through pull.go; sign.go signs a report with the device key
// (devicekey.go); session.go keeps the device signed in;
// loop.go runs rounds in the background; classify.go sorts every error of
// the network once (retry later, refused for good, session ended…).
// Photos are photos.go (the device's copies and queue), upload.go (a
// photo round) and tus.go (the requests, in the terms of media/tus).
// status.go is Status and Events; vault.go seals the values, revoke.go is
// what a revoked device forgets and keeps. local.go lists the buckets of
// the file (sealed: every value of records, outbox, refused and photos,
// and meta's tokens, user, role and cursor):
//
//	meta     schema version, device id, install id, seq counter, last HLC, cursor, tokens, user,
//	         sync stats, photo id counter, the key check, a rewrite request
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
