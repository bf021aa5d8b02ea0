package names

import (
	"strings"
	"testing"
)

func TestIsLabel(t *testing.T) {
	for s, want := range map[string]bool{
		"sales": true, "customer-service": true, "a": true, "0": true, "a1-b2": true,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false,
		"": false, "Sales": false, "-sales": false, "sales-": false, "sa_les": false, "sa les": false, "sales.orders": false,
		"sales\n": false,
	} {
		if got := IsLabel(s); got != want {
			t.Errorf("IsLabel(%q) = %v, want %v", s, got, want)
		}
	}
}
