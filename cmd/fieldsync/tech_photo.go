package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/fieldsync/fieldsync/clientsdk"
)

// errSyncRefused ends a sync that went through but in which the server
// refused work (mutations or photos) for good: the command exits with
// exitSyncRefused, so that a script tells it from a sync that failed.
var errSyncRefused = errors.New("synced, but the server refused work: see `fieldsync tech conflicts`")

// exitSyncRefused is the exit status of a sync that ends in errSyncRefused.
const exitSyncRefused = 3

// techPhoto retries or removes a photo the server refused for good.
func techPhoto(_ context.Context, t techCall) error {
	verb := t.args[0]
	id, err := strconv.ParseInt(t.args[1], 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("%w: photo %s takes a photo number as `fieldsync tech conflicts` lists it, not %q", errUsage, verb, t.args[1])
	}
	refused, err := t.c.RefusedPhotos()
	if err != nil {
		return err
	}
	var p *clientsdk.PhotoStatus
	for i := range refused {
		if refused[i].ID == id {
			p = &refused[i]
		}
	}
	switch {
	case verb != "retry" && verb != "remove":
		return fmt.Errorf("%w: photo takes retry or remove, not %q", errUsage, verb)
	case p == nil:
		return fmt.Errorf("photo %d is not refused work on this device: see `fieldsync tech conflicts`", id)
	case verb == "retry":
		if err := t.c.RetryPhoto(id); err != nil {
			return err
		}
		fmt.Fprintf(t.stdout, "photo %d (%s on slot %s) queued again for the next sync\n", id, p.Filename, p.Slot)
		return nil
	}
	if err := t.c.RemovePhoto(id); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "photo %d (%s on slot %s) removed from this device\n", id, p.Filename, p.Slot)
	return nil
}

// printRefusedPhotos lists the photos the server refused for good, a line
// each with what `photo retry|remove` takes, and returns how many.
func printRefusedPhotos(w io.Writer, c *clientsdk.Client) (int, error) {
	refused, err := c.RefusedPhotos()
	if err != nil {
		return 0, err
	}
	for _, p := range refused {
		fmt.Fprintf(w, "photo %d %s slot %s (%s): refused %s — %s\n", p.ID, p.ReportID, p.Slot, p.Filename, p.Error, p.Detail)
	}
	if len(refused) > 0 {
		fmt.Fprintln(w, "fix and attach again, then `fieldsync tech photo remove ID`; or `fieldsync tech photo retry ID`")
	}
	return len(refused), nil
}
