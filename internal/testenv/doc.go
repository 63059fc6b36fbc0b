// Package testenv holds what the tests of several packages share. It
// imports no fieldsync package, so that any package's tests can use it.
//
//   - minio.go starts the real external services fieldsync depends on, so
//     tests exercise the same wire protocol production does instead of a
//     hand-written fake that can drift from it: [MinIO] runs a private
//     `minio server` for one test and returns its address, credentials and
//     a ready client. node.go finds node and the JavaScript clients the
//     tests drive ([Node]). Both are installed by scripts/test.sh, which is
//     how tests are meant to be run; a plain `go test` outside CI skips
//     such tests when they are missing, while CI (CI=true) fails them, so
//     a misconfigured pipeline cannot go green by skipping everything.
//   - buffer.go: [Buffer], a log a server or worker writes while the test
//     reads it.
//   - crash.go: [KillWriter] runs a test binary's writer helper as a real
//     process and kills it with SIGKILL after some acknowledged writes,
//     for crash tests that reopen the real file.
//   - clock.go: [Clock], a settable time source shared with the server or
//     the client under test.
//   - openapi.go: [OpenAPIValidator], a transport that holds every request
//     a test sends and every answer it gets to an OpenAPI document, and
//     [OpenAPIProxy], the same in front of a server for clients that are
//     not Go (tus-js-client).
//   - photo.go: photo fixtures. [NoiseJPEG] and [NoiseJPEGs] make JPEGs of
//     a chosen size; [FreshPhotos] copies them into photos no server has
//     seen, for benchmarks that upload the same pictures again and again.
package testenv
