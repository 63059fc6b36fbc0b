package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Key is one Ed25519 signing key. Kid is the key's RFC 7638 JWK
// thumbprint, so it is derived from the key and cannot collide by accident.
type Key struct {
	Kid     string
	Created time.Time
	Private ed25519.PrivateKey
}

// Public returns the key's public half.
func (k Key) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// NewKey makes a fresh signing key.
func NewKey(now time.Time) (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, err
	}
	k := Key{Created: now.UTC().Truncate(time.Second), Private: priv}
	k.Kid = thumbprint(k.Public())
	return k, nil
}

func thumbprint(pub ed25519.PublicKey) string {
	// RFC 7638: the required members in lexicographic order, no spaces.
	canon := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// KeySet holds the server's keys: the newest signs, all of them verify.
// Adding a key therefore rotates signing at once while tokens signed by
// the older keys stay valid until those keys are removed.
type KeySet struct {
	keys []Key // newest first
}

// NewKeySet returns a set of the given keys; it needs at least one.
func NewKeySet(keys ...Key) (*KeySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("auth: a key set needs at least one key")
	}
	ks := &KeySet{keys: append([]Key(nil), keys...)}
	sort.SliceStable(ks.keys, func(i, j int) bool { return ks.keys[i].Created.After(ks.keys[j].Created) })
	return ks, nil
}

// Signing returns the key that signs new tokens.
func (ks *KeySet) Signing() Key { return ks.keys[0] }

// Lookup returns the public key with kid.
func (ks *KeySet) Lookup(kid string) (ed25519.PublicKey, bool) {
	for _, k := range ks.keys {
		if k.Kid == kid {
			return k.Public(), true
		}
	}
	return nil, false
}

// Keys returns the keys, newest first.
func (ks *KeySet) Keys() []Key { return append([]Key(nil), ks.keys...) }

// JWK is the public form of a key as published in the JWKS.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS returns the document served at /.well-known/jwks.json.
func (ks *KeySet) JWKS() ([]byte, error) {
	doc := struct {
		Keys []JWK `json:"keys"`
	}{Keys: []JWK{}}
	for _, k := range ks.keys {
		doc.Keys = append(doc.Keys, JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Public()), Kid: k.Kid, Alg: "EdDSA", Use: "sig"})
	}
	return json.Marshal(doc)
}

const pemType = "PRIVATE KEY"

// WriteKey stores k in dir as <kid>.pem (PKCS #8, mode 0600), written to a
// temporary file and renamed so that a crash never leaves half a key.
func WriteKey(dir string, k Key) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemType, Headers: map[string]string{"Created": k.Created.Format(time.RFC3339)}, Bytes: der})
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, k.Kid+".pem"))
}

// ReadKeys loads every <kid>.pem in dir.
func ReadKeys(dir string) ([]Key, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []Key
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pem") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		block, _ := pem.Decode(data)
		if block == nil || block.Type != pemType {
			return nil, fmt.Errorf("%s: not a PEM private key", e.Name())
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		priv, ok := parsed.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: not an Ed25519 key", e.Name())
		}
		created, err := time.Parse(time.RFC3339, block.Headers["Created"])
		if err != nil {
			return nil, fmt.Errorf("%s: bad Created header: %w", e.Name(), err)
		}
		k := Key{Created: created, Private: priv}
		k.Kid = thumbprint(k.Public())
		keys = append(keys, k)
	}
	return keys, nil
}

// LoadKeySet reads the keys in dir, creating the first one when there is
// none, so a new data directory needs no set-up.
func LoadKeySet(dir string, now time.Time) (*KeySet, error) {
	keys, err := ReadKeys(dir)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		k, err := NewKey(now)
		if err != nil {
			return nil, err
		}
		if err := WriteKey(dir, k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return NewKeySet(keys...)
}

// RemoveKey deletes the key kid from dir. The last key cannot be removed.
func RemoveKey(dir, kid string) error {
	keys, err := ReadKeys(dir)
	if err != nil {
		return err
	}
	found := false
	for _, k := range keys {
		found = found || k.Kid == kid
	}
	if !found {
		return fmt.Errorf("no key %q in %s", kid, dir)
	}
	if len(keys) == 1 {
		return errors.New("cannot remove the only signing key: add a new one first")
	}
	return os.Remove(filepath.Join(dir, kid+".pem"))
}
