// Package signature turns a signature captured on the tablet as strokes
// into the PNG kept as evidence, and reads the strokes back out of it.
//
// A signature is its strokes: each stroke is the points the pen passed
// through between touching the pad and leaving it, with the time of each.
// Render draws them, black on white, into a PNG that also carries the
// strokes themselves in a tEXt chunk (keyword "fieldsync-strokes"), so
// the one file uploaded like a photo holds both the picture and the
// strokes it was drawn from; FromPNG reads them back.
//
// Rendering is deterministic: the same strokes at the same size give the
// same bytes, so the same SHA-256, whatever the machine. Coordinates are
// mapped to pixels once, with every floating-point step rounded on its
// own (no fused multiply-add), and everything after that, the pen and
// the anti-aliasing, is integer arithmetic. The PNG bytes also depend on
// Go's image/png encoder; the SHA-256 that counts is the one of the bytes
// the tablet made and uploaded.
//
// The package is pure: it reads and returns bytes, and touches no file.
package signature
