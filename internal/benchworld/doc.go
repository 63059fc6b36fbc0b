// Package benchworld builds what the sync benchmarks measure against:
// large stores ("worlds") of many technicians' visits, cached between
// runs, and the push workload of one technician's day. The store's own
// benchmarks (store/bolt) and the server's (server/) read the same worlds,
// so their figures compare. Only benchmarks and their tests import it;
// BENCHMARKS.md has the commands and the figures.
//
// world.go builds and caches the worlds, pull.go runs the pull
// benchmarks on them, push.go is the push workload.
package benchworld
