package signature

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/photo"
)

func TestRenderCarriesTheStrokesBack(t *testing.T) {
	for _, s := range []Strokes{
		Builtin(),
		{{{X: 5, Y: 5, T: 0}}}, // a single dot
		{{{X: 0, Y: 10, T: 0}, {X: MaxCoord, Y: 10, T: 5}}},                         // flat
		{{{X: 3.25, Y: 0, T: 0}, {X: 3.25, Y: 0.5, T: 1}}, {{X: 1e-9, Y: 7, T: 1}}}, // fractions
	} {
		b, err := Render(s, 600, 200)
		if err != nil {
			t.Fatalf("Render(%v): %v", s, err)
		}
		got, err := FromPNG(b)
		if err != nil {
			t.Fatalf("FromPNG: %v", err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("FromPNG = %v, want %v", got, s)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, err := Render(Builtin(), 600, 200)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(Builtin(), 600, 200)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the same strokes rendered twice gave different bytes")
	}
	c, err := Render(Strokes{Builtin()[0]}, 600, 200)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("different strokes gave the same bytes")
	}
}

func TestRenderIsAPhotoOfBlackOnWhite(t *testing.T) {
	b, err := Render(Builtin(), 600, 200)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("image/png cannot decode it: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 600 || got.Y != 200 {
		t.Fatalf("decoded size %v, want 600×200", got)
	}
	if typ, err := photo.Sniff(b); err != nil || typ != photo.PNG {
		t.Fatalf("photo.Sniff = %q, %v; want image/png", typ, err)
	}
	info, err := photo.Inspect(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("photo.Inspect: %v", err)
	}
	if info.Type != photo.PNG || info.Width != 600 || info.Height != 200 {
		t.Fatalf("photo.Inspect = %+v, want image/png 600×200", info)
	}
	// Ink where the pen went, paper elsewhere.
	var black, white, grey int
	for y := range 200 {
		for x := range 600 {
			r, _, _, _ := img.At(x, y).RGBA()
			switch r >> 8 {
			case 0:
				black++
			case 255:
				white++
			default:
				grey++
			}
		}
	}
	if black == 0 || grey == 0 || white < 600*200*3/4 {
		t.Fatalf("black %d, grey %d, white %d pixels: want ink, anti-aliased edges, mostly paper", black, grey, white)
	}
	// The first stroke starts at the bounding box's left edge: pen inside
	// the margin there, none at the image's very edge.
	if r, _, _, _ := img.At(0, 100).RGBA(); r>>8 != 255 {
		t.Fatalf("pixel (0,100) is %d, want white margin", r>>8)
	}
}

func TestBadStrokesAreRefused(t *testing.T) {
	many := make(Strokes, MaxStrokes+1)
	for i := range many {
		many[i] = Stroke{{X: 1, Y: 1, T: int64(i)}}
	}
	long := Strokes{make(Stroke, MaxPoints+1)}
	tests := []struct {
		name string
		s    Strokes
		want string
	}{
		{"no stroke", Strokes{}, "no stroke"},
		{"nil", nil, "no stroke"},
		{"an empty stroke", Strokes{{{X: 1, Y: 1}}, {}}, "stroke 1 has no point"},
		{"too many strokes", many, "201 strokes"},
		{"too many points", long, "more than 20000 points"},
		{"NaN", Strokes{{{X: math.NaN(), Y: 1}}}, "stroke 0 point 0: x and y must be finite"},
		{"infinite", Strokes{{{X: 1, Y: math.Inf(1)}}}, "must be finite"},
		{"negative", Strokes{{{X: -1, Y: 1}}}, "from 0 to 100000"},
		{"off the pad", Strokes{{{X: 1, Y: 1}, {X: MaxCoord + 1, Y: 1}}}, "stroke 0 point 1"},
		{"negative time", Strokes{{{X: 1, Y: 1, T: -1}}}, "t must be milliseconds"},
		{"time going back", Strokes{{{X: 1, Y: 1, T: 5}, {X: 2, Y: 2, T: 4}}}, "stroke 0 point 1: t 4 is before the previous point's 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.s, 600, 200)
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want invalid naming %q", err, tt.want)
			}
		})
	}
	for _, size := range [][2]int{{0, 200}, {600, MinSide - 1}, {MaxSide + 1, 200}} {
		if _, err := Render(Builtin(), size[0], size[1]); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
			t.Fatalf("Render at %v: error %v, want invalid", size, err)
		}
	}
}

func TestParse(t *testing.T) {
	s, err := Parse([]byte(`[[{"x":12.5,"y":40,"t":0},{"x":13,"y":41.5,"t":16}],[{"x":60,"y":38,"t":410}]]`))
	if err != nil {
		t.Fatal(err)
	}
	want := Strokes{{{12.5, 40, 0}, {13, 41.5, 16}}, {{60, 38, 410}}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("Parse = %v, want %v", s, want)
	}
	for _, bad := range []string{
		``, `{}`, `[]`, `[[]]`, `[[{"x":1,"y":1,"t":0,"pressure":1}]]`,
		`[[{"x":1,"y":1,"t":0}]] []`, `[[{"x":"1","y":1,"t":0}]]`, `[[{"x":1e400,"y":1,"t":0}]]`,
		`[[{"x":1,"y":1,"t":0.5}]]`, "[[" + strings.Repeat(`{"x":1,"y":1,"t":0},`, MaxJSONBytes/20) + `{"x":1,"y":1,"t":0}]]`,
	} {
		if _, err := Parse([]byte(bad)); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
			t.Errorf("Parse(%.60q): error %v, want invalid", bad, err)
		}
	}
}

func TestFromPNGRefusesWhatRenderDidNotMake(t *testing.T) {
	good, err := Render(Builtin(), 300, 100)
	if err != nil {
		t.Fatal(err)
	}
	text := bytes.Index(good, []byte("tEXt"))
	plain, err := Render(Builtin(), 300, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The same PNG without the strokes chunk.
	n := int(binary.BigEndian.Uint32(good[text-4:]))
	plain = append(plain[:text-4:text-4], good[text+n+8:]...)
	if _, err := png.Decode(bytes.NewReader(plain)); err != nil {
		t.Fatalf("the PNG without its strokes no longer decodes: %v", err)
	}
	twice := append(append(append([]byte{}, good[:text+n+8]...), good[text-4:text+n+8]...), good[text+n+8:]...)
	flipped := append([]byte{}, good...)
	flipped[text+10] ^= 1
	badJSON := append([]byte{}, good[:text-4]...)
	badJSON = append(badJSON, pngChunk("tEXt", []byte(Keyword+"\x00[[]]"))...)
	badJSON = append(badJSON, good[text+n+8:]...)
	for _, tt := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a PNG"},
		{"a JPEG", []byte{0xFF, 0xD8, 0xFF, 0xE0}, "not a PNG"},
		{"cut short", good[:len(good)-6], "without an IEND"},
		{"no strokes", plain, "carries no fieldsync-strokes"},
		{"strokes twice", twice, "two fieldsync-strokes"},
		{"a changed byte", flipped, "CRC does not match"},
		{"strokes that do not validate", badJSON, "stroke 0 has no point"},
		{"a chunk longer than the file", append(good[:33:33], 0x7F, 0xFF, 0xFF, 0xFF, 'I', 'D', 'A', 'T', 0, 0, 0, 0), "claims"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromPNG(tt.b)
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FromPNG error = %v, want invalid naming %q", err, tt.want)
			}
		})
	}
}

func TestPNGChunkCRC(t *testing.T) {
	c := pngChunk("IEND", nil)
	// The IEND chunk every PNG ends with.
	if want := []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}; !bytes.Equal(c, want) {
		t.Fatalf("pngChunk(IEND) = % x, want % x", c, want)
	}
}

// FuzzFromPNG feeds arbitrary bytes to FromPNG: it may not panic, and
// what it returns is valid strokes that render.
func FuzzFromPNG(f *testing.F) {
	good, err := Render(Builtin(), 64, 32)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:40])
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := FromPNG(b)
		if err != nil {
			if fieldsync.ErrorCode(err) != fieldsync.EInvalid {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("FromPNG returned strokes that do not validate: %v", err)
		}
		if _, err := Render(s, 32, 32); err != nil {
			t.Fatalf("Render of what FromPNG returned: %v", err)
		}
	})
}
