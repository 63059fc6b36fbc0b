// Package blobtest checks that a media.BlobStore keeps the contract in
// media/blobs.go. Each implementation's tests call Run with a way to make
// an empty backend; the implementation-specific checks (what is left in
// a directory or a bucket, reading an object around the store) come in
// through Backend.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/tus"
)

// Backend is one empty backend of the store under test.
type Backend struct {
	// Open returns a new Store value on the backend, as a restarted
	// server makes one: it shares nothing with earlier values but the
	// backend itself.
	Open func(t *testing.T) media.BlobStore
	// Leftovers lists what uploads left in the backend (files, objects,
	// incomplete multipart uploads). With no upload in progress it must
	// be empty.
	Leftovers func(t *testing.T) []string
	// ReadRaw reads an object without the store, so a test sees what was
	// really written.
	ReadRaw func(t *testing.T, key string) io.ReadCloser
}

// ErrCut is what a reader cut midway returns, as a dropped connection.
var ErrCut = errors.New("blobtest: connection cut")

// MemoryBudget is how much the heap may grow while Append stores a 64 MiB
// object read from one reader.
const MemoryBudget = 20 << 20

// Run checks the behaviour every BlobStore shares. fresh returns an empty
// backend; each subtest gets its own and runs in parallel, except the
// memory check, which runs alone while the others wait.
func Run(t *testing.T, fresh func(t *testing.T) Backend) {
	t.Run("upload", func(t *testing.T) { testUpload(t, fresh) })
	t.Run("cut reader keeps the bytes before the cut", func(t *testing.T) { t.Parallel(); testCut(t, fresh(t)) })
	t.Run("state lost in a crash resumes from the state before", func(t *testing.T) { t.Parallel(); testLostState(t, fresh(t)) })
	t.Run("finish of a stored photo keeps the stored bytes", func(t *testing.T) { t.Parallel(); testExists(t, fresh(t)) })
	t.Run("two uploads of one photo finishing at once store it once", func(t *testing.T) { t.Parallel(); testConcurrentFinish(t, fresh(t)) })
	t.Run("abort leaves nothing behind", func(t *testing.T) { t.Parallel(); testAbort(t, fresh(t)) })
	t.Run("finish of an incomplete upload is refused", func(t *testing.T) { t.Parallel(); testIncomplete(t, fresh(t)) })
	t.Run("finish with the wrong number of last bytes is refused and can be retried", func(t *testing.T) { testWrongLast(t, fresh) })
	t.Run("append past the size keeps only the size", func(t *testing.T) { t.Parallel(); testTooLong(t, fresh(t)) })
	t.Run("range reads", func(t *testing.T) { t.Parallel(); testRanges(t, fresh(t)) })
	t.Run("missing objects are ErrNotFound", func(t *testing.T) { t.Parallel(); testMissing(t, fresh(t)) })
	t.Run("bad keys and upload ids are refused", func(t *testing.T) { t.Parallel(); testBadNames(t, fresh(t)) })
	t.Run("put replaces derived objects, never evidence", func(t *testing.T) { t.Parallel(); testPut(t, fresh(t)) })
	// Not parallel: it measures the process's heap, so it runs before the
	// parallel subtests above are released.
	t.Run("append holds a bounded buffer", func(t *testing.T) { testMemory(t, fresh(t)) })
}

// lastAs says how a test hands Finish the last bytes.
type lastAs int

const (
	byAppend  lastAs = iota // all bytes appended, Finish gets nil
	asSection               // an *io.SectionReader, as media.Service gives them
	asStream                // a plain io.Reader
)

func testUpload(t *testing.T, fresh func(t *testing.T) Backend) {
	tests := []struct {
		name        string
		size, chunk int
		last        int // bytes given to Finish rather than appended
		as          lastAs
	}{
		{"one Append of 12 MiB and a bit", 12<<20 + 12345, 12<<20 + 12345, 0, byAppend},
		{"700 KiB Appends of 12 MiB", 12 << 20, 700 << 10, 0, byAppend},
		{"5 MiB Appends ending on part boundaries", 10 << 20, 5 << 20, 0, byAppend},
		{"a photo smaller than an S3 part", 3<<20 + 7, 1 << 20, 0, byAppend},
		{"an empty upload", 0, 1, 0, byAppend},
		{"a whole photo given to Finish as a section", 4<<20 + 1, 1, 4<<20 + 1, asSection},
		{"a whole photo larger than a part given to Finish", 12<<20 + 5, 1, 12<<20 + 5, asStream},
		{"1 MiB Appends, the last bytes to Finish", 3<<20 + 7, 1 << 20, 1<<20 + 7, asSection},
		{"a part and a tail appended, 5 MiB to Finish", 12 << 20, 7 << 20, 5 << 20, asStream},
		{"a part appended, the rest to Finish as a section", 8<<20 + 3, 5 << 20, 3<<20 + 3, asSection},
		{"an empty upload given an empty last", 0, 1, 0, asSection},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := fresh(t)
			data := randomBytes(uint64(i), tt.size)
			// Every call goes to a new Store value with the State as the
			// caller's store gave it back: a restart between any two
			// requests changes nothing.
			st := begin(t, b.Open(t), "u1", int64(len(data)))
			appended := len(data) - tt.last
			for off := 0; off < appended; off += tt.chunk {
				end := min(off+tt.chunk, appended)
				st = appendOK(t, b.Open(t), "u1", st, data[off:end])
			}
			var last io.Reader
			switch tt.as {
			case asSection:
				last = io.NewSectionReader(bytes.NewReader(data[appended:]), 0, int64(tt.last))
			case asStream:
				last = io.MultiReader(bytes.NewReader(data[appended:])) // hides Seek and ReadAt
			}
			if err := b.Open(t).Finish(t.Context(), "u1", st, last, sum(data)); err != nil {
				t.Fatalf("Finish with %d last bytes: %v", tt.last, err)
			}
			checkObject(t, b, b.Open(t), data)
			checkClean(t, b)
		})
	}
}

// testWrongLast gives Finish too few and too many last bytes: each is
// refused, nothing is published, and the upload still holds its State, so
// Finish with the right bytes then succeeds.
func testWrongLast(t *testing.T, fresh func(t *testing.T) Backend) {
	tests := []struct {
		name           string
		size, appended int
	}{
		{"under a part", 3 << 20, 1 << 20},
		{"nothing appended", 2 << 20, 0},
		{"a part and a tail appended", 12 << 20, 7 << 20},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := fresh(t)
			ctx := t.Context()
			data := randomBytes(uint64(100+i), tt.size)
			st := begin(t, b.Open(t), "u1", int64(len(data)))
			if tt.appended > 0 {
				st = appendOK(t, b.Open(t), "u1", st, data[:tt.appended])
			}
			rest := data[tt.appended:]
			for what, last := range map[string][]byte{
				"one byte short": rest[:len(rest)-1],
				"one byte more":  append(append([]byte(nil), rest...), 'x'),
			} {
				err := b.Open(t).Finish(ctx, "u1", st, io.MultiReader(bytes.NewReader(last)), sum(data))
				if err == nil || errors.Is(err, media.ErrExists) {
					t.Fatalf("Finish with the last bytes %s: err = %v, want a refusal", what, err)
				}
				if _, err := b.Open(t).Stat(ctx, media.EvidenceKey(sum(data))); !errors.Is(err, media.ErrNotFound) {
					t.Fatalf("after Finish with the last bytes %s: Stat of the photo: err = %v, want ErrNotFound", what, err)
				}
			}
			if err := b.Open(t).Finish(ctx, "u1", st, bytes.NewReader(rest), sum(data)); err != nil {
				t.Fatalf("Finish with the right last bytes after refusals: %v", err)
			}
			checkObject(t, b, b.Open(t), data)
			checkClean(t, b)
		})
	}
}

// testCut cuts the reader as net/http cuts a request body when the
// connection drops: the read fails and the request's context ends at the
// same moment. What the store consumed before must be kept all the same.
func testCut(t *testing.T, b Backend) {
	data := randomBytes(10, 12<<20+5)
	s := b.Open(t)
	st := begin(t, s, "u1", int64(len(data)))
	// Cuts inside the first part, across a part boundary, at nothing,
	// then the rest.
	for _, cut := range []int{1<<20 + 3, 7<<20 + 333, 0} {
		before := st.Offset
		ctx, cancel := context.WithCancel(t.Context())
		got, err := s.Append(ctx, "u1", st, &cutReader{r: bytes.NewReader(data[before:]), n: cut, cancel: cancel})
		cancel()
		if !errors.Is(err, ErrCut) {
			t.Fatalf("Append cut after %d bytes: err = %v, want ErrCut", cut, err)
		}
		if got.Offset != before+int64(cut) {
			t.Fatalf("Append cut after %d bytes: offset %d, want %d", cut, got.Offset, before+int64(cut))
		}
		st = persist(t, got)
		s = b.Open(t)
	}
	st = appendOK(t, s, "u1", st, data[st.Offset:])
	finish(t, s, "u1", st, data)
	checkObject(t, b, s, data)
	checkClean(t, b)
}

// testLostState replays a crash after an Append stored bytes but before
// the caller saved the State it returned: the upload must go on from the
// State saved before, with the bytes sent again.
func testLostState(t *testing.T, b Backend) {
	ctx := t.Context()
	data := randomBytes(11, 12<<20+77)
	st := begin(t, b.Open(t), "u1", int64(len(data)))
	st = appendOK(t, b.Open(t), "u1", st, data[:3<<20])
	// Lost: one within the part, then one across its boundary.
	for _, n := range []int{1 << 20, 4 << 20} {
		if _, err := b.Open(t).Append(ctx, "u1", st, bytes.NewReader(data[st.Offset:st.Offset+int64(n)])); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	s := b.Open(t)
	st = appendOK(t, s, "u1", st, data[st.Offset:])
	finish(t, s, "u1", st, data)
	checkObject(t, b, s, data)
	checkClean(t, b)
}

func testExists(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	data := randomBytes(20, 6<<20+1)
	st := begin(t, s, "first", int64(len(data)))
	st = appendOK(t, s, "first", st, data)
	finish(t, s, "first", st, data)

	// A second upload claims the same hash with other bytes (a caller's
	// bug): the stored object must not change.
	other := randomBytes(21, 7<<20+3)
	st = begin(t, s, "second", int64(len(other)))
	st = appendOK(t, s, "second", st, other)
	if err := s.Finish(ctx, "second", st, nil, sum(data)); !errors.Is(err, media.ErrExists) {
		t.Fatalf("Finish of a stored photo: err = %v, want ErrExists", err)
	}
	checkObject(t, b, s, data)
	if _, err := s.Append(ctx, "second", st, bytes.NewReader(nil)); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Append after ErrExists: err = %v, want ErrNotFound (the upload is discarded)", err)
	}
	checkClean(t, b)
}

func testConcurrentFinish(t *testing.T, b Backend) {
	data := randomBytes(30, 6<<20+9)
	ids := []string{"a", "b", "c"}
	states := make([]tus.State, len(ids))
	for i, id := range ids {
		s := b.Open(t)
		states[i] = appendOK(t, s, id, begin(t, s, id, int64(len(data))), data)
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = b.Open(t).Finish(t.Context(), id, states[i], nil, sum(data)) })
	}
	wg.Wait()
	stored := 0
	for i, err := range errs {
		switch {
		case err == nil:
			stored++
		case !errors.Is(err, media.ErrExists):
			t.Errorf("Finish %s: %v", ids[i], err)
		}
	}
	if stored != 1 {
		t.Errorf("%d Finish calls stored the photo, want 1 (the others ErrExists): %v", stored, errs)
	}
	checkObject(t, b, b.Open(t), data)
	checkClean(t, b)
}

func testAbort(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	data := randomBytes(40, 8<<20)

	empty := begin(t, s, "empty", 100)
	if err := s.Abort(ctx, "empty", empty); err != nil {
		t.Fatalf("Abort of an upload with no bytes: %v", err)
	}

	// Enough for a whole S3 part and an incomplete part after it.
	st := begin(t, s, "u1", int64(len(data)))
	st = appendOK(t, s, "u1", st, data[:7<<20])
	if err := b.Open(t).Abort(ctx, "u1", st); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	checkClean(t, b)
	s = b.Open(t)
	if _, err := s.Append(ctx, "u1", st, bytes.NewReader(data[7<<20:])); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Append after Abort: err = %v, want ErrNotFound", err)
	}
	if err := s.Abort(ctx, "u1", st); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("second Abort: err = %v, want ErrNotFound", err)
	}

	st = begin(t, s, "u2", int64(len(data)))
	st = appendOK(t, s, "u2", st, data)
	if err := s.Abort(ctx, "u2", st); err != nil {
		t.Fatalf("Abort of a complete upload: %v", err)
	}
	if err := s.Finish(ctx, "u2", st, nil, sum(data)); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Finish after Abort: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, media.EvidenceKey(sum(data))); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Stat of the aborted photo: err = %v, want ErrNotFound", err)
	}
	checkClean(t, b)
}

func testIncomplete(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	data := randomBytes(50, 6<<20)
	st := begin(t, s, "u1", int64(len(data)))
	st = appendOK(t, s, "u1", st, data[:4<<20])
	if err := s.Finish(ctx, "u1", st, nil, sum(data)); err == nil || errors.Is(err, media.ErrExists) {
		t.Fatalf("Finish of %d of %d bytes: err = %v, want a refusal", st.Offset, st.Size, err)
	}
	st = appendOK(t, s, "u1", st, data[4<<20:])
	finish(t, s, "u1", st, data)
	checkObject(t, b, s, data)
}

func testTooLong(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	data := randomBytes(60, 6<<20+1)
	st := begin(t, s, "u1", int64(len(data)-1))
	got, err := s.Append(ctx, "u1", st, bytes.NewReader(data))
	if err == nil {
		t.Fatal("Append of one byte more than the size: no error")
	}
	if got.Offset != got.Size {
		t.Fatalf("Append of one byte more than the size: offset %d, want the size %d", got.Offset, got.Size)
	}
	finish(t, s, "u1", persist(t, got), data[:len(data)-1])
	checkObject(t, b, s, data[:len(data)-1])
}

func testRanges(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	data := randomBytes(70, 11<<20+5) // three S3 parts
	st := begin(t, s, "u1", int64(len(data)))
	finish(t, s, "u1", appendOK(t, s, "u1", st, data), data)
	key := media.EvidenceKey(sum(data))
	n := int64(len(data))
	tests := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"all", 0, -1, data},
		{"a head", 0, 100, data[:100]},
		{"across a part boundary", 5<<20 - 3, 7, data[5<<20-3 : 5<<20+4]},
		{"from an offset to the end", 10 << 20, -1, data[10<<20:]},
		{"the last byte", n - 1, 1, data[n-1:]},
		{"a length past the end gives what there is", n - 2, 10, data[n-2:]},
		{"at the end: nothing", n, -1, nil},
		{"no length: nothing", 100, 0, nil},
	}
	for _, tt := range tests {
		got := read(t, s, key, tt.offset, tt.length)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s: Open(%d, %d) read %d bytes, want %d (or other bytes)", tt.name, tt.offset, tt.length, len(got), len(tt.want))
		}
	}
	if r, err := s.Open(ctx, key, n+1, -1); err == nil {
		r.Close()
		t.Error("Open past the end: no error")
	}
}

func testMissing(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	data := randomBytes(80, 1000)
	finish(t, s, "u1", appendOK(t, s, "u1", begin(t, s, "u1", 1000), data), data)
	for _, key := range []string{
		media.EvidenceKey(sum([]byte("never stored"))),
		media.ThumbKey(sum(data)),
		"photos", // a prefix of objects, not an object
		media.EvidenceKey(sum(data)) + "/below",
	} {
		if _, err := s.Stat(ctx, key); !errors.Is(err, media.ErrNotFound) {
			t.Errorf("Stat(%q): err = %v, want ErrNotFound", key, err)
		}
		if r, err := s.Open(ctx, key, 0, -1); !errors.Is(err, media.ErrNotFound) {
			if err == nil {
				r.Close()
			}
			t.Errorf("Open(%q): err = %v, want ErrNotFound", key, err)
		}
	}
}

func testBadNames(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	for _, key := range []string{
		"", "/photos/x", "../x", "photos/../../x", "photos/..", "photos//x", "photos/", "./photos/x",
		"photos/./x", "Photos/x", "photos/x y", "photos/x\x00", `photos\x`, "photos/é",
	} {
		if _, err := s.Stat(ctx, key); err == nil || errors.Is(err, media.ErrNotFound) {
			t.Errorf("Stat(%q): err = %v, want a refusal", key, err)
		}
		if r, err := s.Open(ctx, key, 0, -1); err == nil || errors.Is(err, media.ErrNotFound) {
			if err == nil {
				r.Close()
			}
			t.Errorf("Open(%q): err = %v, want a refusal", key, err)
		}
		if err := s.Put(ctx, key, bytes.NewReader([]byte("x")), 1); err == nil {
			t.Errorf("Put(%q): no error", key)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "../a", "A", "a b", "a\x00"} {
		if st, err := s.Begin(ctx, id, 10); err == nil {
			s.Abort(ctx, id, st)
			t.Errorf("Begin(%q): no error", id)
		}
	}
	checkClean(t, b)
}

func testPut(t *testing.T, b Backend) {
	ctx := t.Context()
	s := b.Open(t)
	key := media.ThumbKey(sum([]byte("photo")))
	put := func(data []byte) {
		t.Helper()
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	v1, v2 := randomBytes(90, 40<<10), randomBytes(91, 1234)
	put(v1)
	if got := read(t, b.Open(t), key, 0, -1); !bytes.Equal(got, v1) {
		t.Fatalf("read %d bytes after Put of %d", len(got), len(v1))
	}
	put(v2)
	if got := read(t, b.Open(t), key, 0, -1); !bytes.Equal(got, v2) {
		t.Fatalf("read %d bytes after replacing Put of %d", len(got), len(v2))
	}
	if err := s.Put(ctx, key, bytes.NewReader(v1[:100]), int64(len(v1))); err == nil {
		t.Error("Put of a short reader: no error")
	}
	if err := s.Put(ctx, key, io.MultiReader(bytes.NewReader(v1[:100])), int64(len(v1))); err == nil {
		t.Error("Put of a short reader that cannot seek: no error")
	}
	if err := s.Put(ctx, key, bytes.NewReader(v1), 100); err == nil {
		t.Error("Put of a long reader: no error")
	}
	if got := read(t, s, key, 0, -1); !bytes.Equal(got, v2) {
		t.Errorf("a failed Put changed the object: %d bytes, want the %d before", len(got), len(v2))
	}

	data := randomBytes(92, 100)
	finish(t, s, "u1", appendOK(t, s, "u1", begin(t, s, "u1", 100), data), data)
	if err := s.Put(ctx, media.EvidenceKey(sum(data)), bytes.NewReader(v1), int64(len(v1))); err == nil {
		t.Error("Put over evidence: no error")
	}
	checkObject(t, b, s, data)
	checkClean(t, b)
}

// testMemory stores 64 MiB from one reader and samples the heap while the
// store reads it: a store that held the object would show it long before
// the end. The bytes are generated as they are read, never held by the test.
func testMemory(t *testing.T, b Backend) {
	const size = 64 << 20
	s := b.Open(t)
	st := begin(t, s, "big", size)
	h := sha256.New()
	src := &heapSampler{r: io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{7}), size), h), every: 1 << 20}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	st, err := s.Append(t.Context(), "big", st, src)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if st.Offset != size {
		t.Fatalf("Append kept %d bytes, want %d", st.Offset, size)
	}
	if int64(src.samples) < size/src.every/2 {
		t.Fatalf("only %d heap samples", src.samples)
	}
	t.Logf("heap in use: %d MiB before, at most %d MiB while reading, %d MiB after",
		before.HeapInuse>>20, src.peak>>20, after.HeapInuse>>20)
	for what, v := range map[string]uint64{"while reading": src.peak, "after": after.HeapInuse} {
		if v > before.HeapInuse && v-before.HeapInuse > MemoryBudget {
			t.Errorf("heap in use grew by %d MiB %s a 64 MiB Append, budget %d MiB",
				(v-before.HeapInuse)>>20, what, MemoryBudget>>20)
		}
	}

	want := hex.EncodeToString(h.Sum(nil))
	if err := s.Finish(t.Context(), "big", persist(t, st), nil, want); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	for name, r := range map[string]func() io.ReadCloser{
		"store": func() io.ReadCloser { return open(t, s, media.EvidenceKey(want), 0, -1) },
		"raw":   func() io.ReadCloser { return b.ReadRaw(t, media.EvidenceKey(want)) },
	} {
		if got := hashOf(t, r()); got != want {
			t.Errorf("%s read of the 64 MiB object hashes to %s, want %s", name, got, want)
		}
	}
	checkClean(t, b)
}

type heapSampler struct {
	r             io.Reader
	every, unseen int64
	peak          uint64
	samples       int
}

// Read samples the heap every h.every bytes; it returns no more than that
// at once, so a caller reading in large chunks is sampled as often.
func (h *heapSampler) Read(p []byte) (int, error) {
	if int64(len(p)) > h.every {
		p = p[:h.every]
	}
	n, err := h.r.Read(p)
	h.unseen += int64(n)
	if h.unseen >= h.every {
		h.unseen -= h.every
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapInuse)
		h.samples++
	}
	return n, err
}

// cutReader returns n bytes of r, then ErrCut, and then ends its
// request's context if it has one.
type cutReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		if c.cancel != nil {
			c.cancel()
		}
		return 0, ErrCut
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func begin(t *testing.T, s media.BlobStore, id string, size int64) tus.State {
	t.Helper()
	st, err := s.Begin(t.Context(), id, size)
	if err != nil {
		t.Fatalf("Begin(%s, %d): %v", id, size, err)
	}
	if st.Offset != 0 || st.Size != size {
		t.Fatalf("Begin(%s, %d) = offset %d, size %d", id, size, st.Offset, st.Size)
	}
	return persist(t, st)
}

// appendOK appends data in one call and returns the State as the caller's
// store would give it back.
func appendOK(t *testing.T, s media.BlobStore, id string, st tus.State, data []byte) tus.State {
	t.Helper()
	got, err := s.Append(t.Context(), id, st, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Append(%s) of %d bytes at %d: %v", id, len(data), st.Offset, err)
	}
	if want := st.Offset + int64(len(data)); got.Offset != want || got.Size != st.Size {
		t.Fatalf("Append(%s) of %d bytes at %d: offset %d size %d, want %d and %d", id, len(data), st.Offset, got.Offset, got.Size, want, st.Size)
	}
	return persist(t, got)
}

func finish(t *testing.T, s media.BlobStore, id string, st tus.State, data []byte) {
	t.Helper()
	if err := s.Finish(t.Context(), id, st, nil, sum(data)); err != nil {
		t.Fatalf("Finish(%s): %v", id, err)
	}
}

// persist passes a State through JSON, as the server's store keeps it.
func persist(t *testing.T, st tus.State) tus.State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out tus.State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkObject checks the evidence object holding data through the store
// and around it: its size, its bytes, and that they hash to its name.
func checkObject(t *testing.T, b Backend, s media.BlobStore, data []byte) {
	t.Helper()
	key := media.EvidenceKey(sum(data))
	size, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%s): %v", key, err)
	}
	if size != int64(len(data)) {
		t.Errorf("Stat(%s) = %d, want %d", key, size, len(data))
	}
	if got := read(t, s, key, 0, -1); !bytes.Equal(got, data) {
		t.Errorf("Open(%s) read %d bytes, not the %d uploaded", key, len(got), len(data))
	}
	if got := hashOf(t, b.ReadRaw(t, key)); got != sum(data) {
		t.Errorf("%s read around the store hashes to %s", key, got)
	}
}

func checkClean(t *testing.T, b Backend) {
	t.Helper()
	if left := b.Leftovers(t); len(left) > 0 {
		t.Errorf("uploads left behind: %q", left)
	}
}

func open(t *testing.T, s media.BlobStore, key string, offset, length int64) io.ReadCloser {
	t.Helper()
	r, err := s.Open(t.Context(), key, offset, length)
	if err != nil {
		t.Fatalf("Open(%s, %d, %d): %v", key, offset, length, err)
	}
	return r
}

func read(t *testing.T, s media.BlobStore, key string, offset, length int64) []byte {
	t.Helper()
	r := open(t, s, key, offset, length)
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}

func hashOf(t *testing.T, r io.ReadCloser) string {
	t.Helper()
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("reading: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var key [32]byte
	copy(key[:], fmt.Sprint(seed))
	rand.NewChaCha8(key).Read(b)
	return b
}
