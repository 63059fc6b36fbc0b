package bundle

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync"
)

// Limits bound what Read takes. Zero fields take the defaults.
type Limits struct {
	MaxMember  int64 // uncompressed bytes of one member (default 64 MiB)
	MaxTotal   int64 // uncompressed bytes of all members (default 2 GiB)
	MaxMembers int   // members (default 1024)
}

// Default limits: a bundle holds at most a few hundred photos, each well
// under the server's upload limit.
const (
	DefaultMaxMember  = 64 << 20
	DefaultMaxTotal   = 2 << 30
	DefaultMaxMembers = 1024
)

func (l Limits) orDefaults() Limits {
	if l.MaxMember <= 0 {
		l.MaxMember = DefaultMaxMember
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = DefaultMaxTotal
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = DefaultMaxMembers
	}
	return l
}

// ReadFile reads the bundle at path (Read).
func ReadFile(name string, lim Limits) (*Bundle, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Read(f, st.Size(), lim)
}

// Read reads a bundle from the size bytes of r, in memory. It takes what
// Write makes and refuses, with an error naming the member and the
// problem: a file that is not a ZIP, more than lim.MaxMembers members, a
// name that is absolute, climbs out (..), has a backslash or is not one
// of a bundle's, a name twice, a member missing (of the sign-off's, one
// without the others it goes with), and a member larger than
// lim.MaxMember or members together larger than lim.MaxTotal, counted
// while decompressing, whatever the headers declare.
func Read(r io.ReaderAt, size int64, lim Limits) (*Bundle, error) {
	lim = lim.orDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("not a report bundle: not a ZIP file (%v)", err)
	}
	if len(zr.File) > lim.MaxMembers {
		return nil, fmt.Errorf("bundle has %d members; at most %d are taken", len(zr.File), lim.MaxMembers)
	}
	b := &Bundle{Signatures: map[string][]byte{}, Strokes: map[string][]byte{}}
	seen := map[string]bool{}
	var total int64
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") && f.UncompressedSize64 == 0 && checkName(strings.TrimSuffix(name, "/")+"/x") == nil {
			continue // a directory entry, as zip tools add
		}
		if err := checkName(name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("%s: the bundle holds two members of this name", name)
		}
		seen[name] = true
		if f.UncompressedSize64 > uint64(lim.MaxMember) {
			return nil, fmt.Errorf("%s: declares %d bytes; a member holds at most %d", name, f.UncompressedSize64, lim.MaxMember)
		}
		data, err := readMember(f, lim.MaxMember, lim.MaxTotal-total)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		total += int64(len(data))
		b.put(name, data)
	}
	for _, name := range []string{NameReport, NameSeal, NameDeviceKey, NameServerKeys, NameHead, NameInclusion} {
		if !seen[name] {
			return nil, fmt.Errorf("%s: missing from the bundle", name)
		}
	}
	if err := signOffComplete(seen); err != nil {
		return nil, err
	}
	return b, nil
}

// signOffComplete refuses part of a sign-off: signoff.json and its
// inclusion proof come together, and its signature image only with them.
func signOffComplete(seen map[string]bool) error {
	switch {
	case seen[NameSignOff] && !seen[NameSignOffInclusion]:
		return fmt.Errorf("%s: missing from the bundle, which holds %s", NameSignOffInclusion, NameSignOff)
	case seen[NameSignOff]:
		return nil
	}
	for _, name := range []string{NameSignOffInclusion, SignatureName(RoleCustomerSignOff), StrokesName(RoleCustomerSignOff)} {
		if seen[name] {
			return fmt.Errorf("%s: missing from the bundle, which holds %s", NameSignOff, name)
		}
	}
	return nil
}

// readMember decompresses f, refusing more than max bytes, or more than
// left (what the total limit leaves), whatever its header says.
func readMember(f *zip.File, max, left int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	defer rc.Close()
	limit := min(max, left)
	var buf bytes.Buffer
	buf.Grow(int(min(int64(f.UncompressedSize64), limit)))
	n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
	switch {
	case n > max:
		return nil, fmt.Errorf("decompresses to more than %d bytes, the most a member may hold", max)
	case n > limit:
		return nil, fmt.Errorf("the members decompress to more than the %d bytes a bundle may hold", left)
	case err != nil:
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	return buf.Bytes(), nil
}

// checkName refuses a member name a bundle does not have, naming it.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a member has an empty name")
	case strings.Contains(name, `\`):
		return fmt.Errorf("%q: a member name has a backslash", name)
	case strings.HasPrefix(name, "/") || path.IsAbs(name) || (len(name) > 1 && name[1] == ':'):
		return fmt.Errorf("%q: a member name is absolute", name)
	case slices.Contains(strings.Split(name, "/"), ".."):
		return fmt.Errorf("%q: a member name leads out of the bundle (..)", name)
	case path.Clean(name) != name:
		return fmt.Errorf("%q: a member name is not clean", name)
	}
	switch name {
	case NameReadme, NameReport, NameSeal, NameDeviceKey, NameServerKeys, NameHead, NameInclusion, NameConsistency,
		NameSignOff, NameSignOffInclusion:
		return nil
	}
	for _, role := range roles {
		if name == SignatureName(role) || name == StrokesName(role) {
			return nil
		}
	}
	if _, ok := parsePhotoName(name); ok {
		return nil
	}
	return fmt.Errorf("%q: not a member of a report bundle", name)
}

// parsePhotoName reads photos/<slot>/<sha256>.<ext>.
func parsePhotoName(name string) (Photo, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 || parts[0] != "photos" || parts[1] == "" || parts[1] == "." {
		return Photo{}, false
	}
	sha, ext, ok := strings.Cut(parts[2], ".")
	if !ok || !fieldsync.ValidSHA256(sha) || !slices.Contains(exts, ext) {
		return Photo{}, false
	}
	return Photo{Slot: parts[1], SHA256: sha, Ext: ext}, true
}

// put stores a checked member's bytes.
func (b *Bundle) put(name string, data []byte) {
	switch name {
	case NameReadme:
		b.Readme = data
	case NameReport:
		b.Report = data
	case NameSeal:
		b.Seal = data
	case NameDeviceKey:
		b.DeviceKey = data
	case NameServerKeys:
		b.ServerKeys = data
	case NameHead:
		b.Head = data
	case NameInclusion:
		b.Inclusion = data
	case NameConsistency:
		b.Consistency = data
	case NameSignOff:
		b.SignOff = data
	case NameSignOffInclusion:
		b.SignOffInclusion = data
	}
	for _, role := range roles {
		switch name {
		case SignatureName(role):
			b.Signatures[role] = data
		case StrokesName(role):
			b.Strokes[role] = data
		}
	}
	if p, ok := parsePhotoName(name); ok {
		p.Data = data
		b.Photos = append(b.Photos, p)
	}
}
