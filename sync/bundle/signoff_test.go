package bundle_test

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/bundle/bundletest"
)

// checks returns the findings of res as lines, for comparing.
func checks(res bundle.Result) string {
	var lines []string
	for _, f := range res.Findings {
		lines = append(lines, f.String())
	}
	return strings.Join(lines, "\n")
}

func names(t *testing.T, z []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range zr.File {
		out = append(out, f.Name)
	}
	return out
}

func TestABundleCarriesTheCustomersSignOff(t *testing.T) {
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	so := srv.SignOff(t, sd, bundletest.SignOffOptions{})
	z := zipped(t, sd.Bundle)
	b := read(t, z)
	res := bundle.Verify(b, bundletest.JWKS(t, srv.Key), nil)
	if !res.OK() {
		t.Fatalf("does not verify: %v", res.Failures())
	}
	got := checks(res)
	for _, want := range []string{
		`signoff.json: the customer "Zoë Müller" signed off report rep-1 (hash ` + sd.Seal.Hash[:8] + `…) at 2026-04-03T08:15:00Z, through link lnk-1`,
		"signoff.json: signed by server key " + srv.Key.ID,
		"sign-off inclusion: the sign-off is entry 1 of the log's tree of 2",
		"customer-signoff signature (sha256 " + so.SignatureSHA256[:8] + "…): signatures/customer-signoff.png matches",
		"signatures/customer-signoff.strokes.json: the strokes signatures/customer-signoff.png carries",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
	if !bytes.Contains(b.Readme, []byte(`The customer "Zoë Müller" signed it off through a share link`)) {
		t.Errorf("README.txt does not tell of the sign-off:\n%s", b.Readme)
	}
	want := []string{"README.txt", "report.json", "seal.json", "device-key.json", "server-keys.json", "log/head.txt", "log/inclusion.json",
		"signoff.json", "log/signoff-inclusion.json", sd.Bundle.Photos[1].Name(), sd.Bundle.Photos[0].Name(),
		"signatures/customer.png", "signatures/customer.strokes.json", "signatures/technician.png", "signatures/technician.strokes.json",
		"signatures/customer-signoff.png", "signatures/customer-signoff.strokes.json"}
	if got := names(t, z); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("members\n got %v\nwant %v", got, want)
	}
	if again := zipped(t, sd.Bundle); !bytes.Equal(z, again) {
		t.Error("the same bundle wrote different bytes")
	}
}

func TestABundleCarriesTheCustomersRefusal(t *testing.T) {
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	srv.SignOff(t, sd, bundletest.SignOffOptions{Refuse: "Die Trommel ist noch laut."})
	z := zipped(t, sd.Bundle)
	jwks := bundletest.JWKS(t, srv.Key)
	res := bundle.Verify(read(t, z), jwks, nil)
	if !res.OK() {
		t.Fatalf("does not verify: %v", res.Failures())
	}
	if got := checks(res); !strings.Contains(got, `signoff.json: the customer refused report rep-1 (hash `+sd.Seal.Hash[:8]+`…) at 2026-04-03T08:15:00Z: "Die Trommel ist noch laut."`) ||
		!strings.Contains(got, "sign-off inclusion: the sign-off is entry 1") {
		t.Errorf("findings:\n%s", got)
	}
	if got := strings.Join(names(t, z), " "); strings.Contains(got, "customer-signoff") || !strings.Contains(got, "log/signoff-inclusion.json") {
		t.Errorf("members of a refusal: %s", got)
	}

	// A refusal carries no image: one slipped in is named.
	signed := srv.Seal(t, bundletest.Options{ReportID: "rep-2"})
	srv.SignOff(t, signed, bundletest.SignOffOptions{})
	b := read(t, z)
	b.Signatures[bundle.RoleCustomerSignOff] = signed.Bundle.Signatures[bundle.RoleCustomerSignOff]
	b.Strokes[bundle.RoleCustomerSignOff] = signed.Bundle.Strokes[bundle.RoleCustomerSignOff]
	failsNaming(t, bundle.Verify(read(t, zipped(t, *b)), jwks, nil), "signatures/customer-signoff.png: the customer refused, and a refusal carries no signature")
}

func TestASignOffOfAnotherReportOrVersionFailsNamingIt(t *testing.T) {
	srv := bundletest.NewServer(t)
	jwks := bundletest.JWKS(t, srv.Key)
	one := srv.Seal(t, bundletest.Options{})
	two := srv.Seal(t, bundletest.Options{ReportID: "rep-2"})
	srv.SignOff(t, two, bundletest.SignOffOptions{})
	srv.SignOff(t, one, bundletest.SignOffOptions{})

	// Another report's sign-off, with its own valid proof.
	b := one.Bundle
	b.SignOff, b.SignOffInclusion = two.Bundle.SignOff, two.Bundle.SignOffInclusion
	srv.Prove(t, two)
	b.SignOffInclusion = two.Bundle.SignOffInclusion
	failsNaming(t, bundle.Verify(read(t, zipped(t, b)), jwks, nil), "signoff.json: signs off report rep-2, not report rep-1 of report.json")

	// A sign-off of this report, sealed and logged, but of another
	// version of it.
	other := srv.Seal(t, bundletest.Options{ReportID: "rep-3"})
	srv.SignOff(t, other, bundletest.SignOffOptions{ReportID: "rep-3", Hash: strings.Repeat("ab", 32)})
	failsNaming(t, bundle.Verify(read(t, zipped(t, other.Bundle)), jwks, nil),
		"signoff.json: the customer signed off hash "+strings.Repeat("ab", 32)+", not report.json's "+other.Seal.Hash)
}

func TestASignOffByAKeyOutsideTheKeysFileFailsNamingTheKid(t *testing.T) {
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	stranger := bundletest.NewKey(t)
	srv.SignOff(t, sd, bundletest.SignOffOptions{Key: &stranger})
	res := bundle.Verify(read(t, zipped(t, sd.Bundle)), bundletest.JWKS(t, srv.Key), nil)
	failsNaming(t, res, "signoff.json: signed by key kid "+stranger.ID+", which the keys file does not hold")
	if len(res.Failures()) != 1 {
		t.Errorf("failures %v, want only the sign-off's key", res.Failures())
	}
	// With the key in the keys file, a sign-off signed by another key
	// than its key_id names is invalid for that kid.
	b := read(t, zipped(t, sd.Bundle))
	b.SignOff = bytes.Replace(b.SignOff, []byte(stranger.ID), []byte(srv.Key.ID), 1)
	failsNaming(t, bundle.Verify(b, bundletest.JWKS(t, srv.Key, stranger), nil), "signoff.json: signature invalid for key kid "+srv.Key.ID)
}

// A sign-off comes whole: its statement with its proof, its image only
// with them.
func TestPartOfASignOffIsRefused(t *testing.T) {
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	srv.SignOff(t, sd, bundletest.SignOffOptions{})
	for _, c := range []struct {
		drop []string
		want string
	}{
		{[]string{bundle.NameSignOffInclusion}, "log/signoff-inclusion.json: missing from the bundle, which holds signoff.json"},
		{[]string{bundle.NameSignOff}, "signoff.json: missing from the bundle, which holds log/signoff-inclusion.json"},
		{[]string{bundle.NameSignOff, bundle.NameSignOffInclusion}, "signoff.json: missing from the bundle, which holds signatures/customer-signoff.png"},
	} {
		b := sd.Bundle
		for _, name := range c.drop {
			switch name {
			case bundle.NameSignOff:
				b.SignOff = nil
			case bundle.NameSignOffInclusion:
				b.SignOffInclusion = nil
			}
		}
		z := zipped(t, b)
		if _, err := bundle.Read(bytes.NewReader(z), int64(len(z)), bundle.Limits{}); err == nil || err.Error() != c.want {
			t.Errorf("without %v: Read = %v, want %q", c.drop, err, c.want)
		}
		// Verify, of a bundle not read, names it as well.
		failsNaming(t, bundle.Verify(&b, bundletest.JWKS(t, srv.Key), nil), strings.SplitN(c.want, ":", 2)[0])
	}
	// The image of a signed sign-off is not optional.
	b := read(t, zipped(t, sd.Bundle))
	delete(b.Signatures, bundle.RoleCustomerSignOff)
	delete(b.Strokes, bundle.RoleCustomerSignOff)
	failsNaming(t, bundle.Verify(read(t, zipped(t, *b)), bundletest.JWKS(t, srv.Key), nil), "missing from the bundle (signatures/customer-signoff.png)")
}
