package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync/sync/translog"
)

// appendLog appends n records to the test server's log, named from the
// log's size so each is distinct.
func appendLog(t *testing.T, ts *testServer, n int) {
	t.Helper()
	for range n {
		size := headSize(t, ts)
		if _, err := ts.store.AppendLog(fmt.Appendf(nil, "seal %d", size)); err != nil {
			t.Fatal(err)
		}
	}
}

// signedHead fetches the head over HTTP and opens it with the JWKS key.
func signedHead(t *testing.T, ts *testServer) tlog.Tree {
	t.Helper()
	res, body := ts.do(t, "GET", "/v1/log/head", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("log head: %d %s", res.StatusCode, body)
	}
	head, err := translog.OpenHead(body, jwksVerifier(t, ts))
	noErr(t, err)
	return head
}

// getJSON fetches path (public) and decodes its 200 answer into v.
func getJSON(t *testing.T, ts *testServer, path string, v any) {
	t.Helper()
	res, body := ts.do(t, "GET", path, "", nil)
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: %d %v %s", path, res.StatusCode, res.Header, body)
	}
	noErr(t, json.Unmarshal(body, v))
}

func TestLogInclusionProofsVerifyAgainstTheSignedHead(t *testing.T) {
	ts := newTestServer(t)
	appendLog(t, ts, 13)
	head := signedHead(t, ts)
	if head.N != 13 {
		t.Fatalf("head size %d, want 13", head.N)
	}
	for index := range head.N {
		// The record fetched by index, proved in the current tree (size
		// omitted) and in the tree of the head's size.
		res, rec := ts.do(t, "GET", fmt.Sprintf("/v1/log/records/%d", index), "", nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/octet-stream" ||
			string(rec) != fmt.Sprintf("seal %d", index) {
			t.Fatalf("record %d: %d %v %q", index, res.StatusCode, res.Header, rec)
		}
		for _, q := range []string{fmt.Sprintf("index=%d", index), fmt.Sprintf("index=%d&size=%d", index, head.N)} {
			var p inclusionProof
			getJSON(t, ts, "/v1/log/proof/inclusion?"+q, &p)
			if p.Index != index || p.Size != head.N {
				t.Fatalf("%s: answered index %d size %d", q, p.Index, p.Size)
			}
			noErr(t, translog.VerifyInclusion(p.Proof, index, rec, head))
			// Another record, or a proof with one bit changed, fails.
			if err := translog.VerifyInclusion(p.Proof, index, append(rec, '!'), head); err == nil {
				t.Fatalf("%s: a changed record verified", q)
			}
			for i := range p.Proof {
				bad := append([]tlog.Hash(nil), p.Proof...)
				bad[i][0] ^= 1
				if err := translog.VerifyInclusion(bad, index, rec, head); err == nil {
					t.Fatalf("%s: a proof with hash %d tampered verified", q, i)
				}
			}
		}
	}

	// A proof in an older tree verifies against that tree's head.
	var p inclusionProof
	getJSON(t, ts, "/v1/log/proof/inclusion?index=2&size=5", &p)
	var old tlog.Tree
	noErr(t, ts.store.ViewLog(t.Context(), func(r translog.Reader) error {
		var err error
		old, err = translog.Head(r, 5)
		return err
	}))
	noErr(t, translog.VerifyInclusion(p.Proof, 2, []byte("seal 2"), old))
	if err := translog.VerifyInclusion(p.Proof, 2, []byte("seal 2"), head); err == nil {
		t.Fatal("a proof in the tree of 5 verified against the tree of 13")
	}
}

func TestLogConsistencyBetweenHeads(t *testing.T) {
	ts := newTestServer(t)
	appendLog(t, ts, 1)
	var heads []tlog.Tree
	for _, more := range []int{0, 2, 5, 1, 9} {
		appendLog(t, ts, more)
		heads = append(heads, signedHead(t, ts))
	}
	current := heads[len(heads)-1]
	for i, old := range heads {
		for _, head := range heads[i:] {
			var p consistencyProof
			getJSON(t, ts, fmt.Sprintf("/v1/log/proof/consistency?old=%d&new=%d", old.N, head.N), &p)
			if p.Old != old.N || p.New != head.N {
				t.Fatalf("answered old %d new %d, want %d %d", p.Old, p.New, old.N, head.N)
			}
			noErr(t, translog.VerifyConsistency(p.Proof, old, head))
			for j := range p.Proof {
				bad := append([]tlog.Hash(nil), p.Proof...)
				bad[j][31] ^= 0x80
				if err := translog.VerifyConsistency(bad, old, head); err == nil {
					t.Fatalf("%d→%d: a proof with hash %d tampered verified", old.N, head.N, j)
				}
			}
		}
		// new omitted: the current tree.
		var p consistencyProof
		getJSON(t, ts, fmt.Sprintf("/v1/log/proof/consistency?old=%d", old.N), &p)
		if p.New != current.N {
			t.Fatalf("new defaulted to %d, want %d", p.New, current.N)
		}
		noErr(t, translog.VerifyConsistency(p.Proof, old, current))
	}
	// A head the log never had is not extended by it.
	forged := heads[1]
	forged.Hash[0] ^= 1
	var p consistencyProof
	getJSON(t, ts, fmt.Sprintf("/v1/log/proof/consistency?old=%d", forged.N), &p)
	if err := translog.VerifyConsistency(p.Proof, forged, current); err == nil {
		t.Fatal("the log was proved to extend a head it never had")
	}
}

func TestLogProofParameters(t *testing.T) {
	ts := newTestServer(t)
	appendLog(t, ts, 4)
	for _, c := range []struct {
		path, status, detail string
	}{
		{"/v1/log/proof/inclusion", "400", "index is required"},
		{"/v1/log/proof/inclusion?index=x", "400", `index must be a whole number from 0, not "x"`},
		{"/v1/log/proof/inclusion?index=-1", "400", "index must be a whole number from 0"},
		{"/v1/log/proof/inclusion?index=4", "400", "index 4 is not in a log of size 4"},
		{"/v1/log/proof/inclusion?index=0&size=5", "400", "size 5 is beyond the log: it holds 4 records"},
		{"/v1/log/proof/inclusion?index=0&size=0", "400", "index 0 is not in a log of size 0"},
		{"/v1/log/proof/inclusion?index=0&size=1.5", "400", "size must be a whole number from 0"},
		{"/v1/log/proof/inclusion?index=0&old=1", "400", `unknown query parameter "old"`},
		{"/v1/log/proof/inclusion?index=0&index=1", "400", `"index" is given 2 times`},
		{"/v1/log/proof/consistency", "400", "old is required"},
		{"/v1/log/proof/consistency?old=0", "400", "old size 0 must be from 1 to the new size 4"},
		{"/v1/log/proof/consistency?old=3&new=2", "400", "old size 3 must be from 1 to the new size 2"},
		{"/v1/log/proof/consistency?old=1&new=9", "400", "new 9 is beyond the log: it holds 4 records"},
		{"/v1/log/proof/consistency?old=1&new=99999999999999999999", "400", "new must be a whole number from 0"},
		{"/v1/log/records/4", "404", "log record 4: the log holds 4 records"},
		{"/v1/log/records/x", "400", `index must be a whole number from 0, not "x"`},
		{"/v1/log/records/0?size=1", "400", `unknown query parameter "size"`},
	} {
		res, body := ts.do(t, "GET", c.path, "", nil)
		var pr struct{ Code, Detail string }
		_ = json.Unmarshal(body, &pr)
		want := map[string]string{"400": "invalid", "404": "not_found"}[c.status]
		if fmt.Sprint(res.StatusCode) != c.status || pr.Code != want || !strings.Contains(pr.Detail, c.detail) {
			t.Errorf("%s: %d %s, want %s %s naming %q", c.path, res.StatusCode, body, c.status, want, c.detail)
		}
	}
}
