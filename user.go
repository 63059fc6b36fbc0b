package fieldsync

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role says what a user may do. Every route names the roles it admits;
// ownership (which visits, which reports) is checked on top of the role.
type Role string

const (
	RoleAdmin      Role = "admin"      // manages users, devices and keys
	RoleDispatcher Role = "dispatcher" // plans and assigns visits
	RoleTechnician Role = "technician" // works visits on a tablet, offline first
	RoleCustomer   Role = "customer"   // reads and signs their own reports
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleAdmin, RoleDispatcher, RoleTechnician, RoleCustomer}

// ParseRole returns the role named s or an EInvalid error.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf(EInvalid, "unknown role %q (want admin, dispatcher, technician or customer)", s)
}

// User is an account. PasswordHash is an encoded argon2id hash and never
// leaves the server.
type User struct {
	ID           string    `json:"id"`
	Login        string    `json:"login"`
	Name         string    `json:"name,omitempty"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// DisabledAt, when set, is when an admin disabled the account: it may
	// not sign in, refresh or make requests until enabled again.
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// Disabled reports whether an admin has disabled the account.
func (u *User) Disabled() bool { return u.DisabledAt != nil }

// Limits on account fields; the API refuses anything longer.
const (
	MaxLoginLen    = 64
	MaxNameLen     = 200
	MinPasswordLen = 8
	MaxPasswordLen = 1024 // argon2 reads all of it; bound the work per attempt
	MaxDeviceIDLen = 128
)

// NormalizeLogin folds a login to the form it is stored and looked up by.
func NormalizeLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// ValidateNewUser checks the fields of an account about to be created.
func ValidateNewUser(login, name, password string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	l := NormalizeLogin(login)
	if l == "" {
		return Errorf(EInvalid, "login is required")
	}
	if len(l) > MaxLoginLen {
		return Errorf(EInvalid, "login is longer than %d bytes", MaxLoginLen)
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@+", r)) {
			return Errorf(EInvalid, "login may hold only letters, digits and . _ - @ +")
		}
	}
	if err := optionalText("name", strings.TrimSpace(name), MaxNameLen); err != nil {
		return err
	}
	return ValidatePassword("password", password)
}

// ValidatePassword checks a password about to be set; field names it in
// the error.
func ValidatePassword(field, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return Errorf(EInvalid, "%s must be at least %d characters", field, MinPasswordLen)
	}
	if len(password) > MaxPasswordLen {
		return Errorf(EInvalid, "%s is longer than %d bytes", field, MaxPasswordLen)
	}
	return nil
}

// Device is a registered tablet (or browser) of one user. Its id is the
// client's own and names a device only within that user's devices: two
// users may sign in with the same device id and hold two devices. An admin
// can revoke a device, which ends its sessions and stops its keys from
// signing anything new.
type Device struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Name      string     `json:"name,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	LastSeen  time.Time  `json:"last_seen"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Keys are every signing key the device registered, oldest first;
	// the last one not retired is current (see PresentKey).
	Keys []DeviceKey `json:"keys,omitempty"`
}

// Revoked reports whether an admin has revoked the device.
func (d *Device) Revoked() bool { return d.RevokedAt != nil }

// ValidateDeviceID checks a client-chosen device id.
func ValidateDeviceID(id string) error {
	if id == "" {
		return Errorf(EInvalid, "device_id is required")
	}
	if len(id) > MaxDeviceIDLen {
		return Errorf(EInvalid, "device_id is longer than %d bytes", MaxDeviceIDLen)
	}
	if !utf8.ValidString(id) {
		return Errorf(EInvalid, "device_id is not valid UTF-8")
	}
	for _, r := range id {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '/' {
			return Errorf(EInvalid, "device_id may not hold spaces, control characters or '/'")
		}
	}
	return nil
}

// Install is one install of the app on a device: a database that signed
// in. The server issues its id at the database's first login; the device's
// exactly-once push seqs are counted per install, so a reinstalled app,
// whose seqs start at 1 again, never meets the old install's seqs. Installs
// of devices registered before installs existed have the device's id.
type Install struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	DeviceID  string    `json:"device_id"`
	CreatedAt time.Time `json:"created_at"`
	// SlipPrefix starts the appraisal slip numbers this install issues
	// (SlipNo): given by the server when the install is made, never
	// shared with another install, never changed.
	SlipPrefix string `json:"slip_prefix,omitempty"`
}

// RefreshToken is the stored form of an opaque refresh token: only its
// hash is kept. Tokens of one login form a family; each refresh rotates
// the token (the old one gets RotatedAt) and presenting a rotated token
// again revokes the whole family.
type RefreshToken struct {
	Hash      string     `json:"hash"` // hex SHA-256 of the token
	Family    string     `json:"family"`
	UserID    string     `json:"user_id"`
	DeviceID  string     `json:"device_id"`
	InstallID string     `json:"install_id,omitempty"` // its family's
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RotatedAt *time.Time `json:"rotated_at,omitempty"`
}

// TokenFamily is one login's chain of refresh tokens, on one install.
type TokenFamily struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	DeviceID  string     `json:"device_id"`
	InstallID string     `json:"install_id"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}
