package translog_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// memLog keeps a log in maps: the contract of Reader and Writer, without
// a file, so the tests here check the tree logic alone.
type memLog struct {
	hashes  map[int64]tlog.Hash
	records map[int64][]byte
	size    int64
}

func newMemLog() *memLog {
	return &memLog{hashes: map[int64]tlog.Hash{}, records: map[int64][]byte{}}
}

func (m *memLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m.hashes[x]
		if !ok {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = h
	}
	return out, nil
}

func (m *memLog) Size() (int64, error) { return m.size, nil }

func (m *memLog) Record(i int64) ([]byte, error) {
	r, ok := m.records[i]
	if !ok {
		return nil, fmt.Errorf("no record %d", i)
	}
	return r, nil
}

func (m *memLog) WriteHashes(start int64, hs []tlog.Hash) error {
	for i, h := range hs {
		m.hashes[start+int64(i)] = h
	}
	return nil
}

func (m *memLog) PutRecord(i int64, data []byte) error {
	m.records[i] = append([]byte(nil), data...)
	return nil
}

func (m *memLog) SetSize(n int64) error { m.size = n; return nil }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func record(i int) []byte { return fmt.Appendf(nil, `{"report":"r%d","seal":"s%d"}`, i, i) }

// grow appends n records and returns the head after each append
// (heads[s] is the tree of size s).
func grow(t *testing.T, l *memLog, n int) []tlog.Tree {
	t.Helper()
	heads := []tlog.Tree{mustHead(t, l, 0)}
	for i := range n {
		idx, err := translog.Append(l, record(i))
		must(t, err)
		if idx != int64(i) {
			t.Fatalf("append %d got index %d", i, idx)
		}
		heads = append(heads, mustHead(t, l, int64(i+1)))
	}
	return heads
}

func mustHead(t *testing.T, r translog.Reader, size int64) tlog.Tree {
	t.Helper()
	h, err := translog.Head(r, size)
	must(t, err)
	return h
}

// Every record is provably in every tree from the one it joined, and
// every tree provably extends every earlier one; a tree's hash never
// changes once the log has grown past it.
func TestEveryProofVerifiesAtEverySize(t *testing.T) {
	const n = 37 // not a power of two: ragged right edges
	l := newMemLog()
	heads := grow(t, l, n)
	for s := int64(0); s <= n; s++ {
		if now := mustHead(t, l, s); now != heads[s] {
			t.Fatalf("tree %d changed after appends: %v, was %v", s, now, heads[s])
		}
	}
	for s := int64(1); s <= n; s++ {
		for i := int64(0); i < s; i++ {
			p, err := translog.ProveInclusion(l, i, s)
			must(t, err)
			must(t, translog.VerifyInclusion(p, i, record(int(i)), heads[s]))
		}
		for old := int64(1); old <= s; old++ {
			p, err := translog.ProveConsistency(l, old, s)
			must(t, err)
			must(t, translog.VerifyConsistency(p, heads[old], heads[s]))
		}
	}
	must(t, translog.Audit(l))
}

func TestTamperingFailsVerification(t *testing.T) {
	const n = 21
	l := newMemLog()
	heads := grow(t, l, n)
	head := heads[n]
	const idx = 13
	proof, err := translog.ProveInclusion(l, idx, n)
	must(t, err)

	changed := record(idx)
	changed[5] ^= 1
	if err := translog.VerifyInclusion(proof, idx, changed, head); err == nil {
		t.Error("a changed record verified")
	}
	if err := translog.VerifyInclusion(proof, idx+1, record(idx), head); err == nil {
		t.Error("a record verified at another index")
	}
	if err := translog.VerifyInclusion(proof, idx, record(idx), heads[n-1]); err == nil {
		t.Error("a proof verified against a tree of another size")
	}
	for k := range proof {
		bad := append(tlog.RecordProof(nil), proof...)
		bad[k][0] ^= 1
		if err := translog.VerifyInclusion(bad, idx, record(idx), head); err == nil {
			t.Errorf("an inclusion proof with hash %d changed verified", k)
		}
	}
	forged := head
	forged.Hash[31] ^= 1
	if err := translog.VerifyInclusion(proof, idx, record(idx), forged); err == nil {
		t.Error("a proof verified against a changed tree hash")
	}

	cons, err := translog.ProveConsistency(l, 8, n)
	must(t, err)
	must(t, translog.VerifyConsistency(cons, heads[8], head))
	for k := range cons {
		bad := append(tlog.TreeProof(nil), cons...)
		bad[k][7] ^= 1
		if err := translog.VerifyConsistency(bad, heads[8], head); err == nil {
			t.Errorf("a consistency proof with hash %d changed verified", k)
		}
	}
	oldForged := heads[8]
	oldForged.Hash[0] ^= 1
	if err := translog.VerifyConsistency(cons, oldForged, head); err == nil {
		t.Error("a consistency proof verified from a changed old tree")
	}

	// A log rewritten at one record, its hashes recomputed honestly,
	// yields trees that are not consistent with the heads already given.
	rewritten := newMemLog()
	for i := range n {
		rec := record(i)
		if i == 3 {
			rec = []byte("rewritten")
		}
		_, err := translog.Append(rewritten, rec)
		must(t, err)
	}
	p, err := translog.ProveConsistency(rewritten, 8, n)
	must(t, err)
	if err := translog.VerifyConsistency(p, heads[8], mustHead(t, rewritten, n)); err == nil {
		t.Error("a rewritten log proved consistent with an earlier head")
	}
}

func TestAuditFindsAlteredStore(t *testing.T) {
	for name, alter := range map[string]func(l *memLog){
		"record changed":         func(l *memLog) { l.records[5][0] ^= 1 },
		"stored hash changed":    func(l *memLog) { h := l.hashes[9]; h[3] ^= 1; l.hashes[9] = h },
		"record missing":         func(l *memLog) { delete(l.records, 11) },
		"size behind the hashes": func(l *memLog) { l.size-- },
		"size past the records":  func(l *memLog) { l.size++ },
	} {
		t.Run(name, func(t *testing.T) {
			l := newMemLog()
			grow(t, l, 16)
			alter(l)
			if err := translog.Audit(l); err == nil {
				t.Fatal("Audit passed an altered log")
			}
		})
	}
}

func TestSignedHeadOpensWithItsKeyOnly(t *testing.T) {
	l := newMemLog()
	heads := grow(t, l, 5)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	s, err := translog.NewSigner("kid1", priv)
	must(t, err)
	msg, err := translog.SignedHead(l, s)
	must(t, err)
	if !strings.Contains(string(msg), "— fieldsync-log/kid1 ") {
		t.Fatalf("the head is not signed under the key's name:\n%s", msg)
	}

	v, err := translog.NewVerifier("kid1", priv.Public().(ed25519.PublicKey))
	must(t, err)
	got, err := translog.OpenHead(msg, v)
	must(t, err)
	if got != heads[5] {
		t.Fatalf("OpenHead = %v, want %v", got, heads[5])
	}
	// The note package's own verifier of the same key opens it too: the
	// signer is a standard note signer.
	vkey, err := note.NewEd25519VerifierKey(translog.KeyName("kid1"), priv.Public().(ed25519.PublicKey))
	must(t, err)
	std, err := note.NewVerifier(vkey)
	must(t, err)
	if _, err := note.Open(msg, note.VerifierList(std)); err != nil {
		t.Fatalf("note.Open: %v", err)
	}

	otherPub, _, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	other, err := translog.NewVerifier("kid1", otherPub)
	must(t, err)
	if _, err := translog.OpenHead(msg, other); err == nil {
		t.Error("a head opened with another key")
	}
	otherKid, err := translog.NewVerifier("kid2", priv.Public().(ed25519.PublicKey))
	must(t, err)
	if _, err := translog.OpenHead(msg, otherKid); err == nil || !strings.Contains(err.Error(), "fieldsync-log/kid1") {
		t.Errorf("a head signed by kid1 opened with kid2's name: %v", err)
	}
	forged := strings.Replace(string(msg), "\n5\n", "\n6\n", 1)
	if _, err := translog.OpenHead([]byte(forged), v); err == nil {
		t.Error("a head with a changed size opened")
	}
}

func TestOutOfRangeIsInvalid(t *testing.T) {
	l := newMemLog()
	grow(t, l, 4)
	for name, err := range map[string]error{
		"head past the log":        func() error { _, err := translog.Head(l, 5); return err }(),
		"index at size":            func() error { _, err := translog.ProveInclusion(l, 4, 4); return err }(),
		"negative index":           func() error { _, err := translog.ProveInclusion(l, -1, 4); return err }(),
		"inclusion past the log":   func() error { _, err := translog.ProveInclusion(l, 0, 5); return err }(),
		"old size zero":            func() error { _, err := translog.ProveConsistency(l, 0, 4); return err }(),
		"old past new":             func() error { _, err := translog.ProveConsistency(l, 4, 3); return err }(),
		"consistency past the log": func() error { _, err := translog.ProveConsistency(l, 1, 5); return err }(),
	} {
		if fieldsync.ErrorCode(err) != fieldsync.EInvalid {
			t.Errorf("%s: %v, want code %s", name, err, fieldsync.EInvalid)
		}
	}
	if _, err := translog.Append(l, nil); err == nil {
		t.Error("an empty record was appended")
	}
}
