package authproto

import "github.com/fieldsync/fieldsync"

// LoginRequest is the body of POST /v1/auth/login. InstallID is the one
// the database signing in got at its first login; a fresh database sends
// none and gets a new one. DeviceKey is the device's Ed25519 public key,
// its raw 32 bytes in base64url without padding (a JWK's "x"); the server
// names it by its RFC 7638 thumbprint. Omitted, the device keeps the keys
// it has.
type LoginRequest struct {
	Login      string `json:"login"`
	Password   string `json:"password"`
	DeviceID   string `json:"device_id"`
	DeviceName string `json:"device_name"`
	InstallID  string `json:"install_id,omitempty"`
	DeviceKey  string `json:"device_key,omitempty"`
}

// RefreshRequest is the body of POST /v1/auth/refresh and /v1/auth/logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// Tokens is the answer to a login or a refresh (Session in openapi.json).
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`           // seconds until the access token expires
	InstallID    string `json:"install_id,omitempty"` // the install the session runs on (always sent by the server): push sends it
	// SlipPrefix is the install's slip prefix (fieldsync.SlipNo), sent
	// with a login's answer, not a refresh's: the same for every login of
	// the install, another for every other install.
	SlipPrefix string `json:"slip_prefix,omitempty"`
	User       User   `json:"user"`
}

// User names who signed in (SessionUser in openapi.json).
type User struct {
	ID   string         `json:"id"`
	Role fieldsync.Role `json:"role"`
}
