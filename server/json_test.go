package server

import (
	"errors"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// FuzzDecodeJSON feeds request bodies, as any client may send them, to
// the decoder of every JSON route: it never panics, and what it refuses
// is a bad_json problem, never an error the client cannot read.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"device_id":"tab-1","mutations":[{"seq":1,"entity":"visit","id":"v1","op":"action","action":"arrive","hlc":"0000000000001:0000:tab-1"}]}`,
		`{"ticket_id":"t1","technician_id":"u1","window_start":"2030-01-01T09:00:00Z","window_end":"2030-01-01T12:00:00Z"}`,
		`{"mutations":[{"fields":{"a":"\ud800"}}]}`, "{\"name\":\"\xff\"}", `[`, `{"a":`, `{} {}`, `{"mutations":[[`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{&syncproto.PushRequest{}, &visitRequest{}, &customerRequest{}} {
			err := decodeJSON(body, v)
			var ae *fieldsync.Error
			if err != nil && (!errors.As(err, &ae) || ae.Code != fieldsync.EBadJSON || ae.Detail == "") {
				t.Fatalf("decodeJSON(%q) = %v, want nil or bad_json with a detail", body, err)
			}
		}
	})
}
