package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseSecondVisit(t *testing.T) {
	known := func(code string) bool { return code == "tv-psu" || code == "tv-remote" }
	tests := []struct {
		name   string
		fields string
		want   string // the parts and note as JSON, or the error's detail fragment
		bad    bool
	}{
		{"no fields asks for no parts", `{}`, `{"parts":[]}`, false},
		{"parts and a note", `{"parts":[{"code":"tv-psu","qty":2},{"code":"tv-remote","qty":1}],"note":" bring a ladder "}`, `{"parts":[{"code":"tv-psu","qty":2},{"code":"tv-remote","qty":1}],"note":"bring a ladder"}`, false},
		{"an unknown code is named", `{"parts":[{"code":"tv-psu","qty":1},{"code":"tv-laser","qty":1}]}`, `parts[1].code: "tv-laser" is not a part of the price list`, true},
		{"a code twice", `{"parts":[{"code":"tv-psu","qty":1},{"code":"tv-psu","qty":1}]}`, `parts[1].code: "tv-psu" is listed twice`, true},
		{"no code", `{"parts":[{"qty":1}]}`, `parts[0].code is required`, true},
		{"no qty", `{"parts":[{"code":"tv-psu"}]}`, `parts[0].qty: 0 is outside 1..999`, true},
		{"too many", `{"parts":[{"code":"tv-psu","qty":1000}]}`, `parts[0].qty: 1000`, true},
		{"an unknown field", `{"reason":"x"}`, `takes parts and note, not "reason"`, true},
		{"parts of the wrong type", `{"parts":"tv-psu"}`, `parts:`, true},
		{"a note too long", `{"note":"` + strings.Repeat("x", MaxLongText+1) + `"}`, `note`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.fields), &fields); err != nil {
				t.Fatal(err)
			}
			sv, err := ParseSecondVisit(fields, known)
			if tt.bad {
				if ErrorCode(err) != EInvalid || !strings.Contains(ErrorDetail(err), tt.want) {
					t.Fatalf("err = %v, want invalid naming %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(sv); string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	// Without a price list (the tablet before a pull), codes are the server's to check.
	if _, err := ParseSecondVisit(map[string]json.RawMessage{"parts": json.RawMessage(`[{"code":"any","qty":1}]`)}, nil); err != nil {
		t.Fatal(err)
	}
}
