package service

import (
	"slices"
	"testing"
)

func TestParseDomains(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"sales", []string{"sales"}, false},
		{" sales, customer-service ,sales,", []string{"customer-service", "sales"}, false},
		{"Sales", nil, true},
		{"sales,-x", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseDomains(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("ParseDomains(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if !Serves(nil, "x") || !Serves([]string{"x"}, "x") || Serves([]string{"y"}, "x") {
		t.Error("Serves")
	}
}
