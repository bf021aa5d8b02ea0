package enums

import (
	"testing"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

func TestParse(t *testing.T) {
	mode := catalogv1.CompatibilityMode(0).Descriptor()
	class := catalogv1.Classification(0).Descriptor()
	const modes = "backward, backward_transitive, forward, forward_transitive, full, full_transitive, none"
	tests := []struct {
		in      string
		want    int32
		wantErr string
	}{
		{"backward", 1, ""},
		{"FULL_TRANSITIVE", 6, ""},
		{"Full-Transitive", 6, ""},
		{" none ", 7, ""},
		{"COMPATIBILITY_MODE_FORWARD", 3, ""},
		{"unspecified", 0, `invalid value "unspecified": allowed values are ` + modes},
		{"", 0, `invalid value "": allowed values are ` + modes},
		{"fully", 0, `invalid value "fully": allowed values are ` + modes},
	}
	for _, tt := range tests {
		got, err := Parse(mode, tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Parse(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || int32(got) != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if n, err := Parse(class, "PII"); err != nil || catalogv1.Classification(n) != catalogv1.Classification_CLASSIFICATION_PII {
		t.Errorf("Parse(PII) = %v, %v", n, err)
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		in   interface{ String() string }
		want string
	}{
		{catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD_TRANSITIVE, "backward_transitive"},
		{catalogv1.Classification_CLASSIFICATION_PII, "pii"},
		{catalogv1.ContractStatus_CONTRACT_STATUS_UNSPECIFIED, ""},
		{catalogv1.LogicalType(99), "99"},
	}
	for _, tt := range tests {
		var got string
		switch v := tt.in.(type) {
		case catalogv1.CompatibilityMode:
			got = Name(v)
		case catalogv1.Classification:
			got = Name(v)
		case catalogv1.ContractStatus:
			got = Name(v)
		case catalogv1.LogicalType:
			got = Name(v)
		}
		if got != tt.want {
			t.Errorf("Name(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValue(t *testing.T) {
	v := NewValue[catalogv1.ProductStatus](catalogv1.ProductStatus(0).Descriptor())
	if _, set := v.Get(); set || v.String() != "" {
		t.Fatalf("new value is set: %q", v.String())
	}
	if err := v.Set("draftt"); err == nil || err.Error() != `invalid value "draftt": allowed values are draft, active, deprecated, retired` {
		t.Fatalf("Set(draftt) error = %v", err)
	}
	if err := v.Set("Active"); err != nil {
		t.Fatal(err)
	}
	if got, set := v.Get(); !set || got != catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE || v.String() != "active" {
		t.Errorf("after Set(Active): %v %v %q", got, set, v.String())
	}
	if got := v.Usage("status"); got != "status: draft, active, deprecated, retired" {
		t.Errorf("Usage() = %q", got)
	}
}
