package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// A login registers the key it presents, at the server's time and under
// its thumbprint; a key that is not one is refused before the password is
// checked, and registers nothing.
func TestLoginRegistersTheDeviceKey(t *testing.T) {
	fx := newServiceFixture(t)
	fx.seedUser(t, "alice", fieldsync.RoleTechnician)
	pub, _, _ := ed25519.GenerateKey(nil)

	bad := fx.creds("alice", "tab-1")
	bad.DeviceKey = base64.StdEncoding.EncodeToString(pub)
	_, err := fx.svc.Login(context.Background(), bad)
	wantCode(t, err, fieldsync.EInvalid)
	if _, err := fx.db.Device(context.Background(), "u-alice", "tab-1"); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("a refused key registered the device: %v", err)
	}

	c := fx.creds("alice", "tab-1")
	c.DeviceKey = base64.RawURLEncoding.EncodeToString(pub)
	fx.login(t, c)
	*fx.clock = fx.clock.Add(time.Hour)
	fx.login(t, c)
	d, err := fx.db.Device(context.Background(), "u-alice", "tab-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Keys) != 1 || d.Keys[0].ID != fieldsync.DeviceKeyID(pub) || d.Keys[0].PublicKey != c.DeviceKey || !d.Keys[0].AddedAt.Equal(serviceEpoch) {
		t.Fatalf("the device's keys after two logins with one key: %+v", d.Keys)
	}
}
