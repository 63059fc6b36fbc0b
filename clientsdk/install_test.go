package clientsdk

import (
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// A file from before installs that had signed in keeps pushing in the
// install the server gave its device then, named like the device; one
// that never signed in gets its install at its first login.
func TestOpenGivesASignedInFileItsDevicesInstall(t *testing.T) {
	for name, tt := range map[string]struct {
		user, want string
	}{
		"signed in before": {user: "u-1", want: "tab-9"},
		"never signed in":  {user: "", want: ""},
	} {
		t.Run(name, func(t *testing.T) {
			// A file as an SDK of schema 2 left it: values in clear, no install.
			path := filepath.Join(t.TempDir(), "old.db")
			raw, err := bbolt.Open(path, 0o600, nil)
			must(t, err)
			must(t, raw.Update(func(tx *bbolt.Tx) error {
				meta, err := tx.CreateBucket(bucketMeta)
				if err != nil {
					return err
				}
				for _, m := range migrations[:2] {
					if err := m(tx); err != nil {
						return err
					}
				}
				if err := meta.Put(keyDeviceID, []byte("tab-9")); err != nil {
					return err
				}
				if tt.user != "" {
					if err := meta.Put(keyUserID, []byte(tt.user)); err != nil {
						return err
					}
				}
				return meta.Put(keySchema, u64(2))
			}))
			must(t, raw.Close())

			c, err := Open(path, Options{Key: testKey, ServerURL: "http://127.0.0.1:1", DeviceID: "tab-9"})
			must(t, err)
			defer c.Close()
			s, err := c.Status()
			must(t, err)
			if s.InstallID != tt.want {
				t.Errorf("install = %q, want %q", s.InstallID, tt.want)
			}
		})
	}
}
