// Package chaos is a fault run at fleet scale: the real server binary, real
// SDK clients, and the faults a field fleet meets — connections cut mid-
// request and mid-response, the server killed with SIGKILL and restarted —
// then a check, from the outside, that nothing was lost or applied twice.
//
// Run starts `fieldsync serve` as a child process (server.go) behind a
// loopback proxy that cuts a share of its connections (proxy.go), sets up
// accounts, tickets and visits through the public API (setup.go), and runs
// one clientsdk.Client per device, each on its own bbolt file (fleet.go).
// Devices of the same technician share visits and edit the same draft
// reports offline, step visits and attach photos; they sync now and then
// through the proxy while a killer restarts the server. When the work is
// done and every device has drained its outbox and photo queue, check.go
// compares what the devices were acknowledged with the audit trail, each
// draft field with its last write, each device's records with the
// server's, and each photo in the blob store with its name.
//
// Start reading with Run in chaos.go.
package chaos
