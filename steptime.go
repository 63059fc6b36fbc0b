package fieldsync

import (
	"maps"
	"slices"
	"time"
)

// MaxClockSkew is how far a device's clock may stray unremarked. A step a
// device logs (a visit's departure, arrival or finish, a report's
// creation or signature) is recorded at the device's time, bounded: no
// more than MaxClockSkew ahead of when the server received it, and never
// before the record's creation or its previous step. When that bound
// moves the time by more than MaxClockSkew, either way, the step is
// listed in the record's ClockSkew for dispatchers.
const MaxClockSkew = 5 * time.Minute

// ClockSkew flags a step whose device time was far from the time kept:
// the device's clock was wrong, or the device lied.
type ClockSkew struct {
	Field    string    `json:"field"`     // the step's field: departed_at, arrived_at, finished_at, created_at, signed_at
	DeviceAt time.Time `json:"device_at"` // what the device's clock said
	StoredAt time.Time `json:"stored_at"` // what the field holds
}

// StepTime returns when a step a device logged at deviceAt, and the server
// received at received, is recorded: deviceAt, no later than MaxClockSkew
// past received and no earlier than any of floors (the record's creation
// and previous steps; nil ones are skipped). skewed reports whether the
// bounds moved it by more than MaxClockSkew.
func StepTime(deviceAt, received time.Time, floors ...*time.Time) (at time.Time, skewed bool) {
	at = deviceAt
	if limit := received.Add(MaxClockSkew); at.After(limit) {
		at = limit
	}
	for _, f := range floors {
		if f != nil && at.Before(*f) {
			at = *f
		}
	}
	d := at.Sub(deviceAt)
	return at, d > MaxClockSkew || d < -MaxClockSkew
}

// stepRecord is what a record keeps of a step beside its time: when the
// server received it, and a warning when the device's clock was far off.
// It returns new map and slice values, so a copy of the record that
// shares the old ones is left as it was.
func stepRecord(received map[string]time.Time, skews []ClockSkew, field string, deviceAt, receivedAt, at time.Time, skewed bool) (map[string]time.Time, []ClockSkew) {
	received = maps.Clone(received)
	if received == nil {
		received = map[string]time.Time{}
	}
	received[field] = receivedAt
	skews = forgetStep(skews, field)
	if skewed {
		skews = appendSkew(skews, field, deviceAt, at)
	}
	return received, skews
}

// appendSkew returns skews with the warning about field replaced, as a
// new slice.
func appendSkew(skews []ClockSkew, field string, deviceAt, at time.Time) []ClockSkew {
	return append(forgetStep(skews, field), ClockSkew{Field: field, DeviceAt: deviceAt, StoredAt: at})
}

// forgetStep returns skews without the warning about field, as a new
// slice; at most one warning per field is kept, the latest.
func forgetStep(skews []ClockSkew, field string) []ClockSkew {
	out := slices.DeleteFunc(slices.Clone(skews), func(s ClockSkew) bool { return s.Field == field })
	if len(out) == 0 {
		return nil
	}
	return out
}
