package authproto_test

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth/authproto"
)

// TestWire pins the bodies openapi.json documents; the server and the SDK
// both encode and decode these, so a change here is a protocol change.
func TestWire(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"a login request", authproto.LoginRequest{Login: "li", Password: "pw", DeviceID: "tab-7", DeviceName: "Tablet of Li"},
			`{"login":"li","password":"pw","device_id":"tab-7","device_name":"Tablet of Li"}`},
		{"a login request without a device name still sends the field", authproto.LoginRequest{Login: "li", Password: "pw", DeviceID: "tab-7"},
			`{"login":"li","password":"pw","device_id":"tab-7","device_name":""}`},
		{"a refresh or logout request", authproto.RefreshRequest{RefreshToken: "fsr_x"},
			`{"refresh_token":"fsr_x"}`},
		{"the answer to a login or a refresh", authproto.Tokens{AccessToken: "a.b.c", RefreshToken: "fsr_x", ExpiresIn: 900, User: authproto.User{ID: "u1", Role: fieldsync.RoleTechnician}},
			`{"access_token":"a.b.c","refresh_token":"fsr_x","expires_in":900,"user":{"id":"u1","role":"technician"}}`},
		{"a login request from a database that signed in before names its install", authproto.LoginRequest{Login: "li", Password: "pw", DeviceID: "tab-7", InstallID: "i-1"},
			`{"login":"li","password":"pw","device_id":"tab-7","device_name":"","install_id":"i-1"}`},
		{"the answer names the session's install", authproto.Tokens{AccessToken: "a.b.c", RefreshToken: "fsr_x", ExpiresIn: 900, InstallID: "i-1", User: authproto.User{ID: "u1", Role: fieldsync.RoleTechnician}},
			`{"access_token":"a.b.c","refresh_token":"fsr_x","expires_in":900,"install_id":"i-1","user":{"id":"u1","role":"technician"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("encoded\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}
