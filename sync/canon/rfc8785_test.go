package canon

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestJSONMatchesRFC8785Vectors(t *testing.T) {
	ins, err := filepath.Glob("testdata/rfc8785/*.in.json")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata/rfc8785", name+".out.json"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := JSON(src)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("canonical form\n got %s\nwant %s", got, want)
			}
		})
	}
}

// The IEEE 754 values of RFC 8785 Appendix B and their serialization.
func TestJSONNumbersMatchRFC8785AppendixB(t *testing.T) {
	for _, c := range []struct{ bits, want string }{
		{"0000000000000000", "0"},
		{"8000000000000000", "0"}, // minus zero
		{"0000000000000001", "5e-324"},
		{"8000000000000001", "-5e-324"},
		{"7fefffffffffffff", "1.7976931348623157e+308"},
		{"ffefffffffffffff", "-1.7976931348623157e+308"},
		{"4340000000000000", "9007199254740992"},
		{"c340000000000000", "-9007199254740992"},
		{"4430000000000000", "295147905179352830000"},
		{"44b52d02c7e14af5", "9.999999999999997e+22"},
		{"44b52d02c7e14af6", "1e+23"},
		{"44b52d02c7e14af7", "1.0000000000000001e+23"},
		{"444b1ae4d6e2ef4e", "999999999999999700000"},
		{"444b1ae4d6e2ef4f", "999999999999999900000"},
		{"444b1ae4d6e2ef50", "1e+21"},
		{"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"},
		{"3eb0c6f7a0b5ed8d", "0.000001"},
		{"41b3de4355555553", "333333333.3333332"},
		{"41b3de4355555554", "333333333.33333325"},
		{"41b3de4355555555", "333333333.3333333"},
		{"41b3de4355555556", "333333333.3333334"},
		{"41b3de4355555557", "333333333.33333343"},
		{"becbf647612f3696", "-0.0000033333333333333333"},
		{"43143ff3c1cb0959", "1424953923781206.2"},
	} {
		t.Run(c.want, func(t *testing.T) {
			bits, err := strconv.ParseUint(c.bits, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			// Go's shortest round-trip form parses back to the same double.
			in := strconv.FormatFloat(math.Float64frombits(bits), 'g', -1, 64)
			got, err := JSON([]byte(in))
			if err != nil {
				t.Fatalf("JSON(%s): %v", in, err)
			}
			if string(got) != c.want {
				t.Errorf("JSON(%s) = %s, want %s", in, got, c.want)
			}
		})
	}
}

func TestJSONRefusesWhatRFC8785Refuses(t *testing.T) {
	for name, in := range map[string]string{
		"a duplicate name":         `{"a":1,"a":2}`,
		"a number past a double":   `1e400`,
		"a lone surrogate":         `"\ud800"`,
		"invalid UTF-8":            "\"\xff\"",
		"two values":               `1 2`,
		"nothing":                  ``,
		"a trailing comma":         `[1,]`,
		"a name that is no string": `{1:2}`,
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := JSON([]byte(in)); err == nil {
				t.Errorf("JSON(%q) = %s, want an error", in, out)
			}
		})
	}
}
