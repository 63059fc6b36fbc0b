package tus_test

import (
	"bytes"
	"maps"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/tus"
)

func TestParseMetadata(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want map[string]string
		code string // "" when it parses
	}{
		{"no header is no metadata", "", map[string]string{}, ""},
		{"values are base64", "sha256 YWJj,slot cGxhdGU=", map[string]string{"sha256": "abc", "slot": "plate"}, ""},
		{"spaces around pairs are ignored", " slot cGxhdGU= , filename eC5qcGc=", map[string]string{"slot": "plate", "filename": "x.jpg"}, ""},
		{"a key may come without a value", "slot", map[string]string{"slot": ""}, ""},
		{"an empty key is refused", "slot cGxhdGU=,,x eA==", nil, fieldsync.EInvalid},
		{"a value not in base64 is refused", "slot plate!", nil, fieldsync.EInvalid},
		{"a header over 4096 bytes is refused", "k " + string(bytes.Repeat([]byte("A"), 4096)), nil, fieldsync.EInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tus.ParseMetadata(tt.in)
			if fieldsync.ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("ParseMetadata(%q): %v, want code %q", tt.in, err, tt.code)
			}
			if tt.code == "" && !maps.Equal(got, tt.want) {
				t.Errorf("ParseMetadata(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestEncodeMetadata(t *testing.T) {
	meta := map[string]string{tus.MetaSlot: "plate", tus.MetaSHA256: "ab", tus.MetaReportID: "r1", tus.MetaFilename: "a b,c.jpg"}
	v := tus.EncodeMetadata(meta)
	if want := "filename YSBiLGMuanBn,report_id cjE=,sha256 YWI=,slot cGxhdGU="; v != want {
		t.Errorf("EncodeMetadata = %q, want the keys in order: %q", v, want)
	}
	if got, err := tus.ParseMetadata(v); err != nil || !maps.Equal(got, meta) {
		t.Errorf("the encoded metadata parses to %v, %v; want %v", got, err, meta)
	}
}

func TestParseChecksum(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"sha256 in base64", "sha256 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true},
		{"md5 is accepted", "md5 AAAAAAAAAAAAAAAAAAAAAA==", true},
		{"an algorithm not offered is refused", "crc32 AAAAAA==", false},
		{"a sum not in base64 is refused", "sha256 not base64!", false},
		{"a value without a sum is refused", "sha256", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tus.ParseChecksum(tt.in)
			if (err == nil) != tt.ok || (err != nil && fieldsync.ErrorCode(err) != fieldsync.EInvalid) {
				t.Fatalf("ParseChecksum(%q): %v, want ok %v", tt.in, err, tt.ok)
			}
			if tt.ok && (c.NewHash() == nil || c.String() != tt.in) {
				t.Errorf("ParseChecksum(%q) = %+v, which writes %q", tt.in, c, c.String())
			}
		})
	}
}

// The headers come from any client: they parse or are refused, never
// panic, and what parses writes back to the same meaning.
func FuzzParseMetadata(f *testing.F) {
	f.Add("sha256 YWJj,slot cGxhdGU=")
	f.Add(" , slot")
	f.Fuzz(func(t *testing.T, v string) {
		meta, err := tus.ParseMetadata(v)
		if err != nil {
			return
		}
		for k := range meta {
			if bytes.ContainsAny([]byte(k), " ,") {
				return // not a key EncodeMetadata can write
			}
		}
		again, err := tus.ParseMetadata(tus.EncodeMetadata(meta))
		if err != nil || !maps.Equal(again, meta) {
			t.Errorf("%q parses to %v, which encodes to %v, %v", v, meta, again, err)
		}
	})
}

func FuzzParseChecksum(f *testing.F) {
	f.Add("sha256 AAAA")
	f.Add("md5 ")
	f.Fuzz(func(t *testing.T, v string) {
		if c, err := tus.ParseChecksum(v); err == nil && c.NewHash() == nil {
			t.Errorf("%q parses to %+v, an algorithm without a hash", v, c)
		}
	})
}
