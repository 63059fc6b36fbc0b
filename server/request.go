package server

import (
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

// newID makes a record id: a UUIDv7, so ids sort in creation order.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// actor is who makes a change, for the audit trail.
func actor(c echo.Context) fieldsync.Actor {
	p := principalFrom(c)
	return fieldsync.Actor{UserID: p.UserID, DeviceID: p.Device}
}

// notVisible answers a request for a record the caller may not see as if
// it did not exist, so ids cannot be probed: in the words the store uses
// for a missing record.
func notVisible(kind fieldsync.Entity, id string) error {
	return fieldsync.Errorf(fieldsync.ENotFound, "%s: no record %q", kind, id)
}

// queryTime reads an optional RFC 3339 time parameter.
func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fieldsync.Errorf(fieldsync.EInvalid, "%s: not an RFC 3339 time, such as 2025-03-01T09:00:00Z", name)
	}
	return t, nil
}

// queryLimit reads an optional page size; 0 when absent.
func queryLimit(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > fieldsync.MaxLimit {
		return 0, fieldsync.Errorf(fieldsync.EInvalid, "limit must be a whole number from 1 to %d", fieldsync.MaxLimit)
	}
	return n, nil
}
