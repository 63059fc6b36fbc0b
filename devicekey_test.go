package fieldsync_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// The key id is the RFC 7638 thumbprint; RFC 8037 appendix A.3 gives the
// one of its example key.
func TestDeviceKeyIDIsTheJWKThumbprint(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fieldsync.DeviceKeyID(ed25519.PublicKey(x)), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

func TestParseDeviceKey(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	pub, _, _ := ed25519.GenerateKey(nil)
	good := base64.RawURLEncoding.EncodeToString(pub)
	k, err := fieldsync.ParseDeviceKey(good, now)
	if err != nil || k.ID != fieldsync.DeviceKeyID(pub) || k.PublicKey != good || !k.AddedAt.Equal(now) {
		t.Fatalf("ParseDeviceKey: %+v, %v", k, err)
	}
	for name, s := range map[string]string{
		"empty":                 "",
		"padded base64url":      good + "=",
		"standard base64":       base64.StdEncoding.EncodeToString(pub),
		"31 bytes":              base64.RawURLEncoding.EncodeToString(pub[:31]),
		"a 64-byte private key": base64.RawURLEncoding.EncodeToString(make([]byte, 64)),
		"not base64 at all":     "not a key",
	} {
		if _, err := fieldsync.ParseDeviceKey(s, now); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestDeviceKeyVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	k, err := fieldsync.ParseDeviceKey(base64.RawURLEncoding.EncodeToString(pub), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("canonical hash")
	sig := ed25519.Sign(priv, msg)
	if !k.Verify(msg, sig) {
		t.Fatal("the key's own signature does not verify")
	}
	sig[0] ^= 1
	if k.Verify(msg, sig) {
		t.Fatal("an altered signature verifies")
	}
}

func TestDeviceKeyValidAt(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	ptr := func(t time.Time) *time.Time { return &t }
	dev := func(revoked *time.Time, keys ...fieldsync.DeviceKey) fieldsync.Device {
		return fieldsync.Device{ID: "tab-1", UserID: "u-1", RevokedAt: revoked, Keys: keys}
	}
	first := fieldsync.DeviceKey{ID: "k1", AddedAt: at(9), RetiredAt: ptr(at(12))}
	second := fieldsync.DeviceKey{ID: "k2", AddedAt: at(12)}
	for _, tc := range []struct {
		name string
		dev  fieldsync.Device
		key  string
		t    time.Time
		want bool
	}{
		{"the current key signs", dev(nil, first, second), "k2", at(13), true},
		{"a key signs from the moment it is added", dev(nil, second), "k2", at(12), true},
		{"a key signs nothing from before it was added", dev(nil, second), "k2", at(11), false},
		{"a retired key still verifies what it signed before", dev(nil, first, second), "k1", at(11), true},
		{"a retired key signs nothing from its retirement on", dev(nil, first, second), "k1", at(12), false},
		{"a retired key signs nothing after its retirement", dev(nil, first, second), "k1", at(15), false},
		{"an unknown key signs nothing", dev(nil, first, second), "k3", at(13), false},
		{"a device without keys signs nothing", dev(nil), "k1", at(13), false},
		{"a revoked device's key verifies what it signed before", dev(ptr(at(14)), first, second), "k2", at(13), true},
		{"a revoked device's key signs nothing from the revocation on", dev(ptr(at(14)), first, second), "k2", at(14), false},
		{"a revoked device's key signs nothing after", dev(ptr(at(14)), first, second), "k2", at(16), false},
		{"revocation leaves a retired key's past signatures valid", dev(ptr(at(14)), first, second), "k1", at(10), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.dev.KeyValidAt(tc.key, tc.t); got != tc.want {
				t.Fatalf("KeyValidAt(%s, %s) = %v, want %v", tc.key, tc.t.Format(time.Kitchen), got, tc.want)
			}
		})
	}
}

func TestDevicePresentKey(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	var d fieldsync.Device
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.PresentKey(fieldsync.DeviceKey{ID: "k1", AddedAt: at(9)}))
	must(d.PresentKey(fieldsync.DeviceKey{ID: "k1", AddedAt: at(10)}))
	if len(d.Keys) != 1 || !d.Keys[0].AddedAt.Equal(at(9)) || d.Keys[0].RetiredAt != nil {
		t.Fatalf("the current key presented again: %+v", d.Keys)
	}
	must(d.PresentKey(fieldsync.DeviceKey{ID: "k2", AddedAt: at(11)}))
	if len(d.Keys) != 2 || d.Keys[0].RetiredAt == nil || !d.Keys[0].RetiredAt.Equal(at(11)) || d.Keys[1].RetiredAt != nil {
		t.Fatalf("another key: %+v, want k1 retired at 11:00 and k2 current", d.Keys)
	}
	if err := d.PresentKey(fieldsync.DeviceKey{ID: "k1", AddedAt: at(12)}); fieldsync.ErrorCode(err) != fieldsync.EDeviceKeyRetired {
		t.Fatalf("a retired key presented again: %v, want device_key_retired", err)
	}
	if len(d.Keys) != 2 || d.Keys[1].RetiredAt != nil {
		t.Fatalf("a refused key changed the keys: %+v", d.Keys)
	}
}
