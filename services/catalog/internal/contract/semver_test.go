package contract

import "testing"

func TestParseSemver(t *testing.T) {
	for _, s := range []string{"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x-y.z", "1.0.0-rc.1"} {
		v, err := ParseSemver(s)
		if err != nil {
			t.Errorf("ParseSemver(%q): %v", s, err)
			continue
		}
		if v.String() != s {
			t.Errorf("String() = %q, want %q", v.String(), s)
		}
	}
	for _, s := range []string{"", "1", "1.2", "v1.2.3", "01.2.3", "1.02.3", "1.2.3-", "1.2.3-01", "1.2.3+build", "1.2.3.4", " 1.2.3", "1.2.3-a..b", "99999999999999999999.0.0"} {
		if _, err := ParseSemver(s); err == nil {
			t.Errorf("ParseSemver(%q) succeeded", s)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	// Ascending precedence, from semver.org.
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"}
	for i := range order {
		for j := range order {
			c, err := CompareVersions(order[i], order[j])
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if c != want {
				t.Errorf("CompareVersions(%s, %s) = %d, want %d", order[i], order[j], c, want)
			}
		}
	}
	if _, err := CompareVersions("1.0", "1.0.0"); err == nil {
		t.Error("CompareVersions accepted 1.0")
	}
	if m, err := Major("3.2.1-rc.1"); err != nil || m != 3 {
		t.Errorf("Major = %d, %v", m, err)
	}
	if _, err := Major("x"); err == nil {
		t.Error("Major(x) succeeded")
	}
}
