package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fieldsync/fieldsync"
)

// Defaults for token lifetimes and the names tokens carry.
const (
	DefaultIssuer   = "fieldsync"
	DefaultAudience = "fieldsync-api"
	AccessTTL       = 15 * time.Minute
	RefreshTTL      = 30 * 24 * time.Hour
	// Clock skew tolerated between this server and a token's timestamps.
	leeway = 30 * time.Second
)

// Claims are the claims of an access token: the user (sub), their device
// and the install of the app on it the session runs on.
type Claims struct {
	Role    fieldsync.Role `json:"role"`
	Device  string         `json:"device"`
	Install string         `json:"install"`
	// Family is the sign-in (refresh token family) the token was issued
	// to; a request is refused once that sign-in has ended.
	Family string `json:"fam"`
	jwt.RegisteredClaims
}

// Issuer signs and verifies access tokens with a KeySet.
type Issuer struct {
	Keys     *KeySet
	Issuer   string
	Audience string
	TTL      time.Duration
	Now      func() time.Time
}

// NewIssuer returns an issuer with the default names and lifetime.
func NewIssuer(keys *KeySet) *Issuer {
	return &Issuer{Keys: keys, Issuer: DefaultIssuer, Audience: DefaultAudience, TTL: AccessTTL, Now: time.Now}
}

// Issue signs an access token for user on an install of device, in the
// sign-in family.
func (is *Issuer) Issue(user *fieldsync.User, device, install, family string) (string, error) {
	now := is.Now()
	k := is.Keys.Signing()
	claims := Claims{
		Role:    user.Role,
		Device:  device,
		Install: install,
		Family:  family,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    is.Issuer,
			Subject:   user.ID,
			Audience:  jwt.ClaimStrings{is.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(is.TTL)),
			ID:        randomID(),
		},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = k.Kid
	return tok.SignedString(k.Private)
}

// Verify checks a token's signature (EdDSA only, by a key of the set named
// by kid), issuer, audience and times, and returns its claims. Every
// failure is ETokenInvalid; the reason is in the detail.
func (is *Issuer) Verify(raw string) (*Claims, error) {
	var claims Claims
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, ok := is.Keys.Lookup(kid)
		if !ok {
			return nil, errors.New("unknown signing key")
		}
		return pub, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(is.Issuer),
		jwt.WithAudience(is.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(is.Now),
	)
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.ETokenInvalid, "access token rejected: %v", err)
	}
	if claims.Subject == "" || claims.Device == "" || claims.Install == "" || claims.Family == "" {
		return nil, fieldsync.Errorf(fieldsync.ETokenInvalid, "access token lacks sub, device, install or fam")
	}
	if _, err := fieldsync.ParseRole(string(claims.Role)); err != nil {
		return nil, fieldsync.Errorf(fieldsync.ETokenInvalid, "access token has an unknown role")
	}
	return &claims, nil
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
