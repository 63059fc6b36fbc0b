// Package translog is the server's transparency log: an append-only
// Merkle tree of records (the seals of signed reports), in the design of
// Go's checksum database (golang.org/x/mod/sumdb/tlog). Anyone holding a
// signed tree head can check that a record is in the log (an inclusion
// proof) and that a later head extends an earlier one without rewriting
// it (a consistency proof); both proofs hold O(log n) hashes.
//
// The package keeps no state: the log lives in a store behind Reader and
// Writer, and Append does all its writes through one Writer, which the
// store backs with the transaction that also writes what the record
// describes. An append is therefore committed whole with it or not at
// all, whatever happens to the process.
//
// Tree heads are signed notes (golang.org/x/mod/sumdb/note): the body is
// tlog.FormatTree's text, the signature the server's Ed25519 key under
// the name KeyName(kid). The Verify and Open functions need only public
// data, so `fieldsync verify` runs them offline.
package translog

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
)

// MaxRecord bounds a record's size: a seal is a few hundred bytes.
const MaxRecord = 64 << 10

// Reader reads a log's state inside one transaction.
type Reader interface {
	// ReadHashes returns the stored hashes at the given indexes
	// (tlog.StoredHashIndex), failing if any is missing.
	tlog.HashReader
	// Size returns the number of records in the log.
	Size() (int64, error)
	// Record returns record index's bytes, or an error if it is missing.
	Record(index int64) ([]byte, error)
}

// Writer writes a log's state inside the transaction it reads from.
type Writer interface {
	Reader
	// WriteHashes stores hashes at stored hash indexes start, start+1, …
	WriteHashes(start int64, hashes []tlog.Hash) error
	// PutRecord stores record index's bytes.
	PutRecord(index int64, data []byte) error
	// SetSize records the number of records in the log.
	SetSize(n int64) error
}

// Append adds record at the end of the log and returns its index. All of
// its writes go through w: the record, its stored hashes and the new
// size, so a store whose Writer is one transaction commits them together.
func Append(w Writer, record []byte) (int64, error) {
	if len(record) == 0 || len(record) > MaxRecord {
		return 0, fmt.Errorf("translog: a record holds 1 to %d bytes, not %d", MaxRecord, len(record))
	}
	n, err := w.Size()
	if err != nil {
		return 0, err
	}
	hashes, err := tlog.StoredHashes(n, record, w)
	if err != nil {
		return 0, err
	}
	if err := w.WriteHashes(tlog.StoredHashIndex(0, n), hashes); err != nil {
		return 0, err
	}
	if err := w.PutRecord(n, record); err != nil {
		return 0, err
	}
	return n, w.SetSize(n + 1)
}

// Head returns the tree of the log's first size records.
func Head(r Reader, size int64) (tlog.Tree, error) {
	if err := within(r, "size", size); err != nil {
		return tlog.Tree{}, err
	}
	h, err := tlog.TreeHash(size, r)
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.Tree{N: size, Hash: h}, nil
}

// SignedHead returns the log's current tree head as a note signed by s.
func SignedHead(r Reader, s note.Signer) ([]byte, error) {
	n, err := r.Size()
	if err != nil {
		return nil, err
	}
	t, err := Head(r, n)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(tlog.FormatTree(t))}, s)
}

// ProveInclusion proves that record index is in the tree of size records.
func ProveInclusion(r Reader, index, size int64) (tlog.RecordProof, error) {
	if err := within(r, "size", size); err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "index %d is not in a log of size %d: index must be from 0 to size-1", index, size)
	}
	return tlog.ProveRecord(size, index, r)
}

// ReadRecord returns record index's bytes; an index past the log is
// not found.
func ReadRecord(r Reader, index int64) ([]byte, error) {
	n, err := r.Size()
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= n {
		return nil, fieldsync.Errorf(fieldsync.ENotFound, "log record %d: the log holds %d records, indexed from 0", index, n)
	}
	return r.Record(index)
}

// ProveConsistency proves that the tree of size newSize extends the tree
// of size oldSize.
func ProveConsistency(r Reader, oldSize, newSize int64) (tlog.TreeProof, error) {
	if err := within(r, "new", newSize); err != nil {
		return nil, err
	}
	if oldSize < 1 || oldSize > newSize {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "old size %d must be from 1 to the new size %d", oldSize, newSize)
	}
	return tlog.ProveTree(newSize, oldSize, r)
}

// within checks that size names a tree of the log: 0 to its size.
func within(r Reader, name string, size int64) error {
	n, err := r.Size()
	if err != nil {
		return err
	}
	if size < 0 || size > n {
		return fieldsync.Errorf(fieldsync.EInvalid, "%s %d is beyond the log: it holds %d records", name, size, n)
	}
	return nil
}

// VerifyInclusion checks that record is entry index of the tree head.
func VerifyInclusion(p tlog.RecordProof, index int64, record []byte, head tlog.Tree) error {
	if index < 0 || index >= head.N {
		return fmt.Errorf("log index %d is not in a tree of size %d", index, head.N)
	}
	if err := tlog.CheckRecord(p, head.N, head.Hash, index, tlog.RecordHash(record)); err != nil {
		return fmt.Errorf("log entry %d is not in the tree of size %d: %w", index, head.N, err)
	}
	return nil
}

// VerifyConsistency checks that head extends old: the log grew from one
// to the other by appending only.
func VerifyConsistency(p tlog.TreeProof, old, head tlog.Tree) error {
	if old.N < 1 || old.N > head.N {
		return fmt.Errorf("a tree of size %d cannot extend one of size %d", head.N, old.N)
	}
	if err := tlog.CheckTree(p, head.N, head.Hash, old.N, old.Hash); err != nil {
		return fmt.Errorf("the tree of size %d does not extend the tree of size %d: %w", head.N, old.N, err)
	}
	return nil
}

// OpenHead checks a signed tree head's signature by v and returns the
// tree it states.
func OpenHead(msg []byte, v note.Verifier) (tlog.Tree, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			var by []string
			for _, sig := range unverified.Note.UnverifiedSigs {
				by = append(by, sig.Name)
			}
			return tlog.Tree{}, fmt.Errorf("tree head: not signed by key %s (signed by %s)", v.Name(), strings.Join(by, ", "))
		}
		return tlog.Tree{}, fmt.Errorf("tree head: %w", err)
	}
	t, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("tree head: %w", err)
	}
	return t, nil
}

// KeyName is the note key name of the server key kid: a head names the
// key that signed it, as a seal does.
func KeyName(kid string) string { return "fieldsync-log/" + kid }

// NewVerifier returns the verifier of heads signed with the public key
// pub, whose kid is kid.
func NewVerifier(kid string, pub ed25519.PublicKey) (note.Verifier, error) {
	vkey, err := note.NewEd25519VerifierKey(KeyName(kid), pub)
	if err != nil {
		return nil, err
	}
	return note.NewVerifier(vkey)
}

// NewSigner returns a signer of heads with the private key priv, whose
// kid is kid. (The note package builds signers only from its own key
// encoding; this one signs with the key as the server holds it.)
func NewSigner(kid string, priv ed25519.PrivateKey) (note.Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("translog: an Ed25519 private key has %d bytes, not %d", ed25519.PrivateKeySize, len(priv))
	}
	v, err := NewVerifier(kid, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	return signer{Verifier: v, priv: priv}, nil
}

type signer struct {
	note.Verifier
	priv ed25519.PrivateKey
}

func (s signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

// Audit recomputes every stored hash of the log from its records and
// checks it against what the store holds, so a store whose hashes,
// records and size disagree (or were altered) is found. It reads every
// record: a check for tests and repairs, not for requests.
func Audit(r Reader) error {
	n, err := r.Size()
	if err != nil {
		return err
	}
	var stored []tlog.Hash // recomputed, indexed by stored hash index
	memory := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i := range n {
		rec, err := r.Record(i)
		if err != nil {
			return fmt.Errorf("log entry %d: %w", i, err)
		}
		hashes, err := tlog.StoredHashes(i, rec, memory)
		if err != nil {
			return err
		}
		start := tlog.StoredHashIndex(0, i)
		if int64(len(stored)) != start {
			return fmt.Errorf("log entry %d: stored hashes out of step", i)
		}
		stored = append(stored, hashes...)
		have, err := r.ReadHashes(indexRange(start, len(hashes)))
		if err != nil {
			return fmt.Errorf("log entry %d: %w", i, err)
		}
		for j := range hashes {
			if have[j] != hashes[j] {
				return fmt.Errorf("log entry %d: stored hash %d differs from its record's", i, start+int64(j))
			}
		}
	}
	// Nothing past the size: a hash there would be of an append that
	// was not committed with its record.
	if extra, err := r.ReadHashes([]int64{tlog.StoredHashCount(n)}); err == nil && len(extra) == 1 {
		return fmt.Errorf("a stored hash lies past the log's %d records", n)
	}
	if _, err := r.Record(n); err == nil {
		return fmt.Errorf("a record lies past the log's %d records", n)
	}
	return nil
}

func indexRange(start int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = start + int64(i)
	}
	return out
}
