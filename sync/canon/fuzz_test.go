package canon

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func seedVectors(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob("testdata/rfc8785/*.json")
	files = append(files, "testdata/golden.json", "testdata/golden_addendum.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `null`, `-0`, `1e21`, `[1e-7,5e-324]`, `{"b":1,"a":{"d":[],"c":""}}`, `"\ud83d\ude02"`, `{"\u0000":"\u001f"}`} {
		f.Add([]byte(s))
	}
}

// Whatever JSON comes in, the canonical form is valid JSON of the same
// value, is its own canonical form, and is the same on every run.
func FuzzCanonical(f *testing.F) {
	seedVectors(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := JSON(in)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("JSON(%q) = %q: not valid JSON", in, out)
		}
		again, err := JSON(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: JSON(%q) = %q, then %q (%v)", in, out, again, err)
		}
		if twice, _ := JSON(in); !bytes.Equal(twice, out) {
			t.Fatalf("not stable: JSON(%q) gave %q, then %q", in, out, twice)
		}
		var before, after any
		if err := json.Unmarshal(in, &before); err != nil {
			t.Fatalf("JSON accepted %q, which encoding/json refuses: %v", in, err)
		}
		if err := json.Unmarshal(out, &after); err != nil || !reflect.DeepEqual(before, after) {
			t.Fatalf("JSON(%q) = %q: a different value (%v)", in, out, err)
		}
	})
}

// Parse takes only documents that Bytes writes back unchanged.
func FuzzParse(f *testing.F) {
	seedVectors(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := Parse(in)
		if err != nil {
			return
		}
		out, err := d.Bytes()
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("Parse(%q) then Bytes = %q (%v)", in, out, err)
		}
	})
}
