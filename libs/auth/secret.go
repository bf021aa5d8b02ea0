package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretEnv is the environment variable that carries the signing secret of a
// standalone service, hex or base64 encoded.
const SecretEnv = "FACTORY_AUTH_SECRET"

// ParseSecret decodes a secret given as hex or standard/URL base64 (padded or
// not) and checks its length. Hex is tried first, so a 64-digit hex string is
// read as 32 bytes.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("auth secret is empty")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		b, err = decodeBase64(s)
	}
	if err != nil {
		return nil, errors.New("auth secret is neither hex nor base64")
	}
	if len(b) < MinSecretLen {
		return nil, fmt.Errorf("auth secret is %d bytes, need at least %d", len(b), MinSecretLen)
	}
	return b, nil
}

func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// SecretFromEnv reads the secret from FACTORY_AUTH_SECRET. ok is false when
// the variable is unset or empty.
func SecretFromEnv() (secret []byte, ok bool, err error) {
	v := os.Getenv(SecretEnv)
	if v == "" {
		return nil, false, nil
	}
	b, err := ParseSecret(v)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", SecretEnv, err)
	}
	return b, true, nil
}

// LoadOrCreateSecret returns the secret stored hex-encoded at path, creating
// the file (mode 0600, parent directories 0700) with 32 random bytes on first
// use. A concurrent creator wins the race and its secret is returned.
func LoadOrCreateSecret(path string) ([]byte, error) {
	if b, err := readSecret(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create auth secret: %w", err)
	}
	secret := make([]byte, MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("create auth secret: %w", err)
	}
	// Write to a temporary file and link it into place so no reader ever sees
	// a partly written secret, and an existing file is never overwritten.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return nil, fmt.Errorf("create auth secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create auth secret: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create auth secret: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("create auth secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readSecret(path)
		}
		return nil, fmt.Errorf("create auth secret: %w", err)
	}
	return secret, nil
}

func readSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read auth secret: %w", err)
	}
	b, err := ParseSecret(string(raw))
	if err != nil {
		return nil, fmt.Errorf("read auth secret %s: %w", path, err)
	}
	return b, nil
}
