package bundle_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/bundle/bundletest"
)

func zipped(t *testing.T, b bundle.Bundle) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func read(t *testing.T, z []byte) *bundle.Bundle {
	t.Helper()
	b, err := bundle.Read(bytes.NewReader(z), int64(len(z)), bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustVerify(t *testing.T, b *bundle.Bundle, jwks, head []byte) {
	t.Helper()
	if res := bundle.Verify(b, jwks, head); !res.OK() {
		t.Fatalf("does not verify: %v", res.Failures())
	}
}

// failsNaming checks that res fails and that a failure names one of names.
func failsNaming(t *testing.T, res bundle.Result, names ...string) {
	t.Helper()
	fails := res.Failures()
	if len(fails) == 0 {
		t.Fatalf("verified; want a failure naming %v", names)
	}
	for _, f := range fails {
		for _, n := range names {
			if strings.Contains(f.String(), n) {
				return
			}
		}
	}
	t.Errorf("failures %v name none of %v", fails, names)
}

func TestABundleVerifiesAndIsTheSameBytesEachTime(t *testing.T) {
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	z := zipped(t, sd.Bundle)
	if again := zipped(t, sd.Bundle); !bytes.Equal(z, again) {
		t.Error("the same bundle wrote different bytes")
	}
	b := read(t, z)
	res := bundle.Verify(b, bundletest.JWKS(t, srv.Key), nil)
	if !res.OK() {
		t.Fatalf("does not verify: %v", res.Failures())
	}
	var readme bool
	for _, f := range res.Findings {
		readme = readme || (f.Check == bundle.NameReadme && f.Unchecked)
	}
	if !readme {
		t.Error("the findings do not say README.txt is not checked")
	}
	want := []string{"README.txt", "report.json", "seal.json", "device-key.json", "server-keys.json", "log/head.txt", "log/inclusion.json",
		sd.Bundle.Photos[1].Name(), sd.Bundle.Photos[0].Name(), "signatures/customer.png", "signatures/customer.strokes.json",
		"signatures/technician.png", "signatures/technician.strokes.json"}
	if got := names(t, z); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("members\n got %v\nwant %v", got, want)
	}
}

// aliases are the names a failure may give a member by.
var aliases = map[string][]string{
	bundle.NameSeal:             {"seal"},
	bundle.NameHead:             {"log head"},
	bundle.NameInclusion:        {"inclusion"},
	bundle.NameSignOffInclusion: {"sign-off inclusion"},
}

func TestOneChangedByteOfAnyMemberFailsNamingIt(t *testing.T) {
	for _, c := range []struct {
		name    string
		signOff *bundletest.SignOffOptions
	}{{"sealed", nil}, {"signed off", &bundletest.SignOffOptions{}}, {"refused", &bundletest.SignOffOptions{Refuse: "The screen still flickers."}}} {
		t.Run(c.name, func(t *testing.T) {
			srv := bundletest.NewServer(t)
			sd := srv.Seal(t, bundletest.Options{})
			if c.signOff != nil {
				srv.SignOff(t, sd, *c.signOff)
			}
			changeEveryMember(t, zipped(t, sd.Bundle), bundletest.JWKS(t, srv.Key))
		})
	}
}

// changeEveryMember changes one byte of each member of the bundle z at
// several positions, and checks that each change fails naming it.
func changeEveryMember(t *testing.T, z, jwks []byte) {
	mustVerify(t, read(t, z), jwks, nil)
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		orig := read(t, z)
		data := member(orig, f.Name)
		for _, at := range []int{0, len(data) / 3, len(data) / 2, len(data) - 1} {
			b := read(t, z)
			changed := bytes.Clone(member(b, f.Name))
			changed[at] ^= 0x01
			setMember(b, f.Name, changed)
			res := bundle.Verify(read(t, zipped(t, *b)), jwks, nil)
			if f.Name == bundle.NameReadme {
				if !res.OK() {
					t.Errorf("README.txt byte %d: %v", at, res.Failures())
				}
				continue
			}
			t.Run(f.Name, func(t *testing.T) { failsNaming(t, res, append([]string{f.Name}, aliases[f.Name]...)...) })
		}
	}
}

var roles = []string{bundle.RoleCustomer, bundle.RoleTechnician, bundle.RoleCustomerSignOff}

func member(b *bundle.Bundle, name string) []byte {
	for _, m := range []struct {
		n string
		d []byte
	}{{bundle.NameReadme, b.Readme}, {bundle.NameReport, b.Report}, {bundle.NameSeal, b.Seal}, {bundle.NameDeviceKey, b.DeviceKey},
		{bundle.NameServerKeys, b.ServerKeys}, {bundle.NameHead, b.Head}, {bundle.NameInclusion, b.Inclusion},
		{bundle.NameSignOff, b.SignOff}, {bundle.NameSignOffInclusion, b.SignOffInclusion}} {
		if m.n == name {
			return m.d
		}
	}
	for _, role := range roles {
		if name == bundle.SignatureName(role) {
			return b.Signatures[role]
		}
		if name == bundle.StrokesName(role) {
			return b.Strokes[role]
		}
	}
	for _, p := range b.Photos {
		if p.Name() == name {
			return p.Data
		}
	}
	panic("no member " + name)
}

func setMember(b *bundle.Bundle, name string, data []byte) {
	switch name {
	case bundle.NameReadme:
		b.Readme = data
	case bundle.NameReport:
		b.Report = data
	case bundle.NameSeal:
		b.Seal = data
	case bundle.NameDeviceKey:
		b.DeviceKey = data
	case bundle.NameServerKeys:
		b.ServerKeys = data
	case bundle.NameHead:
		b.Head = data
	case bundle.NameInclusion:
		b.Inclusion = data
	case bundle.NameSignOff:
		b.SignOff = data
	case bundle.NameSignOffInclusion:
		b.SignOffInclusion = data
	}
	for _, role := range roles {
		if name == bundle.SignatureName(role) {
			b.Signatures[role] = data
		}
		if name == bundle.StrokesName(role) {
			b.Strokes[role] = data
		}
	}
	for i := range b.Photos {
		if b.Photos[i].Name() == name {
			b.Photos[i].Data = data
		}
	}
}

func TestAnotherReportsSealFailsNamingTheSeal(t *testing.T) {
	srv := bundletest.NewServer(t)
	one := srv.Seal(t, bundletest.Options{})
	two := srv.Seal(t, bundletest.Options{ReportID: "rep-2"})
	srv.Prove(t, one)
	b := one.Bundle
	b.Seal = two.Bundle.Seal
	res := bundle.Verify(read(t, zipped(t, b)), bundletest.JWKS(t, srv.Key), nil)
	failsNaming(t, res, "seal.json: seals report rep-2, not report rep-1")
}

func TestAMissingPhotoIsNamed(t *testing.T) {
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	b := sd.Bundle
	gone := b.Photos[0]
	b.Photos = b.Photos[1:]
	res := bundle.Verify(read(t, zipped(t, b)), bundletest.JWKS(t, srv.Key), nil)
	failsNaming(t, res, "photo "+gone.Slot+" (sha256 "+gone.SHA256[:8]+"…): missing from the bundle")
}

func TestKeysOfTheUser(t *testing.T) {
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	b := read(t, zipped(t, sd.Bundle))
	// The server rotated: a newer key signs, the old one still verifies.
	mustVerify(t, b, bundletest.JWKS(t, bundletest.NewKey(t), srv.Key), nil)
	// Keys without the sealing key prove nothing.
	other := bundletest.NewKey(t)
	res := bundle.Verify(b, bundletest.JWKS(t, other), nil)
	failsNaming(t, res, "seal: signed by key kid "+srv.Key.ID+", which the keys file does not hold")
	failsNaming(t, res, "log head: log/head.txt: signed by fieldsync-log/"+srv.Key.ID)
	// A bundle's own server-keys.json is not trusted: a forged one with a
	// key of that kid is caught.
	if res := bundle.Verify(b, []byte(`{"keys":`), nil); res.OK() || !strings.Contains(res.Failures()[0].String(), "not a JWKS") {
		t.Errorf("broken keys file: %v", res.Failures())
	}
}

func TestSavedHead(t *testing.T) {
	srv := bundletest.NewServer(t)
	first := srv.Seal(t, bundletest.Options{})
	saved, _ := srv.Head(t)
	jwks := bundletest.JWKS(t, srv.Key)
	mustVerify(t, read(t, zipped(t, first.Bundle)), jwks, saved)

	later := srv.Seal(t, bundletest.Options{ReportID: "rep-2"})
	srv.Seal(t, bundletest.Options{ReportID: "rep-3"})
	srv.Prove(t, later)
	res := bundle.Verify(read(t, zipped(t, later.Bundle)), jwks, saved)
	failsNaming(t, res, "carries no log/consistency.json (download it with ?since=1)")
	srv.Since(t, later, 1)
	mustVerify(t, read(t, zipped(t, later.Bundle)), jwks, saved)
	// Without a saved head the proof is read, not checked.
	mustVerify(t, read(t, zipped(t, later.Bundle)), jwks, nil)

	// A head of another log of the same size with the same key: the log
	// was rewritten.
	fork := &bundletest.Server{Key: srv.Key, Keys: srv.Keys, Log: bundletest.NewLog()}
	fork.Seal(t, bundletest.Options{ReportID: "rep-9"})
	forked, _ := fork.Head(t)
	failsNaming(t, bundle.Verify(read(t, zipped(t, later.Bundle)), jwks, forked), "does not extend")

	// A changed byte of the consistency proof.
	b := later.Bundle
	b.Consistency = bytes.Clone(b.Consistency)
	b.Consistency[len(b.Consistency)/2] ^= 1
	failsNaming(t, bundle.Verify(read(t, zipped(t, b)), jwks, saved), bundle.NameConsistency)
}

func TestMalformedBundles(t *testing.T) {
	srv := bundletest.NewServer(t)
	good := zipped(t, srv.Seal(t, bundletest.Options{}).Bundle)
	withMembers := func(extra func(zw *zip.Writer)) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		zr, _ := zip.NewReader(bytes.NewReader(good), int64(len(good)))
		for _, f := range zr.File {
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
		}
		extra(zw)
		zw.Close()
		return buf.Bytes()
	}
	file := func(name string, data []byte) func(*zip.Writer) {
		return func(zw *zip.Writer) {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
		}
	}
	zeros := bytes.Repeat([]byte{0}, 8<<20)
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(zeros)
	fw.Close()
	raw := func(name string, declared uint64, data []byte) func(*zip.Writer) {
		return func(zw *zip.Writer) {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: uint64(len(data)),
				UncompressedSize64: declared, CRC32: crc32.ChecksumIEEE(zeros)})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
		}
	}
	var lonely bytes.Buffer
	zw := zip.NewWriter(&lonely)
	w, _ := zw.Create("report.json")
	w.Write([]byte("{}"))
	zw.Close()
	small := bundle.Limits{MaxMember: 1 << 20, MaxTotal: 4 << 20, MaxMembers: 20}
	for _, c := range []struct {
		name string
		data []byte
		lim  bundle.Limits
		want string
	}{
		{"not a zip", []byte("PK but not really"), bundle.Limits{}, "not a ZIP file"},
		{"climbs out", withMembers(file("../x", []byte("x"))), bundle.Limits{}, `"../x": a member name leads out of the bundle`},
		{"inner climb", withMembers(file("photos/../../x", []byte("x"))), bundle.Limits{}, "leads out of the bundle"},
		{"absolute", withMembers(file("/etc/passwd", []byte("x"))), bundle.Limits{}, "is absolute"},
		{"backslash", withMembers(file(`photos\x`, []byte("x"))), bundle.Limits{}, "has a backslash"},
		{"duplicate", withMembers(file("seal.json", []byte("{}"))), bundle.Limits{}, "seal.json: the bundle holds two members of this name"},
		{"unexpected", withMembers(file("run.sh", []byte("x"))), bundle.Limits{}, `"run.sh": not a member of a report bundle`},
		{"missing", lonely.Bytes(), bundle.Limits{}, "seal.json: missing from the bundle"},
		{"too many", good, bundle.Limits{MaxMembers: 3}, "at most 3 are taken"},
		{"declared huge", withMembers(raw("photos/x/"+strings.Repeat("a", 64)+".jpg", 2<<30, deflated.Bytes())), bundle.Limits{}, "declares 2147483648 bytes; a member holds at most 67108864"},
		{"bomb with true header", withMembers(raw("photos/x/"+strings.Repeat("a", 64)+".jpg", uint64(len(zeros)), deflated.Bytes())), small, "declares 8388608 bytes"},
		{"bomb with lying header", withMembers(raw("photos/x/"+strings.Repeat("b", 64)+".jpg", 100, deflated.Bytes())), small, "photos/x/" + strings.Repeat("b", 64) + ".jpg: "},
		{"too much in all", good, bundle.Limits{MaxTotal: 1000}, "the members decompress to more than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "b.zip")
			os.WriteFile(path, c.data, 0o600)
			_, err := bundle.ReadFile(path, c.lim)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Read = %v, want %q", err, c.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("Read wrote into %s: %v", dir, entries)
			}
			if _, err := os.Stat(filepath.Join(dir, "..", "x")); err == nil {
				t.Error("Read wrote ../x")
			}
		})
	}
}
