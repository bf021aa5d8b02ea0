// Package ref parses the resource references factoryctl takes as
// arguments, such as DOMAIN/NAME for a data product.
package ref

import (
	"fmt"
	"regexp"
	"strings"
)

// labelRE is the catalog's name rule for domains and products: a lowercase
// DNS label.
var labelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Product names a data product within its domain.
type Product struct {
	Domain string
	Name   string
}

func (p Product) String() string { return p.Domain + "/" + p.Name }

// ParseProduct splits "DOMAIN/NAME". Both parts must be lowercase DNS labels
// (at most 63 characters), as the catalog requires.
func ParseProduct(s string) (Product, error) {
	domain, name, ok := strings.Cut(s, "/")
	if !ok || domain == "" || name == "" || strings.Contains(name, "/") {
		return Product{}, fmt.Errorf("invalid product %q: want DOMAIN/NAME, e.g. sales/orders", s)
	}
	if err := CheckName("domain", domain); err != nil {
		return Product{}, fmt.Errorf("invalid product %q: %w", s, err)
	}
	if err := CheckName("product name", name); err != nil {
		return Product{}, fmt.Errorf("invalid product %q: %w", s, err)
	}
	return Product{Domain: domain, Name: name}, nil
}

// CheckName checks that name is a lowercase DNS label; what says what the
// name is for the error message ("domain").
func CheckName(what, name string) error {
	if len(name) > 63 || !labelRE.MatchString(name) {
		return fmt.Errorf("%s %q must be a lowercase DNS label (a-z, 0-9 and '-', at most 63 characters, starting and ending with a letter or digit)", what, name)
	}
	return nil
}
