package signature

import (
	"bytes"
	"encoding/json"
	"io"
	"math"

	"github.com/fieldsync/fieldsync"
)

// Limits on what a signature may hold. A signature is a few dozen
// strokes of a few hundred points; these leave room for a slow, careful
// hand and refuse anything that is not a signature.
const (
	MaxStrokes   = 200
	MaxPoints    = 20_000 // in all strokes together
	MaxJSONBytes = 256 << 10
	// MaxCoord bounds X and Y: points lie on a pad of at most
	// MaxCoord×MaxCoord units (the pad's own pixels), origin top left.
	MaxCoord = 100_000
	// MaxMillis bounds T: a signature takes less than an hour.
	MaxMillis = 3_600_000
)

// Point is where the pen was, in the pad's units (X rightwards, Y
// downwards, both in [0, MaxCoord]), T milliseconds after the
// signature's first point.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	T int64   `json:"t"`
}

// Stroke is the points of one touch of the pen, in the order drawn; its
// T never decreases.
type Stroke []Point

// Strokes is a whole signature. Its JSON is an array of strokes, each an
// array of points:
//
//	[[{"x":12.5,"y":40,"t":0},{"x":13,"y":41.5,"t":16}],[{"x":60,"y":38,"t":410}]]
type Strokes []Stroke

// Validate checks s against the limits above: at least one stroke, no
// empty stroke, at most MaxStrokes strokes and MaxPoints points, every
// coordinate finite and on the pad, every T in [0, MaxMillis] and never
// decreasing within a stroke. It returns a fieldsync EInvalid naming the
// first point at fault.
func (s Strokes) Validate() error {
	if len(s) == 0 {
		return fieldsync.Errorf(fieldsync.EInvalid, "signature has no stroke; draw at least one")
	}
	if len(s) > MaxStrokes {
		return fieldsync.Errorf(fieldsync.EInvalid, "signature has %d strokes; at most %d are taken", len(s), MaxStrokes)
	}
	n := 0
	for i, st := range s {
		if len(st) == 0 {
			return fieldsync.Errorf(fieldsync.EInvalid, "stroke %d has no point; every stroke needs at least one", i)
		}
		n += len(st)
		if n > MaxPoints {
			return fieldsync.Errorf(fieldsync.EInvalid, "signature has more than %d points", MaxPoints)
		}
		for j, p := range st {
			if !onPad(p.X) || !onPad(p.Y) {
				return fieldsync.Errorf(fieldsync.EInvalid, "stroke %d point %d: x and y must be finite, from 0 to %d (got %v, %v)", i, j, MaxCoord, p.X, p.Y)
			}
			if p.T < 0 || p.T > MaxMillis {
				return fieldsync.Errorf(fieldsync.EInvalid, "stroke %d point %d: t must be milliseconds from 0 to %d (got %d)", i, j, MaxMillis, p.T)
			}
			if j > 0 && p.T < st[j-1].T {
				return fieldsync.Errorf(fieldsync.EInvalid, "stroke %d point %d: t %d is before the previous point's %d", i, j, p.T, st[j-1].T)
			}
		}
	}
	return nil
}

func onPad(v float64) bool { return !math.IsNaN(v) && v >= 0 && v <= MaxCoord }

// Parse reads strokes from their JSON (see Strokes) and validates them.
// Unknown fields, trailing data and more than MaxJSONBytes are refused,
// with EInvalid.
func Parse(b []byte) (Strokes, error) {
	if len(b) > MaxJSONBytes {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature strokes are %d bytes of JSON; at most %d are taken", len(b), MaxJSONBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Strokes
	if err := dec.Decode(&s); err != nil {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature strokes are not a JSON array of strokes of {\"x\",\"y\",\"t\"} points: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "signature strokes: data after the JSON array")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Builtin is a fixed short scribble on a 600×200 pad, for scripts and
// tests that need a signature and have no hand to draw one.
func Builtin() Strokes {
	return Strokes{
		{{40, 150, 0}, {60, 60, 40}, {80, 150, 80}, {100, 60, 120}, {120, 150, 160}},
		{{150, 100, 420}, {200, 80, 460}, {250, 120, 500}, {300, 70, 540}, {350, 130, 580}, {400, 90, 620}},
		{{430, 160, 900}, {560, 155, 980}},
	}
}
