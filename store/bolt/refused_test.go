package bolt_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// refusing pushes mutations of an entity no build knows, which are all
// refused, through the real engine over the store.
type refusing struct {
	engine *syncproto.Engine
	now    time.Time
	seq    int64
}

func newRefusing(db *bolt.DB) *refusing {
	r := &refusing{now: dbEpoch}
	r.engine = &syncproto.Engine{Store: db, Now: func() time.Time { return r.now },
		Templates: func(string) (fieldsync.Template, bool) { return fieldsync.Template{}, false }}
	return r
}

func (r *refusing) push(t *testing.T, n, size int) []syncproto.Result {
	t.Helper()
	blob := `"` + strings.Repeat("x", size) + `"`
	batch := make([]syncproto.Mutation, n)
	for i := range batch {
		r.seq++
		batch[i] = syncproto.Mutation{Seq: r.seq, Entity: "gadget", ID: fmt.Sprintf("g-%d", r.seq), Op: "upsert",
			HLC: fmt.Sprintf("%d:0:tab-a", r.now.UnixMilli()), Fields: map[string]json.RawMessage{"blob": json.RawMessage(blob)}}
	}
	return r.pushBatch(t, batch)
}

func (r *refusing) pushBatch(t *testing.T, batch []syncproto.Mutation) []syncproto.Result {
	t.Helper()
	resp, err := r.engine.Push(t.Context(), syncproto.Principal{UserID: "tech-a", Role: fieldsync.RoleTechnician, Device: "tab-a", Install: "ins-a"},
		syncproto.PushRequest{DeviceID: "tab-a", InstallID: "ins-a", Mutations: batch})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range resp.Results {
		if res.Status != syncproto.Rejected && res.Status != syncproto.Duplicate {
			t.Fatalf("mutation %d: %+v", res.Seq, res)
		}
	}
	return resp.Results
}

// refusedKept counts the refusals the store keeps and their bytes.
func refusedKept(t *testing.T, db *bolt.DB) (count, bytes int) {
	t.Helper()
	if err := db.Dump("refused", func(k, v []byte) error {
		count, bytes = count+1, bytes+len(k)+len(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return count, bytes
}

// Three pushes of 250 mutations of 60 KB with an unknown entity are all
// answered, but the store keeps at most the device's bound of them.
func TestRefusedWorkIsBoundedInBytes(t *testing.T) {
	path := dbPath(t)
	db := dbOpen(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before := fi.Size()
	r := newRefusing(db)
	for range 3 {
		for _, res := range r.push(t, 250, 60<<10) {
			if res.Code != syncproto.CodeUnknownEntity {
				t.Fatalf("mutation %d: %+v", res.Seq, res)
			}
		}
	}
	count, bytes := refusedKept(t, db)
	if bytes > syncproto.MaxRefusedBytesPerDevice || count == 0 {
		t.Fatalf("the store keeps %d refusals of %d bytes; want some, of at most %d bytes", count, bytes, syncproto.MaxRefusedBytesPerDevice)
	}
	if fi, err = os.Stat(path); err != nil {
		t.Fatal(err)
	}
	// bbolt reuses the pages a transaction frees only after it, and grows
	// the file 16 MiB at a time: about twice the bound, rounded up.
	if grown, limit := fi.Size()-before, int64(2*syncproto.MaxRefusedBytesPerDevice+24<<20); grown > limit {
		t.Fatalf("the file grew by %d bytes for %d sent; want at most %d", grown, 3*250*60<<10, limit)
	}
	// The newest refusal is answered again on a replay.
	last := syncproto.Mutation{Seq: r.seq, Entity: "gadget", ID: fmt.Sprintf("g-%d", r.seq), Op: "upsert", HLC: "1:0:tab-a"}
	if res := r.pushBatch(t, []syncproto.Mutation{last}); res[0].Code != syncproto.CodeUnknownEntity {
		t.Fatalf("replay of the newest refusal: %+v", res[0])
	}
}

// The store keeps a device's latest refusals by count, and none past
// their age; a pruned one's seq answers duplicate when sent again.
func TestRefusedWorkIsBoundedInCountAndAge(t *testing.T) {
	db := dbOpen(t, dbPath(t))
	r := newRefusing(db)
	for range 3 {
		r.push(t, 500, 10)
	}
	if count, _ := refusedKept(t, db); count != syncproto.MaxRefusedPerDevice {
		t.Fatalf("the store keeps %d refusals, want %d", count, syncproto.MaxRefusedPerDevice)
	}
	first := syncproto.Mutation{Seq: 1, Entity: "gadget", ID: "g-1", Op: "upsert", HLC: "1:0:tab-a"}
	if res := r.pushBatch(t, []syncproto.Mutation{first}); res[0].Status != syncproto.Duplicate {
		t.Fatalf("replay of a pruned refusal: %+v", res[0])
	}
	r.now = r.now.Add(syncproto.MaxRefusedAge + time.Hour)
	r.push(t, 1, 10)
	if count, _ := refusedKept(t, db); count != 1 {
		t.Fatalf("after %s the store keeps %d refusals, want only the new one", syncproto.MaxRefusedAge, count)
	}
}
