package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAnswersAreAlwaysAnObject(t *testing.T) {
	tests := []struct {
		name    string
		answers Answers
		want    string
	}{
		{"a report with nothing answered has an empty object", nil, `"answers":{}`},
		{"an empty map is an empty object", Answers{}, `"answers":{}`},
		{"answers keep their values", Answers{"power_on": json.RawMessage(`true`)}, `"answers":{"power_on":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Embedded as the server's views embed it: the other fields stay.
			raw, err := json.Marshal(struct {
				Report
				Photos []string `json:"photos"`
			}{Report: Report{ID: "r1", Answers: tt.answers}, Photos: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(raw), tt.want) || !strings.Contains(string(raw), `"photos":[]`) {
				t.Fatalf("%s, want %s and the photos", raw, tt.want)
			}
		})
	}
}
