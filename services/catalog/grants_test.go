package catalog_test

import (
	"github.com/aifactory/aifactory/libs/catalogview"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

func TestGrantAndRevokeAccess(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales, reviews, shipping := h.dom("sales"), h.dom("reviews"), h.dom("shipping")
		h.mustDomain(sales, "alice")
		h.mustDomain(reviews, "bob")
		h.mustDomain(shipping, "carol")
		h.mustProduct("alice", sales, "orders", 0)
		alice := h.as("alice")
		grant := func(c catalogv1.CatalogServiceClient, grantee string) (*catalogv1.DataProduct, error) {
			r, err := c.GrantAccess(ctx, &catalogv1.GrantAccessRequest{Domain: sales, Product: "orders", Grantee: grantee})
			return r.GetProduct(), err
		}
		revoke := func(c catalogv1.CatalogServiceClient, grantee string) (*catalogv1.DataProduct, error) {
			r, err := c.RevokeAccess(ctx, &catalogv1.RevokeAccessRequest{Domain: sales, Product: "orders", Grantee: grantee})
			return r.GetProduct(), err
		}
		get := func() *catalogv1.DataProduct {
			t.Helper()
			r, err := h.as("bob").GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: sales, Name: "orders"})
			if err != nil {
				t.Fatal(err)
			}
			return r.GetProduct()
		}

		// Granted in sorted order, whatever the order of the calls.
		for _, g := range []string{shipping, reviews} {
			if _, err := grant(alice, g); err != nil {
				t.Fatalf("grant %s: %v", g, err)
			}
		}
		want := []string{reviews, shipping}
		if got := get().GetGrants(); !cmp.Equal(got, want) {
			t.Fatalf("grants = %v, want %v", got, want)
		}
		if !catalogview.Readable(get(), reviews) || !catalogview.Readable(get(), sales) {
			t.Fatal("CanRead refuses a granted domain or the owner")
		}

		// Idempotent: a second grant neither fails nor duplicates, and
		// changes nothing.
		before := get()
		p, err := grant(alice, reviews)
		if err != nil {
			t.Fatalf("second grant: %v", err)
		}
		if !cmp.Equal(p.GetGrants(), want) {
			t.Fatalf("grants after a second grant = %v, want %v", p.GetGrants(), want)
		}
		if diff := cmp.Diff(before, get(), protocmp.Transform()); diff != "" {
			t.Fatalf("a repeated grant changed the product:\n%s", diff)
		}

		// An admin and the domain's owner may grant too; revoke.
		if _, err := revoke(h.as("owner-"+sales), shipping); err != nil {
			t.Fatalf("owner revoke: %v", err)
		}
		if _, err := grant(h.as("admin"), shipping); err != nil {
			t.Fatalf("admin grant: %v", err)
		}
		p, err = revoke(alice, shipping)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(p.GetGrants(), []string{reviews}) || !cmp.Equal(get().GetGrants(), []string{reviews}) {
			t.Fatalf("grants after revoke = %v / %v, want [%s]", p.GetGrants(), get().GetGrants(), reviews)
		}
		if catalogview.Readable(get(), shipping) {
			t.Fatal("CanRead allows a revoked domain")
		}
	})
}

func TestGrantAccessRefusals(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales, reviews := h.dom("sales"), h.dom("reviews")
		h.mustDomain(sales, "alice")
		h.mustDomain(reviews, "bob")
		h.mustProduct("alice", sales, "orders", 0)
		grantAs := func(as, product, grantee string) error {
			_, err := h.as(as).GrantAccess(ctx, &catalogv1.GrantAccessRequest{Domain: sales, Product: product, Grantee: grantee})
			return err
		}

		t.Run("non-member", func(t *testing.T) {
			// bob belongs to the grantee, not to the owner: he cannot grant himself.
			wantCode(t, grantAs("bob", "orders", reviews), codes.PermissionDenied)
			_, err := h.as("bob").RevokeAccess(ctx, &catalogv1.RevokeAccessRequest{Domain: sales, Product: "orders", Grantee: reviews})
			wantCode(t, err, codes.PermissionDenied)
		})
		t.Run("unknown grantee", func(t *testing.T) {
			err := grantAs("alice", "orders", h.dom("nowhere"))
			wantCode(t, err, codes.NotFound)
			wantResource(t, err, "domain", h.dom("nowhere"))
		})
		t.Run("unknown product", func(t *testing.T) {
			err := grantAs("alice", "refunds", reviews)
			wantCode(t, err, codes.NotFound)
			wantResource(t, err, "data product", sales+"/refunds")
		})
		t.Run("self grant", func(t *testing.T) {
			err := grantAs("alice", "orders", sales)
			wantCode(t, err, codes.InvalidArgument)
			if vs := service.BadRequestFromError(err); len(vs) != 1 || vs[0].GetField() != "grantee" {
				t.Fatalf("violations = %v, want one on grantee", vs)
			}
		})
		t.Run("bad grantee name", func(t *testing.T) {
			wantCode(t, grantAs("alice", "orders", "Not_A_Name"), codes.InvalidArgument)
		})
		t.Run("revoke missing", func(t *testing.T) {
			_, err := h.as("alice").RevokeAccess(ctx, &catalogv1.RevokeAccessRequest{Domain: sales, Product: "orders", Grantee: reviews})
			wantCode(t, err, codes.NotFound)
			wantResource(t, err, "access grant", sales+"/orders/grants/"+reviews)
		})

		r, err := h.as("alice").GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: sales, Name: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.GetProduct().GetGrants()) != 0 {
			t.Fatalf("refused calls left grants %v", r.GetProduct().GetGrants())
		}
	})
}

// TestGrantEvents follows the grants through the CATALOG stream: every
// change is a DataProductChanged carrying the full grant list, and the last
// one equals what the API serves.
func TestGrantEvents(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales, reviews := h.dom("sales"), h.dom("reviews")
		h.mustDomain(sales, "alice")
		h.mustDomain(reviews, "bob")
		h.mustProduct("alice", sales, "orders", 0)
		alice := h.as("alice")
		if _, err := alice.GrantAccess(ctx, &catalogv1.GrantAccessRequest{Domain: sales, Product: "orders", Grantee: reviews}); err != nil {
			t.Fatal(err)
		}
		granted, err := alice.GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: sales, Name: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := alice.RevokeAccess(ctx, &catalogv1.RevokeAccessRequest{Domain: sales, Product: "orders", Grantee: reviews}); err != nil {
			t.Fatal(err)
		}
		revoked, err := alice.GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: sales, Name: "orders"})
		if err != nil {
			t.Fatal(err)
		}

		var history []*catalogv1.DataProductChanged
		deadline := time.Now().Add(10 * time.Second)
		for {
			history = productEvents(t, h.bus, sales, "orders")
			if len(history) > 0 && proto.Equal(history[len(history)-1].GetProduct(), revoked.GetProduct()) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond) // the relay publishes just after the commit
		}
		// created, granted, revoked
		if len(history) != 3 {
			t.Fatalf("got %d DataProductChanged events, want 3 (create, grant, revoke)", len(history))
		}
		if diff := cmp.Diff(granted.GetProduct(), history[1].GetProduct(), protocmp.Transform()); diff != "" {
			t.Errorf("grant event differs from the API (-api +event):\n%s", diff)
		}
		if history[1].GetActor() != "alice" {
			t.Errorf("grant event actor = %q, want alice", history[1].GetActor())
		}
		if diff := cmp.Diff(revoked.GetProduct(), history[2].GetProduct(), protocmp.Transform()); diff != "" {
			t.Errorf("revoke event differs from the API (-api +event):\n%s", diff)
		}
	})
}

// productEvents returns the DataProductChanged events of one product, in
// stream order.
func productEvents(t *testing.T, b *bus.Bus, domain, product string) []*catalogv1.DataProductChanged {
	t.Helper()
	var out []*catalogv1.DataProductChanged
	replay(t, b, "catalog."+domain+".products."+product, func(ev bus.Event) {
		if ev.Type != "aifactory.catalog.v1.DataProductChanged" {
			t.Fatalf("unexpected event type %q on a product subject", ev.Type)
		}
		m := &catalogv1.DataProductChanged{}
		mustUnmarshal(t, ev.Data, m)
		out = append(out, m)
	})
	return out
}

func wantResource(t *testing.T, err error, kind, name string) {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.ResourceInfo); ok {
			if ri.GetResourceType() != kind || ri.GetResourceName() != name {
				t.Fatalf("ResourceInfo = %s %q, want %s %q", ri.GetResourceType(), ri.GetResourceName(), kind, name)
			}
			return
		}
	}
	t.Fatalf("no ResourceInfo in %v", err)
}

func TestCanRead(t *testing.T) {
	p := &catalogv1.DataProduct{Domain: "sales", Name: "orders", Grants: []string{"reviews", "shipping"}}
	for _, tc := range []struct {
		p        *catalogv1.DataProduct
		consumer string
		want     bool
	}{
		{p, "sales", true},
		{p, "reviews", true},
		{p, "shipping", true},
		{p, "marketing", false},
		{p, "", false},
		{nil, "sales", false},
		{&catalogv1.DataProduct{Domain: "sales"}, "reviews", false},
	} {
		if got := catalogview.Readable(tc.p, tc.consumer); got != tc.want {
			t.Errorf("Readable(%v, %q) = %v, want %v", tc.p.GetGrants(), tc.consumer, got, tc.want)
		}
	}
}
