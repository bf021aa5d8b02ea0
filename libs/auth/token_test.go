package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var testSecret = bytes.Repeat([]byte("k"), MinSecretLen)

func newTestSigner(t testing.TB, secret []byte) *Signer {
	t.Helper()
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := newTestSigner(t, testSecret)
	want := Principal{Name: "alice", Domains: []string{"catalog", "sales"}, Roles: []string{RoleAdmin}}
	for _, ttl := range []time.Duration{0, time.Hour} {
		tok, err := s.Issue(want, ttl)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Authenticate(context.Background(), tok)
		if err != nil {
			t.Fatalf("ttl %v: %v", ttl, err)
		}
		if got.Name != want.Name || !got.IsAdmin() || !got.InDomain("sales") || got.InDomain("shipping") || got.HasRole("viewer") {
			t.Errorf("ttl %v: got %+v, want %+v", ttl, got, want)
		}
	}
}

// forge builds a token from raw header and claims JSON signed with secret.
func forge(secret []byte, header, claims string) string {
	s := &Signer{secret: secret, now: time.Now}
	signed := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(claims))
	return signed + "." + b64.EncodeToString(s.sign(signed))
}

func TestVerifyRejects(t *testing.T) {
	s := newTestSigner(t, testSecret)
	good, err := s.Issue(Principal{Name: "alice"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tamperedClaims := b64.EncodeToString([]byte(`{"iss":"aifactory","sub":"mallory","roles":["admin"],"iat":1}`))

	other := newTestSigner(t, bytes.Repeat([]byte("x"), MinSecretLen))
	wrongSecret, err := other.Issue(Principal{Name: "alice"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expiredSigner := newTestSigner(t, testSecret)
	expiredSigner.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	expired, err := expiredSigner.Issue(Principal{Name: "alice"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	claimsOK := `{"iss":"aifactory","sub":"alice","iat":` + itoa(now) + `}`

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "not a token", ErrMalformed},
		{"two parts", parts[0] + "." + parts[1], ErrMalformed},
		{"four parts", good + ".x", ErrMalformed},
		{"bad base64 header", "!!!." + parts[1] + "." + parts[2], ErrMalformed},
		{"header not json", b64.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], ErrMalformed},
		{"bad base64 signature", parts[0] + "." + parts[1] + ".***", ErrMalformed},
		{"too long", strings.Repeat("a", maxTokenLen+1), ErrMalformed},
		{"tampered payload", parts[0] + "." + tamperedClaims + "." + parts[2], ErrSignature},
		{"truncated signature", good[:len(good)-3], ErrSignature},
		{"wrong secret", wrongSecret, ErrSignature},
		{"alg none unsigned", b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + tamperedClaims + ".", ErrAlgorithm},
		{"alg none signed", forge(testSecret, `{"alg":"none"}`, claimsOK), ErrAlgorithm},
		{"alg lowercase", forge(testSecret, `{"alg":"hs256"}`, claimsOK), ErrAlgorithm},
		{"alg RS256", forge(testSecret, `{"alg":"RS256"}`, claimsOK), ErrAlgorithm},
		{"typ not JWT", forge(testSecret, `{"alg":"HS256","typ":"JWE"}`, claimsOK), ErrMalformed},
		{"claims not json", forge(testSecret, `{"alg":"HS256"}`, `[1,2]`), ErrMalformed},
		{"wrong issuer", forge(testSecret, `{"alg":"HS256"}`, `{"iss":"evil","sub":"alice","iat":1}`), ErrClaims},
		{"no subject", forge(testSecret, `{"alg":"HS256"}`, `{"iss":"aifactory","iat":1}`), ErrClaims},
		{"issued in the future", forge(testSecret, `{"alg":"HS256"}`, `{"iss":"aifactory","sub":"a","iat":`+itoa(now+3600)+`}`), ErrClaims},
		{"expired", expired, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want error %v", p, err, tt.want)
			}
			if p.Name != "" {
				t.Errorf("principal %+v returned with error", p)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestIssueErrors(t *testing.T) {
	s := newTestSigner(t, testSecret)
	if _, err := s.Issue(Principal{}, time.Hour); err == nil {
		t.Error("Issue without name: want error")
	}
	if _, err := s.Issue(Principal{Name: "a"}, -time.Second); err == nil {
		t.Error("Issue with negative ttl: want error")
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Error("NewSigner with short secret: want error")
	}
}

func TestParseSecret(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab, 0x01}, 16)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"hex", hex.EncodeToString(raw), true},
		{"base64", base64.StdEncoding.EncodeToString(raw), true},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(raw), true},
		{"with newline", hex.EncodeToString(raw) + "\n", true},
		{"empty", "", false},
		{"too short", hex.EncodeToString(raw[:8]), false},
		{"not encoded", "this is not a secret!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseSecret(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseSecret(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && !bytes.Equal(b, raw) {
				t.Errorf("ParseSecret(%q) = %x, want %x", tt.in, b, raw)
			}
		})
	}
}

func TestSecretFromEnv(t *testing.T) {
	t.Setenv(SecretEnv, "")
	if _, ok, err := SecretFromEnv(); ok || err != nil {
		t.Fatalf("unset: ok=%v err=%v", ok, err)
	}
	t.Setenv(SecretEnv, "zz")
	if _, ok, err := SecretFromEnv(); !ok || err == nil || !strings.Contains(err.Error(), SecretEnv) {
		t.Fatalf("bad value: ok=%v err=%v, want an error naming %s", ok, err, SecretEnv)
	}
	t.Setenv(SecretEnv, hex.EncodeToString(testSecret))
	if b, ok, err := SecretFromEnv(); !ok || err != nil || !bytes.Equal(b, testSecret) {
		t.Fatalf("good value: %x ok=%v err=%v", b, ok, err)
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "auth.secret")
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = LoadOrCreateSecret(path) })
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(got[i]) != MinSecretLen || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("concurrent creators disagree: %x vs %x", got[i], got[0])
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := LoadOrCreateSecret(path)
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("reload = %x, %v; want %x", again, err, got[0])
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSecret(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt file: err %v, want one naming %s", err, path)
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := FromContext(ctx); ok {
		t.Fatal("empty context carries a principal")
	}
	p, ok := FromContext(NewContext(ctx, Principal{Name: "bob"}))
	if !ok || p.Name != "bob" {
		t.Fatalf("FromContext = %+v, %v", p, ok)
	}
}

func FuzzVerify(f *testing.F) {
	s := newTestSigner(f, testSecret)
	good, err := s.Issue(Principal{Name: "alice", Domains: []string{"catalog"}, Roles: []string{"admin"}}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", ".", "..", "a.b.c", good + "x", forge(testSecret, `{"alg":"none"}`, `{}`),
		forge(testSecret, `{"alg":"HS256"}`, `{"iss":"aifactory","sub":"x","exp":-1}`)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := s.Verify(token)
		if err == nil && p.Name == "" {
			t.Fatalf("Verify(%q) accepted a token without a subject", token)
		}
		if err == nil && token != good {
			// Anything else that verifies must be a genuine signature over
			// claims we would accept: re-signing its parts must reproduce it.
			parts := strings.Split(token, ".")
			if forge(testSecret, mustDecode(t, parts[0]), mustDecode(t, parts[1])) != token {
				t.Fatalf("Verify accepted %q that was not signed with the secret", token)
			}
		}
	})
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A remembered token answers as Verify would: the same principal, a copy
// the caller may change, and an expiry error once it expires.
func TestAuthenticateRemembersUntilExpiry(t *testing.T) {
	s := newTestSigner(t, testSecret)
	now := time.Now()
	s.now = func() time.Time { return now }
	tok, err := s.Issue(Principal{Name: "alice", Domains: []string{"sales"}, Roles: []string{RoleAdmin}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := s.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	first.Domains[0] = "changed by the caller"
	again, err := s.Authenticate(ctx, tok)
	if err != nil || again.Name != "alice" || !again.InDomain("sales") || !again.IsAdmin() {
		t.Fatalf("second Authenticate = %+v, %v; want alice of sales, admin", again, err)
	}
	if len(s.cache.m) != 1 {
		t.Fatalf("cache holds %d tokens, want 1", len(s.cache.m))
	}
	// Past expiry (and the clock skew), the cached token is refused as
	// Verify refuses it.
	now = now.Add(time.Minute + clockSkew)
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired token: %v, want ErrExpired", err)
	}
	// A bad token is never remembered; a full cache starts over.
	if _, err := s.Authenticate(ctx, tok+"x"); err == nil {
		t.Fatal("tampered token accepted")
	}
	for i := range tokenCacheSize + 1 {
		tok, err := s.Issue(Principal{Name: "p" + strconv.Itoa(i)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.cache.m); n == 0 || n > tokenCacheSize {
		t.Fatalf("cache holds %d tokens, want 1..%d", n, tokenCacheSize)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	s := newTestSigner(b, testSecret)
	tok, err := s.Issue(Principal{Name: "alice", Domains: []string{"sales"}}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remembered", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Authenticate(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
