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
	if token == "" {
		return Principal{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if len(token) > maxTokenLen {
		return Principal{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxTokenLen)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Principal{}, fmt.Errorf("%w: want 3 dot-separated parts, got %d", ErrMalformed, len(parts))
	}
	var h header
	if err := decodePart(parts[0], &h); err != nil {
		return Principal{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if h.Alg != "HS256" {
		return Principal{}, fmt.Errorf("%w: %q (only HS256 is accepted)", ErrAlgorithm, h.Alg)
	}
	if h.Typ != "" && !strings.EqualFold(h.Typ, "JWT") {
		return Principal{}, fmt.Errorf("%w: typ %q is not JWT", ErrMalformed, h.Typ)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return Principal{}, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	if !hmac.Equal(sig, s.sign(token[:len(parts[0])+1+len(parts[1])])) {
		return Principal{}, ErrSignature
	}
	var c claims
	if err := decodePart(parts[1], &c); err != nil {
		return Principal{}, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	if c.Iss != TokenIssuer {
		return Principal{}, fmt.Errorf("%w: issuer %q, want %q", ErrClaims, c.Iss, TokenIssuer)
	}
	if c.Sub == "" {
		return Principal{}, fmt.Errorf("%w: no subject", ErrClaims)
	}
	now := s.now()
	if c.Iat > now.Add(clockSkew).Unix() {
		return Principal{}, fmt.Errorf("%w: issued in the future (iat %d)", ErrClaims, c.Iat)
	}
	if c.Exp != 0 && now.Add(-clockSkew).Unix() >= c.Exp {
		return Principal{}, fmt.Errorf("%w: expired at %s", ErrExpired, time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	}
	return Principal{Name: c.Sub, Domains: c.Domains, Roles: c.Roles}, nil
}

// Authenticate implements Authenticator with Verify.
func (s *Signer) Authenticate(_ context.Context, token string) (Principal, error) {
	return s.Verify(token)
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
