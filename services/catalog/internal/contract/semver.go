package contract

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// semverRE is MAJOR.MINOR.PATCH with an optional -prerelease, no leading
// zeros (semver.org 2.0.0). Build metadata (+build) is not accepted: two
// versions that differ only in build metadata would have equal precedence,
// and a contract version must identify exactly one contract.
var semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?$`)

// Semver is a parsed contract version.
type Semver struct {
	Major, Minor, Patch int64
	// Prerelease is the part after "-", empty for a release.
	Prerelease string
}

// ParseSemver parses a strict semantic version MAJOR.MINOR.PATCH with an
// optional -prerelease (no "v" prefix, no build metadata).
func ParseSemver(s string) (Semver, error) {
	m := semverRE.FindStringSubmatch(s)
	if m == nil {
		return Semver{}, fmt.Errorf("version %q is not a semantic version MAJOR.MINOR.PATCH[-prerelease]", s)
	}
	var v Semver
	var err error
	for i, dst := range []*int64{&v.Major, &v.Minor, &v.Patch} {
		if *dst, err = strconv.ParseInt(m[i+1], 10, 64); err != nil {
			return Semver{}, fmt.Errorf("version %q: component %q is too large", s, m[i+1])
		}
	}
	v.Prerelease = m[4]
	return v, nil
}

// String renders v as MAJOR.MINOR.PATCH[-prerelease].
func (v Semver) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Prerelease != "" {
		s += "-" + v.Prerelease
	}
	return s
}

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence
// than w, following semver.org: a prerelease sorts before its release, and
// prerelease identifiers compare numerically when both are numeric.
func (v Semver) Compare(w Semver) int {
	for _, d := range [][2]int64{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case v.Prerelease == w.Prerelease:
		return 0
	case v.Prerelease == "":
		return 1
	case w.Prerelease == "":
		return -1
	}
	a, b := strings.Split(v.Prerelease, "."), strings.Split(w.Prerelease, ".")
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareIdent(a[i], b[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func compareIdent(a, b string) int {
	an, aerr := strconv.ParseUint(a, 10, 64)
	bn, berr := strconv.ParseUint(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aerr == nil: // numeric identifiers sort before alphanumeric ones
		return -1
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// CompareVersions parses and compares two versions (see Semver.Compare).
func CompareVersions(a, b string) (int, error) {
	va, err := ParseSemver(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseSemver(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// Major returns the major component of a version.
func Major(version string) (int64, error) {
	v, err := ParseSemver(version)
	if err != nil {
		return 0, err
	}
	return v.Major, nil
}
