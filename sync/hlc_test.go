package syncproto

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseHLC(t *testing.T) {
	tests := []struct {
		name, in string
		want     HLC
		ok       bool
	}{
		{"the documented form parses", "1795305600000:0:tab-7", HLC{1795305600000, 0, "tab-7"}, true},
		{"a node may hold colons", "1:2:tab:7", HLC{1, 2, "tab:7"}, true},
		{"a node is required", "1:2:", HLC{}, false},
		{"two parts are not enough", "1:2", HLC{}, false},
		{"a negative wall time is refused", "-1:0:a", HLC{}, false},
		{"a counter must be a number", "1:x:a", HLC{}, false},
		{"a counter must fit 32 bits", "1:4294967296:a", HLC{}, false},
		{"empty is refused", "", HLC{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHLC(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseHLC(%q) = %+v, %v", tt.in, got, err)
			}
			if tt.ok && got.String() != tt.in {
				t.Fatalf("round trip %q -> %q", tt.in, got.String())
			}
		})
	}
}

func TestHLCOrder(t *testing.T) {
	tests := []struct {
		name string
		a, b HLC
		want int
	}{
		{"a later wall time wins", HLC{2, 0, "a"}, HLC{1, 9, "z"}, 1},
		{"within a millisecond the counter decides", HLC{1, 1, "a"}, HLC{1, 2, "a"}, -1},
		{"the node breaks a tie", HLC{1, 1, "b"}, HLC{1, 1, "a"}, 1},
		{"a stamp equals itself", HLC{1, 1, "a"}, HLC{1, 1, "a"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Fatalf("Compare = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestClockIsMonotonicAndObserves(t *testing.T) {
	wall := time.UnixMilli(1000)
	c := NewClock("tab", func() time.Time { return wall })
	a := c.Now()
	b := c.Now()
	if b.Compare(a) <= 0 || b.Wall != 1000 || b.Logical != 1 {
		t.Fatalf("two stamps in one millisecond: %v then %v", a, b)
	}
	wall = time.UnixMilli(500) // the tablet's clock steps back
	if d := c.Now(); d.Compare(b) <= 0 {
		t.Fatalf("a clock stepping back gave %v after %v", d, b)
	}
	c.Observe(HLC{Wall: 9000, Logical: 3, Node: "server"})
	if e := c.Now(); e.Wall != 9000 || e.Logical != 4 || e.Node != "tab" {
		t.Fatalf("after observing 9000:3 the clock gave %v", e)
	}
}

func TestClampBoundsAFastTablet(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	fast := HLC{Wall: now.Add(time.Hour).UnixMilli(), Logical: 7, Node: "tab"}
	got := fast.Clamp(now, MaxSkew)
	if got.Wall != now.Add(MaxSkew).UnixMilli() || got.Logical != 0 {
		t.Fatalf("clamped to %v", got)
	}
	slow := HLC{Wall: 5, Node: "tab"}
	if slow.Clamp(now, MaxSkew) != slow {
		t.Fatal("a stamp in the past must not change")
	}
}

// FuzzPushRequest feeds untrusted push bodies through decoding and the
// draft merge: nothing may panic, and whatever merges must re-encode.
func FuzzPushRequest(f *testing.F) {
	f.Add([]byte(`{"device_id":"t","mutations":[{"seq":1,"entity":"report","id":"r","op":"upsert","fields":{"answers":{"power_on":true},"findings":"x"},"hlc":"1:0:t"}]}`))
	f.Add([]byte(`{"mutations":[{"fields":{"answers":null,"responsibility":7}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req PushRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		for _, m := range req.Mutations {
			stamp, err := ParseHLC(m.HLC)
			if err != nil {
				stamp = HLC{Wall: 1, Node: "f"}
			}
			merged := reportFixture.Clone()
			if _, err := mergeReport(&merged, m.Fields, stamp, templateFixture); err == nil {
				if _, err := json.Marshal(merged); err != nil {
					t.Fatalf("a merged report does not encode: %v", err)
				}
			}
		}
	})
}
