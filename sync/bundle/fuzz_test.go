package bundle_test

import (
	"bytes"
	"testing"

	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/bundle/bundletest"
)

// FuzzRead: whatever the bytes, Read neither panics nor returns more
// than its limits let through, and Verify of what it returns does not
// panic.
func FuzzRead(f *testing.F) {
	srv := bundletest.NewServer(f)
	sd := srv.Seal(f, bundletest.Options{Photos: [][]byte{[]byte("tiny photo")}})
	var buf bytes.Buffer
	if err := bundle.Write(&buf, sd.Bundle); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	srv.SignOff(f, sd, bundletest.SignOffOptions{})
	var signedOff bytes.Buffer
	if err := bundle.Write(&signedOff, sd.Bundle); err != nil {
		f.Fatal(err)
	}
	f.Add(signedOff.Bytes())
	jwks := bundletest.JWKS(f, srv.Key)
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	lim := bundle.Limits{MaxMember: 1 << 20, MaxTotal: 2 << 20, MaxMembers: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := bundle.Read(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			return
		}
		var total int
		for _, m := range [][]byte{b.Readme, b.Report, b.Seal, b.DeviceKey, b.ServerKeys, b.Head, b.Inclusion, b.Consistency, b.SignOff, b.SignOffInclusion} {
			total += len(m)
		}
		for _, p := range b.Photos {
			total += len(p.Data)
		}
		for _, m := range []map[string][]byte{b.Signatures, b.Strokes} {
			for _, data := range m {
				total += len(data)
			}
		}
		if int64(total) > lim.MaxTotal {
			t.Fatalf("read %d bytes, over the %d limit", total, lim.MaxTotal)
		}
		bundle.Verify(b, jwks, nil)
	})
}
