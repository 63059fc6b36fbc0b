package clientsdk

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
)

// Both signatures, drawn offline, upload with the photos; the server
// verifies them as PNGs on the two signature slots, and the bytes it
// serves carry the strokes the tablet drew.
func TestE2ESignaturesUploadLikePhotos(t *testing.T) {
	w := newPhotoWorld(t, 0)
	tab, _, report := photoTablet(t, w, "tab-a", 1<<20)
	tab.offline(true)
	customer := signature.Builtin()
	technician := signature.Strokes{customer[1]}
	c := attachSignature(t, tab.c, report, "customer", customer)
	tc := attachSignature(t, tab.c, report, "technician", technician)
	if again := attachSignature(t, tab.c, report, "customer", customer); again != c {
		t.Fatalf("the same strokes attached again gave %+v, want %+v", again, c)
	}
	if _, err := tab.c.AttachSignature(report, "witness", customer); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Fatalf("a witness's signature: error %v, want invalid", err)
	}
	if _, err := tab.c.AttachSignature(report, "customer", signature.Strokes{}); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Fatalf("no strokes: error %v, want invalid", err)
	}
	tab.offline(false)
	tab.sync(t)
	for _, ref := range []PhotoRef{c, tc} {
		if p := photoOf(t, tab.c, ref.ID); p.Status != PhotoVerified {
			t.Fatalf("%s: %+v, want verified", ref.Slot, p)
		}
	}
	var v e2eReportPhotos
	w.call(w.disp, "GET", "/v1/visits/"+w.visit, nil, 200, &v)
	want := map[string]signature.Strokes{fieldsync.SlotSignatureCustomer: customer, fieldsync.SlotSignatureTechnician: technician}
	seen := 0
	for _, p := range v.Reports[0].Photos {
		strokes, ok := want[p.Slot]
		if !ok {
			continue
		}
		seen++
		if p.Type != "image/png" || p.Width != SignatureWidth || p.Height != SignatureHeight {
			t.Fatalf("%s on the server: %+v, want a %d×%d PNG", p.Slot, p.Photo, SignatureWidth, SignatureHeight)
		}
		code, raw := w.get(w.disp, p.URL)
		if code != 200 {
			t.Fatalf("GET %s: %d", p.URL, code)
		}
		got, err := signature.FromPNG(raw)
		must(t, err)
		again, err := signature.Render(got, SignatureWidth, SignatureHeight)
		must(t, err)
		if !reflect.DeepEqual(got, strokes) || !bytes.Equal(again, raw) || hexSHA(raw) != p.SHA256 {
			t.Fatalf("%s: the served PNG is not the one its strokes draw", p.Slot)
		}
	}
	if seen != 2 {
		t.Fatalf("the report shows %d signatures, want 2: %+v", seen, v.Reports[0].Photos)
	}
}

func attachSignature(t *testing.T, c *Client, report, role string, s signature.Strokes) PhotoRef {
	t.Helper()
	ref, err := c.AttachSignature(report, role, s)
	if err != nil {
		t.Fatalf("attach the %s's signature: %v", role, err)
	}
	return ref
}
