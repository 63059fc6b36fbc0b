package main

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/bundle/bundletest"
)

// TestVerifyCommand runs the real binary on a real bundle: it verifies,
// a changed photo byte fails naming the photo, and usage errors exit 2.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	srv := bundletest.NewServer(t)
	sd := srv.Seal(t, bundletest.Options{})
	write := func(name string, b bundle.Bundle) string {
		var buf bytes.Buffer
		if err := bundle.Write(&buf, b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.zip", sd.Bundle)
	bad := sd.Bundle
	bad.Photos = append([]bundle.Photo(nil), bad.Photos...)
	bad.Photos[0].Data = bytes.Clone(bad.Photos[0].Data)
	bad.Photos[0].Data[len(bad.Photos[0].Data)/2] ^= 1
	changed := write("changed.zip", bad)
	keys := filepath.Join(dir, "jwks.json")
	os.WriteFile(keys, bundletest.JWKS(t, srv.Key), 0o600)
	head := filepath.Join(dir, "head.txt")
	h, _ := srv.Head(t)
	os.WriteFile(head, h, 0o600)
	// A report its customer later signed off through a link, and the
	// same with a changed byte of the signature they drew.
	so := srv.Seal(t, bundletest.Options{ReportID: "rep-2"})
	srv.SignOff(t, so, bundletest.SignOffOptions{})
	signedOff := write("signed-off.zip", so.Bundle)
	badSignOff := so.Bundle
	badSignOff.Signatures = maps.Clone(badSignOff.Signatures)
	png := bytes.Clone(badSignOff.Signatures[bundle.RoleCustomerSignOff])
	png[len(png)-20] ^= 1
	badSignOff.Signatures[bundle.RoleCustomerSignOff] = png
	changedSignOff := write("changed-signoff.zip", badSignOff)
	notZip := filepath.Join(dir, "not.zip")
	os.WriteFile(notZip, []byte("hello"), 0o600)

	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"a good bundle", []string{"verify", "--keys", keys, good}, 0, []string{"✓ seal: signed by server key " + srv.Key.ID, "✓ inclusion", "- README.txt: not checked", "OK: "}},
		{"with the saved head", []string{"verify", "--keys", keys, "--head", head, good}, 0, []string{"✓ consistency"}},
		{"a changed photo", []string{"verify", "--keys", keys, changed}, 1, []string{"✗ photo " + sd.Bundle.Photos[0].Slot + " (sha256 " + sd.Bundle.Photos[0].SHA256[:8] + "…): content differs", "FAILED: 1 of"}},
		{"a signed-off bundle", []string{"verify", "--keys", keys, signedOff}, 0, []string{"✓ signoff.json: the customer \"Zoë Müller\" signed off report rep-2",
			"✓ signoff.json: signed by server key " + srv.Key.ID, "✓ sign-off inclusion: the sign-off is entry 2 of the log's tree of 3",
			"✓ signatures/customer-signoff.strokes.json", "OK: "}},
		{"a changed sign-off signature", []string{"verify", "--keys", keys, changedSignOff}, 1, []string{"signatures/customer-signoff.png has sha256", "FAILED: "}},
		{"not a zip", []string{"verify", "--keys", keys, notZip}, 1, []string{"not a ZIP file"}},
		{"no keys", []string{"verify", good}, 2, []string{"usage: fieldsync verify"}},
		{"two bundles", []string{"verify", "--keys", keys, good, good}, 2, []string{"usage"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command(binary(t), c.args...).CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
