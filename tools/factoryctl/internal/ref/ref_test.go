package ref

import (
	"strings"
	"testing"
)

func TestParseProduct(t *testing.T) {
	tests := []struct {
		in      string
		want    Product
		wantErr string
	}{
		{"sales/orders", Product{"sales", "orders"}, ""},
		{"sales-eu/order-lines-2", Product{"sales-eu", "order-lines-2"}, ""},
		{"orders", Product{}, `invalid product "orders": want DOMAIN/NAME, e.g. sales/orders`},
		{"sales/", Product{}, `invalid product "sales/": want DOMAIN/NAME`},
		{"/orders", Product{}, `invalid product "/orders": want DOMAIN/NAME`},
		{"a/b/c", Product{}, `invalid product "a/b/c": want DOMAIN/NAME`},
		{"Sales/orders", Product{}, `invalid product "Sales/orders": domain "Sales" must be a lowercase DNS label`},
		{"sales/orders_v2", Product{}, `product name "orders_v2" must be a lowercase DNS label`},
		{"sales/-orders", Product{}, `product name "-orders" must be a lowercase DNS label`},
		{"sales/" + strings.Repeat("a", 64), Product{}, "must be a lowercase DNS label"},
	}
	for _, tt := range tests {
		got, err := ParseProduct(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseProduct(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseProduct(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}
