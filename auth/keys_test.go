package auth_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
)

// keyFiles lists the names of the files in dir.
func keyFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// writeKeys writes keys to dir.
func writeKeys(t *testing.T, dir string, keys ...auth.Key) {
	t.Helper()
	for _, k := range keys {
		if err := auth.WriteKey(dir, k); err != nil {
			t.Fatalf("WriteKey: %v", err)
		}
	}
}

func kids(keys []auth.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Kid)
	}
	slices.Sort(out)
	return out
}

func TestWriteKeyReadKeysRoundTrip(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.FixedZone("CST", 8*3600))
	k := testKey(t, created)
	if want := created.UTC().Truncate(time.Second); !k.Created.Equal(want) {
		t.Fatalf("NewKey Created = %v, want %v (UTC, whole seconds)", k.Created, want)
	}
	dir := filepath.Join(t.TempDir(), "keys", "nested") // WriteKey creates it
	writeKeys(t, dir, k)

	t.Run("the key is stored as <kid>.pem with mode 0600 and no temporary file is left", func(t *testing.T) {
		if got, want := keyFiles(t, dir), []string{k.Kid + ".pem"}; !slices.Equal(got, want) {
			t.Fatalf("files = %v, want %v", got, want)
		}
		info, err := os.Stat(filepath.Join(dir, k.Kid+".pem"))
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode = %o, want 600", perm)
		}
	})
	t.Run("ReadKeys returns the same key, kid and Created", func(t *testing.T) {
		keys, err := auth.ReadKeys(dir)
		if err != nil {
			t.Fatalf("ReadKeys: %v", err)
		}
		if len(keys) != 1 {
			t.Fatalf("ReadKeys returned %d keys, want 1", len(keys))
		}
		got := keys[0]
		if got.Kid != k.Kid || !got.Created.Equal(k.Created) || !got.Private.Equal(k.Private) {
			t.Errorf("read kid %s created %v, want kid %s created %v (private equal: %v)", got.Kid, got.Created, k.Kid, k.Created, got.Private.Equal(k.Private))
		}
	})
	t.Run("a second key is read alongside the first", func(t *testing.T) {
		k2 := testKey(t, created.Add(time.Hour))
		writeKeys(t, dir, k2)
		keys, err := auth.ReadKeys(dir)
		if err != nil {
			t.Fatalf("ReadKeys: %v", err)
		}
		if got, want := kids(keys), kids([]auth.Key{k, k2}); !slices.Equal(got, want) {
			t.Errorf("kids = %v, want %v", got, want)
		}
		ks, err := auth.NewKeySet(keys...)
		if err != nil {
			t.Fatal(err)
		}
		if ks.Signing().Kid != k2.Kid {
			t.Errorf("signing kid = %s, want the newer key %s", ks.Signing().Kid, k2.Kid)
		}
	})
}

func TestReadKeys(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		want    int
		wantErr string
	}{
		{"a missing directory holds no keys", func(t *testing.T, dir string) { os.Remove(dir) }, 0, ""},
		{"an empty directory holds no keys", func(*testing.T, string) {}, 0, ""},
		{"files not ending in .pem and directories are ignored", func(t *testing.T, dir string) {
			writeKeys(t, dir, testKey(t, now))
			os.WriteFile(filepath.Join(dir, "README"), []byte("hello"), 0o600)
			os.WriteFile(filepath.Join(dir, ".key-123"), []byte("half a key"), 0o600)
			os.Mkdir(filepath.Join(dir, "old.pem"), 0o700)
		}, 1, ""},
		{"a .pem file that is not PEM is an error", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "x.pem"), []byte("not pem"), 0o600)
		}, 0, "not a PEM private key"},
		{"a PEM block of another type is an error", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "x.pem"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
		}, 0, "not a PEM private key"},
		{"a key without its Created header is an error", func(t *testing.T, dir string) {
			k := testKey(t, now)
			writeKeys(t, dir, k)
			path := filepath.Join(dir, k.Kid+".pem")
			data, _ := os.ReadFile(path)
			var kept []string
			for _, line := range strings.Split(string(data), "\n") {
				if !strings.HasPrefix(line, "Created:") {
					kept = append(kept, line)
				}
			}
			os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o600)
		}, 0, "Created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			keys, err := auth.ReadKeys(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadKeys error = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadKeys: %v", err)
			}
			if len(keys) != tt.want {
				t.Errorf("ReadKeys returned %d keys, want %d", len(keys), tt.want)
			}
		})
	}
}

func TestLoadKeySetCreatesOneKeyThenReusesIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	first, err := auth.LoadKeySet(dir, now)
	if err != nil {
		t.Fatalf("LoadKeySet (empty dir): %v", err)
	}
	if n := len(first.Keys()); n != 1 {
		t.Fatalf("first load has %d keys, want 1", n)
	}
	kid := first.Signing().Kid
	if got, want := keyFiles(t, dir), []string{kid + ".pem"}; !slices.Equal(got, want) {
		t.Fatalf("files after first load = %v, want %v", got, want)
	}
	if !first.Signing().Created.Equal(now) {
		t.Errorf("Created = %v, want %v", first.Signing().Created, now)
	}

	second, err := auth.LoadKeySet(dir, now.Add(time.Hour))
	if err != nil {
		t.Fatalf("LoadKeySet (second): %v", err)
	}
	if n := len(second.Keys()); n != 1 || second.Signing().Kid != kid {
		t.Errorf("second load: %d keys, signing kid %s; want the one key %s", n, second.Signing().Kid, kid)
	}
	if got := keyFiles(t, dir); len(got) != 1 {
		t.Errorf("files after second load = %v, want just %s.pem", got, kid)
	}
}

func TestRemoveKey(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		keys     int // keys written before RemoveKey
		kid      func(keys []auth.Key) string
		wantErr  string // "" when the removal must succeed
		wantLeft int
	}{
		{"an unknown kid is refused", 2, func([]auth.Key) string { return "no-such-kid" }, "no key", 2},
		{"a path-like kid is refused", 2, func([]auth.Key) string { return "../keys" }, "no key", 2},
		{"the last key is refused", 1, func(k []auth.Key) string { return k[0].Kid }, "only signing key", 1},
		{"the older of two keys is removed", 2, func(k []auth.Key) string { return k[0].Kid }, "", 1},
		{"the newer of two keys is removed", 2, func(k []auth.Key) string { return k[1].Kid }, "", 1},
		{"any kid in an empty directory is refused", 0, func([]auth.Key) string { return "x" }, "no key", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var keys []auth.Key
			for i := range tt.keys {
				keys = append(keys, testKey(t, now.Add(time.Duration(i)*time.Hour)))
			}
			writeKeys(t, dir, keys...)
			kid := tt.kid(keys)

			err := auth.RemoveKey(dir, kid)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("RemoveKey: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("RemoveKey error = %v, want one mentioning %q", err, tt.wantErr)
			}
			left, err := auth.ReadKeys(dir)
			if err != nil {
				t.Fatalf("ReadKeys: %v", err)
			}
			if len(left) != tt.wantLeft {
				t.Fatalf("%d keys left, want %d", len(left), tt.wantLeft)
			}
			if tt.wantErr == "" && slices.Contains(kids(left), kid) {
				t.Errorf("key %s is still there", kid)
			}
		})
	}
}
