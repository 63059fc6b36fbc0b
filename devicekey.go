package fieldsync

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// DeviceKey is one Ed25519 public key a device signed with. A device has
// one current key at a time; registering another retires it. Keys are
// never deleted: a retired key still verifies what it signed before.
type DeviceKey struct {
	// ID is the key's RFC 7638 JWK thumbprint (see DeviceKeyID).
	ID string `json:"id"`
	// PublicKey is the raw 32-byte key, base64url without padding (the
	// JWK's "x").
	PublicKey string     `json:"public_key"`
	AddedAt   time.Time  `json:"added_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// ParseDeviceKey reads a public key as a login sends it (base64url of the
// raw 32 bytes, no padding) into a DeviceKey added at now. EInvalid
// names the field to fix.
func ParseDeviceKey(s string, now time.Time) (*DeviceKey, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, Errorf(EInvalid, "device_key must be an Ed25519 public key: its 32 bytes in base64url without padding (43 characters)")
	}
	return &DeviceKey{ID: DeviceKeyID(ed25519.PublicKey(raw)), PublicKey: s, AddedAt: now}, nil
}

// DeviceKeyID is the RFC 7638 thumbprint of the key's JWK (RFC 8037:
// {"crv":"Ed25519","kty":"OKP","x":…}): base64url, no padding, of the
// SHA-256 of its required members in lexical order. Any JOSE library
// computes the same id from the key.
func DeviceKeyID(pub ed25519.PublicKey) string {
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Verify reports whether sig is the key's signature of msg. It says
// nothing about whether the key could sign then (Device.KeyValidAt).
func (k *DeviceKey) Verify(msg, sig []byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(k.PublicKey)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(raw), msg, sig)
}

// Key returns the device's key id, current or retired, or nil.
func (d *Device) Key(id string) *DeviceKey {
	for i := range d.Keys {
		if d.Keys[i].ID == id {
			return &d.Keys[i]
		}
	}
	return nil
}

// KeyValidAt reports whether the key id of the device could sign at t:
// the key was registered at or before t, and neither retired nor the
// device revoked at t. A signature made while its key was valid stays
// valid after either; nothing signed after them is. A verifier takes t
// from what it trusts (the time the server received the signature), not
// from the device's claim, so a revoked device cannot backdate.
func (d *Device) KeyValidAt(id string, t time.Time) bool {
	k := d.Key(id)
	switch {
	case k == nil, t.Before(k.AddedAt):
		return false
	case k.RetiredAt != nil && !t.Before(*k.RetiredAt):
		return false
	case d.RevokedAt != nil && !t.Before(*d.RevokedAt):
		return false
	}
	return true
}

// PresentKey registers k as the device's current key, as a login presents
// it: the current key again changes nothing; another key is added and the
// one it replaces retired at k.AddedAt. A retired key is refused with
// EDeviceKeyRetired: once retired, a key signs nothing new.
func (d *Device) PresentKey(k DeviceKey) error {
	if old := d.Key(k.ID); old != nil {
		if old.RetiredAt != nil {
			return Errorf(EDeviceKeyRetired, "device_key %s was retired at %s; the device must make a new key", k.ID, old.RetiredAt.UTC().Format(time.RFC3339))
		}
		return nil
	}
	for i := range d.Keys {
		if d.Keys[i].RetiredAt == nil {
			d.Keys[i].RetiredAt = &k.AddedAt
		}
	}
	d.Keys = append(d.Keys, k)
	return nil
}
