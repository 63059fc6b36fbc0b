// Package photo knows what is inside the photos technicians upload as
// evidence: JPEG, PNG, WebP and HEIC, 3–8 MB each from a tablet's camera.
// It is pure: it reads the io.Reader or io.ReaderAt it is given, and
// touches no file and no network; media calls it while it receives an
// upload and when it makes the thumbnail.
//
// Start with the three functions, in the order media uses them:
//
//   - Sniff tells the Type from the first bytes, by content, never by name.
//   - Inspect reads dimensions, capture time, GPS position and orientation
//     from headers and EXIF, without decoding pixels.
//   - Thumbnail decodes, turns upright, scales and re-encodes as JPEG.
//     HEIC has no pure-Go decoder: ErrNoDecoder, and the photo is kept
//     without a thumbnail.
//
// Uploads are untrusted. Every length read from a file is checked against
// the bytes there are before it is used, every walk of a file's structure
// is bounded, and a picture of more than MaxPixels is refused from its
// header, before a decoder allocates for it (a 200 MP "photo" is a
// decompression bomb). FuzzInspect holds Sniff and Inspect to that.
//
// EXIF is read by a small reader of the TIFF structure (exif.go) limited
// to the tags we use: DateTimeOriginal, OffsetTimeOriginal, the GPS
// latitude and longitude with their references, and Orientation. Where
// the EXIF sits differs by type (container.go: a JPEG APP1 segment, a PNG
// eXIf chunk, a WebP EXIF chunk; heif.go: a HEIC Exif item). The EXIF
// libraries we weighed were each either unmaintained, not reachable, or a
// whole metadata toolkit with its own dependencies, for five tags; this
// reader is short enough to read in one sitting and is fuzzed. Broken
// EXIF is never an error: the fields it held are simply absent.
package photo
