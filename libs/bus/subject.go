package bus

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ValidateToken reports whether tok can be used as one token of a NATS
// subject: it must be non-empty and contain no '.', '*', '>' or whitespace.
func ValidateToken(tok string) error {
	if tok == "" {
		return errors.New("bus: empty subject token")
	}
	if i := strings.IndexFunc(tok, func(r rune) bool {
		return r == '.' || r == '*' || r == '>' || unicode.IsSpace(r)
	}); i >= 0 {
		return fmt.Errorf("bus: subject token %q contains %q (not allowed: '.', '*', '>', whitespace)", tok, tok[i:i+1])
	}
	return nil
}

// Subject joins tokens into a subject, validating each one, so that values
// such as domain or product names cannot inject extra tokens or wildcards:
//
//	bus.Subject("data", domain, product) // "data.sales.orders"
func Subject(tokens ...string) (string, error) {
	if len(tokens) == 0 {
		return "", errors.New("bus: subject needs at least one token")
	}
	for _, t := range tokens {
		if err := ValidateToken(t); err != nil {
			return "", err
		}
	}
	return strings.Join(tokens, "."), nil
}

// validateSubject checks a whole subject. Wildcards are accepted only when
// wildcards is true ('*' as a whole token, '>' as the last token).
func validateSubject(subject string, wildcards bool) error {
	if subject == "" {
		return errors.New("bus: empty subject")
	}
	toks := strings.Split(subject, ".")
	for i, t := range toks {
		if wildcards && (t == "*" || (t == ">" && i == len(toks)-1)) {
			continue
		}
		if err := ValidateToken(t); err != nil {
			return fmt.Errorf("bus: invalid subject %q: %w", subject, err)
		}
	}
	return nil
}

// validateName checks a stream or consumer name: it must be non-empty and
// contain no '.', '*', '>', path separators or whitespace.
func validateName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("bus: %s name is empty", kind)
	}
	if strings.ContainsAny(name, `.*>/\`) || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return fmt.Errorf("bus: %s name %q must not contain '.', '*', '>', '/', '\\' or whitespace", kind, name)
	}
	return nil
}
