package syncproto

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
)

func fields(kv ...string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = json.RawMessage(kv[i+1])
	}
	return m
}

func TestMergeReport(t *testing.T) {
	early, late := HLC{Wall: 100, Node: "a"}, HLC{Wall: 200, Node: "b"}
	tests := []struct {
		name   string
		first  map[string]json.RawMessage
		at1    HLC
		second map[string]json.RawMessage
		at2    HLC
		check  func(r fieldsync.Report) bool
		code   string // of the second merge
	}{
		{"different fields from two tablets both survive", fields("findings", `"f"`), early, fields("cause", `"c"`), late,
			func(r fieldsync.Report) bool { return r.Findings == "f" && r.Cause == "c" }, ""},
		{"the later edit of one field wins even when it arrives first", fields("findings", `"late"`), late, fields("findings", `"early"`), early,
			func(r fieldsync.Report) bool { return r.Findings == "late" }, ""},
		{"answers merge item by item", fields("answers", `{"power_on":true}`), early, fields("answers", `{"notes":"n"}`), late,
			func(r fieldsync.Report) bool {
				return string(r.Answers["power_on"]) == "true" && string(r.Answers["notes"]) == `"n"`
			}, ""},
		{"an older answer to the same item loses", fields("answers", `{"power_on":true}`), late, fields("answers", `{"power_on":false}`), early,
			func(r fieldsync.Report) bool { return string(r.Answers["power_on"]) == "true" }, ""},
		{"a field unknown to this server is kept", nil, early, fields("customer_mood", `"calm"`), late,
			func(r fieldsync.Report) bool { return string(r.Extra["customer_mood"]) == `"calm"` }, ""},
		{"an answer of the wrong type is invalid", nil, early, fields("answers", `{"power_on":"yes"}`), late, nil, fieldsync.EInvalid},
		{"an answer to no item is invalid", nil, early, fields("answers", `{"colour":"red"}`), late, nil, fieldsync.EInvalid},
		{"the visit of a report cannot change", nil, early, fields("visit_id", `"other"`), late, nil, fieldsync.EInvalid},
		{"an unknown responsibility is invalid", nil, early, fields("responsibility", `"fate"`), late, nil, fieldsync.EInvalid},
		{"each field set is stamped with its edit's clock", fields("findings", `"f"`), early, fields("answers", `{"power_on":true}`), late,
			func(r fieldsync.Report) bool {
				return r.Clocks["findings"] == early.String() && r.Clocks["answers.power_on"] == late.String() && len(r.Clocks) == 2
			}, ""},
		{"an unknown field name over 64 bytes is refused as unknown_field", nil, early, fields(strings.Repeat("x", 65), `1`), late, nil, fieldsync.EUnknownField},
		{"a refused edit leaves the report as it was", fields("findings", `"f"`), early, fields("cause", `"c"`, "responsibility", `"fate"`), late,
			func(r fieldsync.Report) bool { return r.Cause == "" && len(r.Clocks) == 1 }, fieldsync.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportFixture.Clone()
			if _, err := mergeReport(&r, tt.first, tt.at1, templateFixture); err != nil {
				t.Fatal(err)
			}
			_, err := mergeReport(&r, tt.second, tt.at2, templateFixture)
			if got := fieldsync.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q, want %q (%v)", got, tt.code, err)
			}
			if tt.check != nil && !tt.check(r) {
				t.Fatalf("merged report %+v", r)
			}
		})
	}
}
