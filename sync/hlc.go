package syncproto

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HLC is a hybrid logical clock stamp: wall milliseconds, a logical
// counter for events within one millisecond, and the node (device id) that
// breaks ties. Written "<unix ms>:<counter>:<node>".
type HLC struct {
	Wall    int64
	Logical uint32
	Node    string
}

// ParseHLC reads the written form. The node may itself contain ':'.
func ParseHLC(s string) (HLC, error) {
	wall, rest, ok := strings.Cut(s, ":")
	if !ok {
		return HLC{}, fmt.Errorf("hlc %q: want <unix ms>:<counter>:<node>", s)
	}
	logical, node, ok := strings.Cut(rest, ":")
	if !ok || node == "" {
		return HLC{}, fmt.Errorf("hlc %q: want <unix ms>:<counter>:<node>", s)
	}
	w, err := strconv.ParseInt(wall, 10, 64)
	if err != nil || w < 0 {
		return HLC{}, fmt.Errorf("hlc %q: bad wall time", s)
	}
	l, err := strconv.ParseUint(logical, 10, 32)
	if err != nil {
		return HLC{}, fmt.Errorf("hlc %q: bad counter", s)
	}
	if len(node) > 128 {
		return HLC{}, fmt.Errorf("hlc %q: node too long", s)
	}
	return HLC{Wall: w, Logical: uint32(l), Node: node}, nil
}

func (h HLC) String() string {
	return strconv.FormatInt(h.Wall, 10) + ":" + strconv.FormatUint(uint64(h.Logical), 10) + ":" + h.Node
}

// IsZero reports whether h is the zero stamp.
func (h HLC) IsZero() bool { return h.Wall == 0 && h.Logical == 0 && h.Node == "" }

// Compare orders stamps: by wall time, then counter, then node.
func (h HLC) Compare(o HLC) int {
	switch {
	case h.Wall != o.Wall:
		return cmp(h.Wall, o.Wall)
	case h.Logical != o.Logical:
		return cmp(h.Logical, o.Logical)
	}
	return strings.Compare(h.Node, o.Node)
}

func cmp[T int64 | uint32](a, b T) int {
	if a < b {
		return -1
	}
	return 1
}

// Clamp bounds a stamp from a device to at most maxSkew ahead of the
// server's clock: a tablet whose clock runs a day fast must not win every
// conflict for a day.
func (h HLC) Clamp(now time.Time, maxSkew time.Duration) HLC {
	limit := now.Add(maxSkew).UnixMilli()
	if h.Wall > limit {
		h.Wall, h.Logical = limit, 0
	}
	return h
}

// Clock issues stamps for one node: monotonic even if the wall clock steps
// back, and ahead of every stamp it has observed.
type Clock struct {
	mu   sync.Mutex
	node string
	last HLC
	now  func() time.Time
}

// NewClock returns a clock for node; now may be nil for time.Now.
func NewClock(node string, now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{node: node, now: now, last: HLC{Node: node}}
}

// Now returns a new stamp, greater than every stamp issued or observed.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.now().UnixMilli()
	if wall > c.last.Wall {
		c.last = HLC{Wall: wall, Node: c.node}
	} else {
		c.last = HLC{Wall: c.last.Wall, Logical: c.last.Logical + 1, Node: c.node}
	}
	return c.last
}

// Observe moves the clock past a stamp seen from elsewhere.
func (c *Clock) Observe(h HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.Wall > c.last.Wall || h.Wall == c.last.Wall && h.Logical > c.last.Logical {
		c.last = HLC{Wall: h.Wall, Logical: h.Logical, Node: c.node}
	}
}
