package fieldsync

import "encoding/json"

// Answers maps a report's checklist item ids to their values.
//
// On the wire it is always an object: a report with nothing answered yet
// has "answers": {}, never null.
type Answers map[string]json.RawMessage

// MarshalJSON writes nil as {}.
func (a Answers) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]json.RawMessage(a))
}
