package service

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aifactory/aifactory/libs/names"
)

// EnvDomains names the domains a replica serves (comma-separated); empty
// means every domain. It lets each domain run its own slice of the
// ingestion and feature store services.
const EnvDomains = "FACTORY_DOMAINS"

// DomainsFromEnv reads FACTORY_DOMAINS: the sorted, distinct domains this
// replica serves, or nil for all of them.
func DomainsFromEnv() ([]string, error) {
	return ParseDomains(os.Getenv(EnvDomains))
}

// ParseDomains parses a comma-separated list of domain names.
func ParseDomains(s string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if !names.IsLabel(d) {
			return nil, fmt.Errorf("%s: %q is not a domain name (lowercase DNS label)", EnvDomains, d)
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Serves reports whether a replica serving domains (nil: all) serves d.
func Serves(domains []string, d string) bool {
	return len(domains) == 0 || slices.Contains(domains, d)
}
