package tus

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync"
)

// maxMetadata bounds an Upload-Metadata header, in bytes.
const maxMetadata = 4096

// ParseMetadata reads an Upload-Metadata header value, "key base64value,
// key2 base64value": comma-separated pairs, each a key and, after a
// space, its value in standard base64 (a key may come without one). A
// value that does not parse is an EInvalid error.
func ParseMetadata(v string) (map[string]string, error) {
	meta := map[string]string{}
	if strings.TrimSpace(v) == "" {
		return meta, nil
	}
	if len(v) > maxMetadata {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "Upload-Metadata is too long")
	}
	for _, pair := range strings.Split(v, ",") {
		k, b64, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if k == "" {
			return nil, fieldsync.Errorf(fieldsync.EInvalid, "Upload-Metadata has an empty key")
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fieldsync.Errorf(fieldsync.EInvalid, "Upload-Metadata value of %q is not base64", k)
		}
		meta[k] = string(raw)
	}
	return meta, nil
}

// EncodeMetadata writes meta as an Upload-Metadata header value, keys in
// order, so the same metadata is always the same header. Keys must hold
// neither a space nor a comma.
func EncodeMetadata(meta map[string]string) string {
	pairs := make([]string, 0, len(meta))
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		pairs = append(pairs, k+" "+base64.StdEncoding.EncodeToString([]byte(meta[k])))
	}
	return strings.Join(pairs, ",")
}
