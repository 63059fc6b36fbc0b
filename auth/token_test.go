package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
)

// tokenEpoch is the fixed "now" of the token tests.
var tokenEpoch = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

var b64url = base64.RawURLEncoding

// testKey returns a fresh signing key created at created.
func testKey(t *testing.T, created time.Time) auth.Key {
	t.Helper()
	k, err := auth.NewKey(created)
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	return k
}

// testIssuer returns an issuer over keys whose clock stands at now.
func testIssuer(t *testing.T, now time.Time, keys ...auth.Key) *auth.Issuer {
	t.Helper()
	ks, err := auth.NewKeySet(keys...)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	is := auth.NewIssuer(ks)
	is.Now = func() time.Time { return now }
	return is
}

func technician() *fieldsync.User {
	return &fieldsync.User{ID: "user-1", Login: "tech", Role: fieldsync.RoleTechnician}
}

// issue signs a token for technician() on device "tab-1" in family "fam-1".
func issue(t *testing.T, is *auth.Issuer) string {
	t.Helper()
	tok, err := is.Issue(technician(), "tab-1", "inst-1", "fam-1")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

// tokenHeader decodes the JOSE header of a compact token.
func tokenHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	return decodeSegment(t, raw, 0)
}

// tokenPayload decodes the claims of a compact token.
func tokenPayload(t *testing.T, raw string) map[string]any {
	t.Helper()
	return decodeSegment(t, raw, 1)
}

func decodeSegment(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3: %q", len(parts), raw)
	}
	data, err := b64url.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	m := map[string]any{}
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return m
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b64url.EncodeToString(data)
}

// forge builds a compact token from header and claims by hand; sign gets
// the signing input and returns the raw signature (nil for none).
func forge(t *testing.T, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	input := encodeSegment(t, header) + "." + encodeSegment(t, claims)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64url.EncodeToString(sig)
}

func edSigner(priv ed25519.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte { return ed25519.Sign(priv, in) }
}

func hmacSigner(secret []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

// goodClaims are the claims Issue would write at now.
func goodClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":     auth.DefaultIssuer,
		"aud":     []string{auth.DefaultAudience},
		"sub":     "user-1",
		"role":    "technician",
		"device":  "tab-1",
		"install": "inst-1",
		"fam":     "fam-1",
		"iat":     now.Unix(),
		"exp":     now.Add(auth.AccessTTL).Unix(),
		"jti":     "jti-1",
	}
}

// with returns a copy of m with the given changes; a nil value deletes.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestIssueWritesTheDocumentedClaims(t *testing.T) {
	k := testKey(t, tokenEpoch.Add(-time.Hour))
	is := testIssuer(t, tokenEpoch, k)
	raw := issue(t, is)

	h := tokenHeader(t, raw)
	if h["alg"] != "EdDSA" || h["kid"] != k.Kid {
		t.Errorf("header = %v, want alg EdDSA and kid %s", h, k.Kid)
	}

	c, err := is.Verify(raw)
	if err != nil {
		t.Fatalf("Verify(own token): %v", err)
	}
	if c.Issuer != auth.DefaultIssuer {
		t.Errorf("iss = %q, want %q", c.Issuer, auth.DefaultIssuer)
	}
	if len(c.Audience) != 1 || c.Audience[0] != auth.DefaultAudience {
		t.Errorf("aud = %v, want [%s]", c.Audience, auth.DefaultAudience)
	}
	if c.Subject != "user-1" || c.Role != fieldsync.RoleTechnician || c.Device != "tab-1" {
		t.Errorf("sub, role, device = %q, %q, %q", c.Subject, c.Role, c.Device)
	}
	if c.IssuedAt == nil || !c.IssuedAt.Equal(tokenEpoch) {
		t.Errorf("iat = %v, want %v", c.IssuedAt, tokenEpoch)
	}
	if c.ExpiresAt == nil || !c.ExpiresAt.Equal(tokenEpoch.Add(15*time.Minute)) {
		t.Errorf("exp = %v, want iat+15m", c.ExpiresAt)
	}
	if c.ID == "" {
		t.Error("jti is empty")
	}
	if again := issue(t, is); tokenPayload(t, again)["jti"] == tokenPayload(t, raw)["jti"] {
		t.Error("two tokens share a jti")
	}
}

// tokenFixture is what each Verify row builds its token from.
type tokenFixture struct {
	key   auth.Key // the issuer's only (signing) key
	is    *auth.Issuer
	now   time.Time
	valid string // a token Issue signed at now
}

func TestVerify(t *testing.T) {
	now := tokenEpoch
	key := testKey(t, now.Add(-24*time.Hour))
	fx := tokenFixture{key: key, is: testIssuer(t, now, key), now: now}
	fx.valid = issue(t, fx.is)
	hdr := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": key.Kid}
	good := goodClaims(now)
	signed := func(h, c map[string]any) func(*testing.T) string {
		return func(t *testing.T) string { return forge(t, h, c, edSigner(key.Private)) }
	}

	tests := []struct {
		name  string
		token func(t *testing.T) string
		ok    bool
	}{
		{"a token Issue signed is accepted", func(*testing.T) string { return fx.valid }, true},
		{"hand-made claims signed by the key are accepted", signed(hdr, good), true},
		{"aud as a single string is accepted", signed(hdr, with(good, "aud", auth.DefaultAudience)), true},
		{"expired less than the 30 s leeway ago is accepted", signed(hdr, with(good, "iat", now.Add(-20*time.Minute).Unix(), "exp", now.Add(-29*time.Second).Unix())), true},
		{"iat less than the leeway in the future is accepted", signed(hdr, with(good, "iat", now.Add(29*time.Second).Unix())), true},

		{"alg none with an empty signature is refused", func(t *testing.T) string {
			return forge(t, map[string]any{"alg": "none", "typ": "JWT", "kid": key.Kid}, good, nil)
		}, false},
		{"alg None (odd case) with an empty signature is refused", func(t *testing.T) string {
			return forge(t, map[string]any{"alg": "None", "kid": key.Kid}, good, nil)
		}, false},
		{"alg none signed with UnsafeAllowNoneSignatureType is refused", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(good))
			tok.Header["kid"] = key.Kid
			raw, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}, false},
		{"alg none keeping a valid EdDSA signature is refused", func(t *testing.T) string {
			return forge(t, with(hdr, "alg", "none"), good, edSigner(key.Private))
		}, false},
		{"HS256 with the Ed25519 public key bytes as secret is refused", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(good))
			tok.Header["kid"] = key.Kid
			raw, err := tok.SignedString([]byte(key.Public()))
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}, false},
		{"HS256 with the JWK's base64url x as secret is refused", func(t *testing.T) string {
			x := b64url.EncodeToString(key.Public())
			return forge(t, with(hdr, "alg", "HS256"), good, hmacSigner([]byte(x)))
		}, false},
		{"unknown kid is refused", signed(with(hdr, "kid", "no-such-key"), good), false},
		{"kid of a key outside the set is refused", func(t *testing.T) string {
			other := testKey(t, now)
			return forge(t, with(hdr, "kid", other.Kid), good, edSigner(other.Private))
		}, false},
		{"missing kid is refused", signed(with(hdr, "kid", nil), good), false},
		{"empty kid is refused", signed(with(hdr, "kid", ""), good), false},
		{"numeric kid is refused", signed(with(hdr, "kid", 1), good), false},
		{"signature of a different key under the same kid is refused", func(t *testing.T) string {
			other := testKey(t, now)
			return forge(t, hdr, good, edSigner(other.Private))
		}, false},
		{"tampered payload (role changed to admin, signature kept) is refused", func(t *testing.T) string {
			parts := strings.Split(fx.valid, ".")
			claims := tokenPayload(t, fx.valid)
			claims["role"] = "admin"
			parts[1] = encodeSegment(t, claims)
			return strings.Join(parts, ".")
		}, false},
		{"tampered header (typ changed, signature kept) is refused", func(t *testing.T) string {
			parts := strings.Split(fx.valid, ".")
			parts[0] = encodeSegment(t, with(hdr, "typ", "at+jwt"))
			return strings.Join(parts, ".")
		}, false},
		{"truncated signature is refused", func(*testing.T) string { return fx.valid[:len(fx.valid)-4] }, false},
		{"RS256 header over a valid EdDSA signature is refused", signed(with(hdr, "alg", "RS256"), good), false},
		{"ES256 header over a valid EdDSA signature is refused", signed(with(hdr, "alg", "ES256"), good), false},
		{"lower-case eddsa header is refused", signed(with(hdr, "alg", "eddsa"), good), false},
		{"missing alg is refused", signed(with(hdr, "alg", nil), good), false},
		{"a real ES256 token under the set's kid is refused", func(t *testing.T) string {
			ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims(good))
			tok.Header["kid"] = key.Kid
			raw, err := tok.SignedString(ec)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}, false},
		{"expired beyond the leeway is refused", signed(hdr, with(good, "iat", now.Add(-20*time.Minute).Unix(), "exp", now.Add(-31*time.Second).Unix())), false},
		{"long expired is refused", signed(hdr, with(good, "iat", now.Add(-48*time.Hour).Unix(), "exp", now.Add(-47*time.Hour).Unix())), false},
		{"missing exp is refused", signed(hdr, with(good, "exp", nil)), false},
		{"iat in the future beyond the leeway is refused", signed(hdr, with(good, "iat", now.Add(31*time.Second).Unix(), "exp", now.Add(16*time.Minute).Unix())), false},
		{"nbf in the future is refused", signed(hdr, with(good, "nbf", now.Add(5*time.Minute).Unix())), false},
		{"nbf beyond the leeway is refused", signed(hdr, with(good, "nbf", now.Add(31*time.Second).Unix())), false},
		{"wrong audience is refused", signed(hdr, with(good, "aud", []string{"billing-api"})), false},
		{"missing audience is refused", signed(hdr, with(good, "aud", nil)), false},
		{"wrong issuer is refused", signed(hdr, with(good, "iss", "evil")), false},
		{"missing issuer is refused", signed(hdr, with(good, "iss", nil)), false},
		{"missing device is refused", signed(hdr, with(good, "device", nil)), false},
		{"empty device is refused", signed(hdr, with(good, "device", "")), false},
		{"missing fam is refused", signed(hdr, with(good, "fam", nil)), false},
		{"missing install is refused", signed(hdr, with(good, "install", nil)), false},
		{"missing sub is refused", signed(hdr, with(good, "sub", nil)), false},
		{"unknown role is refused", signed(hdr, with(good, "role", "superuser")), false},
		{"role in the wrong case is refused", signed(hdr, with(good, "role", "Admin")), false},
		{"missing role is refused", signed(hdr, with(good, "role", nil)), false},
		{"empty string is refused", func(*testing.T) string { return "" }, false},
		{"garbage is refused", func(*testing.T) string { return "garbage" }, false},
		{"three empty segments are refused", func(*testing.T) string { return ".." }, false},
		{"three junk segments are refused", func(*testing.T) string { return "a.b.c" }, false},
		{"empty JSON objects are refused", func(*testing.T) string { return "e30.e30." }, false},
		{"a fourth segment is refused", func(*testing.T) string { return fx.valid + ".x" }, false},
		{"a Bearer prefix is refused", func(*testing.T) string { return "Bearer " + fx.valid }, false},
		{"non-base64 signature is refused", func(*testing.T) string {
			return fx.valid[:strings.LastIndexByte(fx.valid, '.')+1] + "!!!"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.token(t)
			claims, err := fx.is.Verify(raw)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: %v, want accepted", err)
				}
				if claims == nil || claims.Subject != "user-1" {
					t.Fatalf("claims = %+v", claims)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token (claims %+v)", claims)
			}
			if code := fieldsync.ErrorCode(err); code != fieldsync.ETokenInvalid {
				t.Errorf("code = %q (%v), want %q", code, err, fieldsync.ETokenInvalid)
			}
			if claims != nil {
				t.Errorf("claims = %+v returned with the error", claims)
			}
		})
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	now := tokenEpoch
	oldKey := testKey(t, now.Add(-30*24*time.Hour))
	is := testIssuer(t, now, oldKey)
	oldTok := issue(t, is)

	newKey := testKey(t, now.Add(-time.Minute))
	rotated, err := auth.NewKeySet(oldKey, newKey)
	if err != nil {
		t.Fatal(err)
	}
	is.Keys = rotated
	newTok := issue(t, is)

	mustVerify := func(t *testing.T, raw string) {
		t.Helper()
		if _, err := is.Verify(raw); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"the newest key signs after it is added", func(t *testing.T) {
			if kid := tokenHeader(t, newTok)["kid"]; kid != newKey.Kid {
				t.Fatalf("kid = %v, want the new key %s", kid, newKey.Kid)
			}
		}},
		{"a token of the old key still verifies while the old key is in the set", func(t *testing.T) { mustVerify(t, oldTok) }},
		{"a token of the new key verifies", func(t *testing.T) { mustVerify(t, newTok) }},
		{"a token of the old key is refused once the old key is removed", func(t *testing.T) {
			only, err := auth.NewKeySet(newKey)
			if err != nil {
				t.Fatal(err)
			}
			is.Keys = only
			_, err = is.Verify(oldTok)
			if code := fieldsync.ErrorCode(err); code != fieldsync.ETokenInvalid {
				t.Fatalf("Verify(old token) code = %q (%v), want %q", code, err, fieldsync.ETokenInvalid)
			}
			mustVerify(t, newTok)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return
		}
	}
}

// TestJWKSVerifiesWithGoJose checks the published JWKS against an
// independent JOSE implementation: go-jose parses the document, finds the
// token's key by kid, verifies the signature and computes the thumbprint.
func TestJWKSVerifiesWithGoJose(t *testing.T) {
	now := tokenEpoch
	oldKey := testKey(t, now.Add(-48*time.Hour))
	newKey := testKey(t, now.Add(-time.Hour))
	is := testIssuer(t, now, oldKey, newKey)
	doc, err := is.Keys.JWKS()
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	if strings.Contains(string(doc), `"d"`) {
		t.Fatalf("JWKS leaks a private member: %s", doc)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("go-jose cannot parse the JWKS: %v\n%s", err, doc)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}

	for _, k := range []auth.Key{oldKey, newKey} {
		t.Run("kid is the RFC 7638 thumbprint/"+k.Kid[:8], func(t *testing.T) {
			found := set.Key(k.Kid)
			if len(found) != 1 {
				t.Fatalf("JWKS has %d keys with kid %s, want 1", len(found), k.Kid)
			}
			jk := found[0]
			if !jk.IsPublic() || jk.Algorithm != "EdDSA" || jk.Use != "sig" {
				t.Errorf("key: public %v, alg %q, use %q", jk.IsPublic(), jk.Algorithm, jk.Use)
			}
			tp, err := jk.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatalf("Thumbprint: %v", err)
			}
			if got := b64url.EncodeToString(tp); got != k.Kid {
				t.Errorf("go-jose thumbprint = %s, kid = %s", got, k.Kid)
			}
		})
	}

	t.Run("a token verifies with the key its kid names", func(t *testing.T) {
		raw := issue(t, is)
		tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatalf("ParseSigned: %v", err)
		}
		if len(tok.Headers) != 1 || tok.Headers[0].KeyID != newKey.Kid {
			t.Fatalf("headers = %+v, want kid %s", tok.Headers, newKey.Kid)
		}
		found := set.Key(tok.Headers[0].KeyID)
		if len(found) != 1 {
			t.Fatalf("no key %s in the JWKS", tok.Headers[0].KeyID)
		}
		var std josejwt.Claims
		var own struct {
			Role   string `json:"role"`
			Device string `json:"device"`
		}
		if err := tok.Claims(found[0], &std, &own); err != nil {
			t.Fatalf("Claims: %v", err)
		}
		if err := std.Validate(josejwt.Expected{Issuer: auth.DefaultIssuer, AnyAudience: josejwt.Audience{auth.DefaultAudience}, Subject: "user-1", Time: now}); err != nil {
			t.Errorf("go-jose validation: %v", err)
		}
		if own.Role != "technician" || own.Device != "tab-1" {
			t.Errorf("role, device = %q, %q", own.Role, own.Device)
		}

		// The old key's entry must not verify the new key's signature.
		if err := tok.Claims(set.Key(oldKey.Kid)[0], &std); err == nil {
			t.Error("the token verified with the other key of the JWKS")
		}
	})
}
