package fieldsync

import (
	"bytes"
	"encoding/json"
	"time"
)

// Actor is who makes a change: the user and the device they used.
type Actor struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id,omitempty"`
}

// AuditEntry records one change: who, from which device, when, and what
// changed, field by field. Entries are written in the transaction of the
// change they record, so there is never one without the other.
type AuditEntry struct {
	ID       string            `json:"id"`
	At       time.Time         `json:"at"`
	UserID   string            `json:"user_id"`
	DeviceID string            `json:"device_id,omitempty"`
	Action   string            `json:"action"` // e.g. "visit.assign"
	Entity   Entity            `json:"entity"`
	EntityID string            `json:"entity_id"`
	Changes  map[string]Change `json:"changes"`
}

// Change is a field's value before and after; a side is absent when the
// field did not exist (creation) or no longer does.
type Change struct {
	From json.RawMessage `json:"from,omitempty"`
	To   json.RawMessage `json:"to,omitempty"`
}

// Diff compares the JSON forms of two records field by field. before may
// be nil (a creation).
func Diff(before, after any) (map[string]Change, error) {
	a, err := fields(before)
	if err != nil {
		return nil, err
	}
	b, err := fields(after)
	if err != nil {
		return nil, err
	}
	out := map[string]Change{}
	for k, v := range b {
		if old, ok := a[k]; !ok || !bytes.Equal(old, v) {
			out[k] = Change{From: a[k], To: v}
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			out[k] = Change{From: v}
		}
	}
	return out, nil
}

func fields(v any) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if v == nil {
		return m, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(raw) == "null" {
		return m, nil
	}
	return m, json.Unmarshal(raw, &m)
}

// VisitBundle is a visit with everything a technician needs on site.
type VisitBundle struct {
	Visit    Visit    `json:"visit"`
	Ticket   Ticket   `json:"ticket"`
	Customer Customer `json:"customer"`
	Site     Site     `json:"site"`
	Asset    Asset    `json:"asset"`
	Reports  []Report `json:"reports"`
}

// AuditFilter selects audit entries; Entity and ID narrow to one record.
type AuditFilter struct {
	Entity Entity
	ID     string
	Cursor string
	Limit  int
}

// Paging bounds for every list.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)
