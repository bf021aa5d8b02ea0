package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// TokenIssuer is the "iss" claim of every token the platform issues and accepts.
const TokenIssuer = "aifactory"

// MinSecretLen is the shortest signing secret accepted, in bytes: HS256
// should be keyed with at least as many bytes as the hash output.
const MinSecretLen = 32

const (
	// maxTokenLen bounds the work done on untrusted input; real tokens are a
	// few hundred bytes.
	maxTokenLen = 8 << 10
	// clockSkew tolerates small clock differences between the machine that
	// issued a token and the one verifying it.
	clockSkew = 30 * time.Second
)

// Errors returned by Verify, wrapped with details; test with errors.Is.
var (
	ErrMalformed = errors.New("malformed token")
	ErrAlgorithm = errors.New("unsupported token algorithm")
	ErrSignature = errors.New("invalid token signature")
	ErrExpired   = errors.New("token expired")
	ErrClaims    = errors.New("invalid token claims")
)

var b64 = base64.RawURLEncoding.Strict()

type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
}

type claims struct {
	Iss     string   `json:"iss"`
	Sub     string   `json:"sub"`
	Domains []string `json:"domains,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	Iat     int64    `json:"iat"`
	Exp     int64    `json:"exp,omitempty"`
}

// Signer issues and verifies HS256 tokens with one shared secret. It is safe
// for concurrent use and implements Authenticator.
type Signer struct {
	secret []byte
	now    func() time.Time
	cache  tokenCache
}

// NewSigner returns a Signer keyed with secret, which must be at least
// MinSecretLen bytes long. The secret is copied.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("auth secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	return &Signer{secret: append([]byte(nil), secret...), now: time.Now}, nil
}

// Issue returns a token for p valid for ttl; ttl 0 issues a token that never
// expires (used for the dev mesh's admin token).
func (s *Signer) Issue(p Principal, ttl time.Duration) (string, error) {
	if p.Name == "" {
		return "", errors.New("issue token: principal has no name")
	}
	if ttl < 0 {
		return "", fmt.Errorf("issue token: negative ttl %v", ttl)
	}
	now := s.now()
	c := claims{Iss: TokenIssuer, Sub: p.Name, Domains: p.Domains, Roles: p.Roles, Iat: now.Unix()}
	if ttl > 0 {
		c.Exp = now.Add(ttl).Unix()
	}
	h, err := json.Marshal(header{Alg: "HS256", Typ: "JWT"})
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	signed := b64.EncodeToString(h) + "." + b64.EncodeToString(body)
	return signed + "." + b64.EncodeToString(s.sign(signed)), nil
}

// Verify checks token's algorithm, signature, issuer and expiry, in that
// order, and returns the principal it was issued to. Claims are only decoded
// after the signature has been checked in constant time.
func (s *Signer) Verify(token string) (Principal, error) {
	c, err := s.verify(token)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Name: c.Sub, Domains: c.Domains, Roles: c.Roles}, nil
}

func (s *Signer) verify(token string) (claims, error) {
	if token == "" {
		return claims{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if len(token) > maxTokenLen {
		return claims{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxTokenLen)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, fmt.Errorf("%w: want 3 dot-separated parts, got %d", ErrMalformed, len(parts))
	}
	var h header
	if err := decodePart(parts[0], &h); err != nil {
		return claims{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if h.Alg != "HS256" {
		return claims{}, fmt.Errorf("%w: %q (only HS256 is accepted)", ErrAlgorithm, h.Alg)
	}
	if h.Typ != "" && !strings.EqualFold(h.Typ, "JWT") {
		return claims{}, fmt.Errorf("%w: typ %q is not JWT", ErrMalformed, h.Typ)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return claims{}, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	if !hmac.Equal(sig, s.sign(token[:len(parts[0])+1+len(parts[1])])) {
		return claims{}, ErrSignature
	}
	var c claims
	if err := decodePart(parts[1], &c); err != nil {
		return claims{}, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	if c.Iss != TokenIssuer {
		return claims{}, fmt.Errorf("%w: issuer %q, want %q", ErrClaims, c.Iss, TokenIssuer)
	}
	if c.Sub == "" {
		return claims{}, fmt.Errorf("%w: no subject", ErrClaims)
	}
	now := s.now()
	if c.Iat > now.Add(clockSkew).Unix() {
		return claims{}, fmt.Errorf("%w: issued in the future (iat %d)", ErrClaims, c.Iat)
	}
	if c.Exp != 0 && now.Add(-clockSkew).Unix() >= c.Exp {
		return claims{}, fmt.Errorf("%w: expired at %s", ErrExpired, time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// Authenticate implements Authenticator with Verify. A client sends the same
// token with every call, so tokens that verified are remembered until they
// expire (see tokenCache): the answer is Verify's, without its signature
// check and claim decoding on every call.
func (s *Signer) Authenticate(_ context.Context, token string) (Principal, error) {
	now := s.now()
	if p, ok := s.cache.get(token, now); ok {
		return p, nil
	}
	c, err := s.verify(token)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{Name: c.Sub, Domains: c.Domains, Roles: c.Roles}
	s.cache.put(token, p, c.Exp)
	return p.clone(), nil
}

// tokenCacheSize bounds the verified tokens a Signer remembers; when full,
// it forgets them all (they are verified again on their next use). Only
// tokens with a valid signature get in, so its memory is bounded by what
// the platform issued, at most tokenCacheSize × maxTokenLen.
const tokenCacheSize = 4096

// tokenCache remembers tokens that passed Verify. A token's verdict only
// changes with time, through its expiry, which get checks as Verify does.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	p   Principal
	exp int64 // claims.Exp: 0 never expires
}

func (c *tokenCache) get(token string, now time.Time) (Principal, bool) {
	c.mu.RLock()
	v, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || (v.exp != 0 && now.Add(-clockSkew).Unix() >= v.exp) {
		return Principal{}, false // expired: Verify says why
	}
	return v.p.clone(), true
}

func (c *tokenCache) put(token string, p Principal, exp int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tokenCacheSize {
		c.m = make(map[string]verifiedToken)
	}
	c.m[token] = verifiedToken{p: p, exp: exp}
}

func (s *Signer) sign(signed string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

func decodePart(part string, v any) error {
	raw, err := b64.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
