// Package testenv starts the real external services fieldsync depends on,
// so tests exercise the same wire protocol production does instead of a
// hand-written fake that can drift from it.
//
// Today that is MinIO: [MinIO] runs a private `minio server` for one test
// and returns its address, credentials and a ready client. The binary is
// built by scripts/test.sh, which is how tests are meant to be run; a plain
// `go test` outside CI skips such tests when the binary is missing, while
// CI (CI=true) fails them, so a misconfigured pipeline cannot go green by
// skipping everything.
package testenv
