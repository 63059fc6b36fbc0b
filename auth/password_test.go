package auth_test

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/auth"
)

// cheapArgon keeps the tests fast; the format and checks are the same.
var cheapArgon = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}

func hashOf(t *testing.T, password string) string {
	t.Helper()
	h, err := auth.HashPassword(password, cheapArgon)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	return h
}

func TestHashPasswordFormat(t *testing.T) {
	h := hashOf(t, "correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q does not carry its algorithm, version and parameters", h)
	}
	if parts := strings.Split(h, "$"); len(parts) != 6 {
		t.Errorf("hash %q has %d $-separated parts, want 6", h, len(parts))
	}
}

func TestCheckPassword(t *testing.T) {
	const pw = "correct horse battery"
	h := hashOf(t, pw)
	unicodeHash := hashOf(t, "pässwörd-日本語")
	defaultHash, err := auth.HashPassword(pw, auth.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{"the right password matches", h, pw, true},
		{"a hash made with DefaultArgon2 carries its own parameters", defaultHash, pw, true},
		{"a non-ASCII password matches", unicodeHash, "pässwörd-日本語", true},
		{"a wrong password does not match", h, "wrong horse battery", false},
		{"a password differing in the last character does not match", h, pw[:len(pw)-1] + "X", false},
		{"a prefix of the password does not match", h, pw[:len(pw)-1], false},
		{"the password with a trailing space does not match", h, pw + " ", false},
		{"the empty password does not match", h, "", false},
		{"a differently normalized non-ASCII password does not match", unicodeHash, "pa\u0308sswörd-日本語", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := auth.CheckPassword(tt.hash, tt.password)
			if err != nil {
				t.Fatalf("CheckPassword: %v", err)
			}
			if ok != tt.want {
				t.Errorf("CheckPassword = %v, want %v", ok, tt.want)
			}
		})
	}
}

func TestHashPasswordSaltsEachHash(t *testing.T) {
	const pw = "same password"
	seenHash, seenSalt := map[string]bool{}, map[string]bool{}
	for range 4 {
		h := hashOf(t, pw)
		salt := strings.Split(h, "$")[4]
		if seenHash[h] || seenSalt[salt] {
			t.Fatalf("hash %q repeats a hash or salt of the same password", h)
		}
		seenHash[h], seenSalt[salt] = true, true
		if ok, err := auth.CheckPassword(h, pw); !ok || err != nil {
			t.Fatalf("CheckPassword(own hash) = %v, %v", ok, err)
		}
	}
}

func TestCheckPasswordRefusesMalformedHashes(t *testing.T) {
	const pw = "correct horse battery"
	parts := strings.Split(hashOf(t, pw), "$") // "", argon2id, v=19, m=..., salt, key
	// mk rebuilds the good hash with part i replaced.
	mk := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name string
		hash string
	}{
		{"the empty string", ""},
		{"a bcrypt hash", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i instead of argon2id", mk(1, "argon2i")},
		{"argon2d instead of argon2id", mk(1, "argon2d")},
		{"upper-case algorithm name", mk(1, "ARGON2ID")},
		{"no leading $", strings.Join(parts[1:], "$")},
		{"a missing part", strings.Join(parts[:5], "$")},
		{"an extra part", strings.Join(parts, "$") + "$extra"},
		{"an older argon2 version", mk(2, "v=16")},
		{"a version that is not a number", mk(2, "v=x")},
		{"absurd memory cost (4 GiB)", mk(3, "m=4194304,t=1,p=1")},
		{"memory cost just over 1 GiB", mk(3, "m=1048577,t=1,p=1")},
		{"memory cost overflowing uint32", mk(3, "m=4294967296,t=1,p=1")},
		{"zero memory", mk(3, "m=0,t=1,p=1")},
		{"zero passes", mk(3, "m=64,t=0,p=1")},
		{"zero threads", mk(3, "m=64,t=1,p=0")},
		{"threads overflowing uint8", mk(3, "m=64,t=1,p=256")},
		{"negative memory", mk(3, "m=-64,t=1,p=1")},
		{"parameters in the wrong order", mk(3, "t=1,m=64,p=1")},
		{"salt that is not base64", mk(4, "!!!not-base64!!!")},
		{"salt in padded base64", mk(4, parts[4]+"==")},
		{"key that is not base64", mk(5, "*key*")},
		{"an empty key", mk(5, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := auth.CheckPassword(tt.hash, pw)
			if err == nil {
				t.Errorf("CheckPassword(%q) accepted the hash (ok=%v)", tt.hash, ok)
			}
			if ok {
				t.Errorf("CheckPassword(%q) matched", tt.hash)
			}
		})
	}
}
