package s3store

import (
	"fmt"
	"strings"
)

// validKey accepts object keys like "photos/<sha256>" and
// "thumbs/<sha256>.jpg": lower-case letters, digits and "/._-", relative,
// with no empty, "." or ".." element. The rules are the local store's, so
// a key that works on one store works on the other.
func validKey(key string) error {
	ok := len(key) > 0 && len(key) <= 512 && !strings.Contains(key, "..")
	for _, elem := range strings.Split(key, "/") {
		ok = ok && elem != "" && elem != "." && validChars(elem)
	}
	if !ok {
		return fmt.Errorf("s3store: invalid key %q", key)
	}
	return nil
}

// validUploadID accepts one path element of the same letters, as the
// media service's UUIDs are, so each upload owns the prefix uploads/<id>/.
func validUploadID(id string) bool {
	return len(id) > 0 && len(id) <= 128 && id != "." && !strings.Contains(id, "..") && validChars(id)
}

func validChars(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
