package syncproto

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync"
)

// Version is the protocol version this build speaks. Clients send theirs
// in the Fieldsync-Protocol header; the server refuses versions it cannot
// serve with 400 code "unsupported_protocol".
const Version = 1

// Header carries the client's protocol version.
const Header = "Fieldsync-Protocol"

// Ops of a mutation.
const (
	OpUpsert = "upsert"
	OpDelete = "delete"
	OpAction = "action"
)

// Ops of a change in a pull.
const (
	ChangeUpsert = "upsert"
	ChangeDelete = "delete"
	ChangeEvict  = "evict" // the record left the user's partition
)

// Results of a mutation.
const (
	Applied   = "applied"
	Duplicate = "duplicate"
	Conflict  = "conflict"
	Rejected  = "rejected"
)

// Limits of a push.
const (
	MaxBatch         = 500          // mutations a push applies; those past it are answered batch_too_large
	MaxPushMutations = 4 * MaxBatch // mutations a push may hold; a longer one is refused whole
	MaxFieldsBytes   = 64 << 10     // JSON of one mutation's fields
	MaxPullLimit     = 1000
	DefaultPullSize  = 500
)

// Mutation is one change a device made offline. Seq is the install's own
// counter (1, 2, 3 …); the server applies each seq of an install exactly
// once and in order. Fields holds only what changed.
type Mutation struct {
	Seq    int64                      `json:"seq"`
	Entity fieldsync.Entity           `json:"entity"`
	ID     string                     `json:"id"`
	Op     string                     `json:"op"`
	Action string                     `json:"action,omitempty"`
	Fields map[string]json.RawMessage `json:"fields,omitempty"`
	HLC    string                     `json:"hlc"`
}

// PushRequest is the body of POST /v1/sync/push. InstallID is the one the
// login answered (authproto.Tokens): seqs count per install.
type PushRequest struct {
	DeviceID  string     `json:"device_id"`
	InstallID string     `json:"install_id"`
	Mutations []Mutation `json:"mutations"`
}

// Result answers one mutation.
type Result struct {
	Seq    int64  `json:"seq"`
	Status string `json:"status"`
	Rev    int64  `json:"rev,omitempty"`
	Code   string `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// PushResponse is the answer to a push, one result per mutation in order.
type PushResponse struct {
	Results []Result `json:"results"`
}

// Change is one record as a pull delivers it: its current state (Data)
// for upserts, nothing for deletes and evictions.
type Change struct {
	Entity fieldsync.Entity `json:"entity"`
	ID     string           `json:"id"`
	Rev    int64            `json:"rev"`
	Op     string           `json:"op"`
	Data   json.RawMessage  `json:"data,omitempty"`
}

// PullResponse is the answer to GET /v1/sync/pull.
type PullResponse struct {
	Changes []Change `json:"changes"`
	Cursor  string   `json:"cursor"`
	HasMore bool     `json:"has_more"`
}
