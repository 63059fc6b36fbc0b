package server

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync/sync/translog"
)

// jwksVerifier builds, from the served JWKS alone, the verifier of log
// heads signed with its key: what an auditor holding only public keys has.
func jwksVerifier(t *testing.T, ts *testServer) note.Verifier {
	t.Helper()
	res, body := ts.do(t, "GET", "/.well-known/jwks.json", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("jwks: %d %s", res.StatusCode, body)
	}
	var set struct {
		Keys []struct{ Kid, X string } `json:"keys"`
	}
	noErr(t, json.Unmarshal(body, &set))
	if len(set.Keys) != 1 {
		t.Fatalf("jwks holds %d keys, want 1", len(set.Keys))
	}
	pub, err := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	noErr(t, err)
	v, err := translog.NewVerifier(set.Keys[0].Kid, ed25519.PublicKey(pub))
	noErr(t, err)
	return v
}

func TestLogHeadIsSignedByTheServerKey(t *testing.T) {
	ts := newTestServer(t)
	v := jwksVerifier(t, ts)
	for _, size := range []int64{0, 1, 5} {
		for have := headSize(t, ts); have < size; have++ {
			if _, err := ts.store.AppendLog(fmt.Appendf(nil, "seal %d", have)); err != nil {
				t.Fatal(err)
			}
		}
		res, body := ts.do(t, "GET", "/v1/log/head", "", nil) // public: no token
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("log head: %d %v %s", res.StatusCode, res.Header, body)
		}
		got, err := translog.OpenHead(body, v)
		if err != nil {
			t.Fatalf("size %d: %v\n%s", size, err, body)
		}
		var want tlog.Tree
		noErr(t, ts.store.ViewLog(context.Background(), func(r translog.Reader) error {
			h, err := translog.Head(r, size)
			want = h
			return err
		}))
		if got != want {
			t.Fatalf("head %v, want %v", got, want)
		}
	}
	otherPub, _, err := ed25519.GenerateKey(nil)
	noErr(t, err)
	other, err := translog.NewVerifier(ts.keys.Signing().Kid, otherPub)
	noErr(t, err)
	_, body := ts.do(t, "GET", "/v1/log/head", "", nil)
	if _, err := translog.OpenHead(body, other); err == nil {
		t.Fatal("the head opened with a key the server does not hold")
	}
}

func headSize(t *testing.T, ts *testServer) int64 {
	t.Helper()
	var n int64
	noErr(t, ts.store.ViewLog(context.Background(), func(r translog.Reader) error {
		var err error
		n, err = r.Size()
		return err
	}))
	return n
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
