package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
)

// fractionBar renders frac (0..1) as a 20-cell bar and a percentage.
func fractionBar(frac float64) string {
	frac = min(max(frac, 0), 1)
	return fmt.Sprintf("%s %5.1f%%", progress.Gauge(frac), frac*100)
}

// joinParts joins the non-empty parts two spaces apart.
func joinParts(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "  ")
}
