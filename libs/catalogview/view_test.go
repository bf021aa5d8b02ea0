package catalogview_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"github.com/aifactory/aifactory/libs/auth"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/bus/bustest"
	"github.com/aifactory/aifactory/libs/catalogview"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

func newView() *catalogview.View { return catalogview.New(slog.New(slog.DiscardHandler)) }

// apply folds msg into v as the catalog's event of msg's type at seq.
func apply(t *testing.T, v *catalogview.View, seq uint64, msg proto.Message) {
	t.Helper()
	data, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	v.ApplyEvent(seq, string(msg.ProtoReflect().Descriptor().FullName()), data)
}

func contract(domain, product, version string, st catalogv1.ContractStatus) *catalogv1.Contract {
	return &catalogv1.Contract{Domain: domain, Product: product, Version: version, Status: st}
}

func port(name string, major int32, latest string, st catalogv1.PortStatus) *catalogv1.OutputPort {
	return &catalogv1.OutputPort{Name: name, Major: major, LatestVersion: latest, Status: st, Subject: "data.sales.orders." + name}
}

const (
	active    = catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE
	portDraft = catalogv1.PortStatus_PORT_STATUS_DRAFT
	portOn    = catalogv1.PortStatus_PORT_STATUS_ACTIVE
	portDepr  = catalogv1.PortStatus_PORT_STATUS_DEPRECATED
	portGone  = catalogv1.PortStatus_PORT_STATUS_RETIRED
)

func TestApplyEvent(t *testing.T) {
	v := newView()

	// DomainChanged: created, then replaced by the next state.
	apply(t, v, 1, &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: "sales", Members: []string{"alice"}}, Created: true})
	apply(t, v, 2, &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: "sales", Members: []string{"alice", "bob"}}})
	if d, ok := v.Domain("sales"); !ok || len(d.GetMembers()) != 2 {
		t.Fatalf("Domain(sales) = %v, %v; want the second state", d, ok)
	}
	if _, ok := v.Domain("hr"); ok {
		t.Fatal("Domain(hr) found")
	}

	// DataProductChanged.
	apply(t, v, 3, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "orders"}, Created: true})
	apply(t, v, 4, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "orders", Title: "Orders", Grants: []string{"reviews"}}})
	apply(t, v, 5, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "invoices"}, Created: true})
	if p, ok := v.Product("sales", "orders"); !ok || p.GetTitle() != "Orders" || len(p.GetGrants()) != 1 {
		t.Fatalf("Product(sales/orders) = %v, %v", p, ok)
	}
	if n := len(v.Products()); n != 2 {
		t.Fatalf("Products() has %d, want 2", n)
	}

	// ContractPublished, then ContractStatusChanged replaces that version.
	apply(t, v, 6, &catalogv1.ContractPublished{Contract: contract("sales", "orders", "1.0.0", active)})
	apply(t, v, 7, &catalogv1.ContractPublished{Contract: contract("sales", "orders", "1.1.0", active)})
	apply(t, v, 8, &catalogv1.ContractStatusChanged{Contract: contract("sales", "orders", "1.0.0", catalogv1.ContractStatus_CONTRACT_STATUS_DEPRECATED)})
	if c, ok := v.Contract("sales", "orders", "1.0.0"); !ok || c.GetStatus() != catalogv1.ContractStatus_CONTRACT_STATUS_DEPRECATED {
		t.Fatalf("Contract 1.0.0 = %v, %v; want deprecated", c, ok)
	}
	if c, ok := v.Contract("sales", "orders", "1.1.0"); !ok || c.GetStatus() != active {
		t.Fatalf("Contract 1.1.0 = %v, %v", c, ok)
	}
	if _, ok := v.Contract("sales", "orders", "2.0.0"); ok {
		t.Fatal("Contract 2.0.0 found")
	}
	if got := v.Applied(); got != 8 {
		t.Fatalf("Applied() = %d, want 8", got)
	}

	// Unknown types and undecodable payloads are skipped; an event at or
	// below the applied sequence is a redelivery (an ordered consumer that
	// reset and replays) and changes nothing.
	v.ApplyEvent(9, "aifactory.catalog.v1.SomethingNew", []byte("whatever"))
	v.ApplyEvent(10, "aifactory.catalog.v1.DomainChanged", []byte{0xff, 0xff, 0xff})
	apply(t, v, 3, &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: "hr"}})
	if d, ok := v.Domain("sales"); !ok || len(d.GetMembers()) != 2 {
		t.Fatalf("an undecodable event changed sales: %v", d)
	}
	if _, ok := v.Domain("hr"); ok {
		t.Fatal("a redelivered (older) event was applied over newer state")
	}
	if got := v.Applied(); got != 10 {
		t.Fatalf("Applied() = %d, want 10: skipped events count as seen, a redelivery does not go back", got)
	}

	// WaitApplied returns at once for an applied sequence and honours ctx.
	if err := v.WaitApplied(t.Context(), 8); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if err := v.WaitApplied(ctx, 1000); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitApplied(1000) = %v, want DeadlineExceeded", err)
	}
}

func TestResolve(t *testing.T) {
	v := newView()
	apply(t, v, 1, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "orders", OutputPorts: []*catalogv1.OutputPort{
		port("v1", 1, "1.2.0", portDepr),
		port("v2", 2, "2.1.0", portOn),
		port("v3", 3, "3.0.0", portOn), // its contract has not arrived
		port("v4", 4, "4.0.0-rc", portDraft),
		port("v0", 0, "0.9.0", portGone),
	}}})
	apply(t, v, 2, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "drafts", OutputPorts: []*catalogv1.OutputPort{
		port("v1", 1, "1.0.0", portDraft),
	}}})
	apply(t, v, 3, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "refunds", OutputPorts: []*catalogv1.OutputPort{
		port("v1", 1, "1.0.0", portOn),
		port("v2", 2, "2.0.0", portDraft),
	}}})
	seq := uint64(3)
	for _, c := range []*catalogv1.Contract{
		contract("sales", "orders", "1.2.0", catalogv1.ContractStatus_CONTRACT_STATUS_DEPRECATED),
		contract("sales", "orders", "2.1.0", active),
		contract("sales", "orders", "0.9.0", catalogv1.ContractStatus_CONTRACT_STATUS_RETIRED),
		contract("sales", "refunds", "1.0.0", active),
	} {
		seq++
		apply(t, v, seq, &catalogv1.ContractPublished{Contract: c})
	}

	tests := []struct {
		name, product, port string
		wantPort, wantVer   string
		wantErr             error
	}{
		{"named active port", "orders", "v2", "v2", "2.1.0", nil},
		{"named deprecated port still takes writes", "orders", "v1", "v1", "1.2.0", nil},
		{"named draft port", "orders", "v4", "", "", catalogview.ErrNoPort},
		{"named retired port", "orders", "v0", "", "", catalogview.ErrNoPort},
		{"named missing port", "orders", "v9", "", "", catalogview.ErrNoPort},
		{"missing contract", "orders", "v3", "", "", catalogview.ErrNoPort},
		// The highest active major is v3, whose contract is missing: no
		// fallback to v2, the writer is told.
		{"default port without its contract", "orders", "", "", "", catalogview.ErrNoPort},
		{"default skips a draft major", "refunds", "", "v1", "1.0.0", nil},
		{"only drafts", "drafts", "", "", "", catalogview.ErrNoPort},
		{"unknown product", "nope", "", "", "", catalogview.ErrNoProduct},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Resolve("sales", tc.product, tc.port)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Resolve = %v, %v; want %v", p, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.GetName() != tc.wantPort || p.Contract.GetVersion() != tc.wantVer {
				t.Fatalf("Resolve = port %s contract %s, want %s %s", p.GetName(), p.Contract.GetVersion(), tc.wantPort, tc.wantVer)
			}
		})
	}

	// Once 3.0.0 arrives, the default is the highest active major.
	apply(t, v, seq+1, &catalogv1.ContractPublished{Contract: contract("sales", "orders", "3.0.0", active)})
	p, err := v.Resolve("sales", "orders", "")
	if err != nil || p.GetName() != "v3" || p.Contract.GetVersion() != "3.0.0" {
		t.Fatalf("default port = %v, %v; want v3 with 3.0.0", p, err)
	}
}

func TestCanRead(t *testing.T) {
	v := newView()
	apply(t, v, 1, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "orders", Grants: []string{"reviews", "shipping"}}})
	apply(t, v, 2, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "private"}})
	tests := []struct {
		consumer, domain, product string
		want                      bool
	}{
		{"sales", "sales", "orders", true},
		{"reviews", "sales", "orders", true},
		{"shipping", "sales", "orders", true},
		{"marketing", "sales", "orders", false},
		{"", "sales", "orders", false},
		{"sales", "sales", "private", true},
		{"reviews", "sales", "private", false},
		{"sales", "sales", "unknown", false},
	}
	for _, tc := range tests {
		if got := v.CanRead(tc.consumer, tc.domain, tc.product); got != tc.want {
			t.Errorf("CanRead(%q, %s/%s) = %v, want %v", tc.consumer, tc.domain, tc.product, got, tc.want)
		}
	}

	// A revoke (the next state without the grant) takes effect at once.
	apply(t, v, 3, &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "orders", Grants: []string{"shipping"}}})
	if v.CanRead("reviews", "sales", "orders") {
		t.Fatal("CanRead after revoke")
	}
}

func TestSubscribe(t *testing.T) {
	v := newView()
	ch, unsubscribe := v.Subscribe()
	other, unsubscribeOther := v.Subscribe()
	defer unsubscribeOther()

	pending := func(ch <-chan struct{}) bool {
		select {
		case _, ok := <-ch:
			return ok
		default:
			return false
		}
	}
	if pending(ch) {
		t.Fatal("signalled before any event")
	}

	apply(t, v, 1, &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: "sales"}})
	if !pending(ch) || !pending(other) {
		t.Fatal("a subscriber was not signalled after an applied event")
	}

	// Signals coalesce and never block the view: three events while the
	// subscriber is away leave one signal.
	for i := range 3 {
		apply(t, v, uint64(2+i), &catalogv1.DataProductChanged{Product: &catalogv1.DataProduct{Domain: "sales", Name: "orders"}})
	}
	if !pending(ch) {
		t.Fatal("no signal after three events")
	}
	if pending(ch) {
		t.Fatal("signals queued up instead of coalescing")
	}

	// Skipped events signal nothing.
	v.ApplyEvent(9, "aifactory.catalog.v1.SomethingNew", nil)
	if pending(ch) {
		t.Fatal("signalled for an ignored event")
	}

	// Unsubscribing closes the channel (twice is harmless); the others keep
	// their signals.
	unsubscribe()
	unsubscribe()
	if _, ok := <-ch; ok {
		t.Fatal("channel not closed by unsubscribe")
	}
	_ = pending(other)
	apply(t, v, 10, &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: "hr"}})
	if !pending(other) {
		t.Fatal("remaining subscriber not signalled")
	}
}

// TestFollow replays and follows a real CATALOG stream. On a shared server
// the stream holds other tests' events too, so every assertion is about a
// random domain of this test's own.
func TestFollow(t *testing.T) {
	ctx := t.Context()
	b := bustest.Connect(t, "test")
	if err := b.EnsureStreams(ctx, bus.CatalogStream); err != nil {
		t.Fatal(err)
	}
	var sfx [4]byte
	_, _ = rand.Read(sfx[:])
	sales, reviews := "sales-"+hex.EncodeToString(sfx[:]), "reviews-"+hex.EncodeToString(sfx[:])
	publish := func(subject string, msg proto.Message) uint64 {
		t.Helper()
		ack, err := b.PublishProto(ctx, subject, msg)
		if err != nil {
			t.Fatal(err)
		}
		return ack.Sequence
	}
	product := &catalogv1.DataProduct{Domain: sales, Name: "orders", OutputPorts: []*catalogv1.OutputPort{
		{Name: "v1", Major: 1, LatestVersion: "1.0.0", Status: portOn, Subject: "data." + sales + ".orders.v1"},
	}}

	// Before the view starts: replayed.
	publish("catalog."+sales+".domain", &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: sales, Members: []string{"alice"}}, Created: true})
	publish("catalog."+reviews+".domain", &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: reviews}, Created: true})
	publish("catalog."+sales+".products.orders", &catalogv1.DataProductChanged{Product: product, Created: true})
	last := publish("catalog."+sales+".products.orders.contracts", &catalogv1.ContractPublished{Contract: contract(sales, "orders", "1.0.0", active)})

	v := newView()
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := v.Follow(fctx, b); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := v.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	if err := v.WaitApplied(wctx, last); err != nil {
		t.Fatal(err)
	}
	if d, ok := v.Domain(sales); !ok || len(d.GetMembers()) != 1 {
		t.Fatalf("Domain(%s) = %v, %v", sales, d, ok)
	}
	p, err := v.Resolve(sales, "orders", "")
	if err != nil || p.Contract.GetVersion() != "1.0.0" {
		t.Fatalf("Resolve = %v, %v", p, err)
	}
	if v.CanRead(reviews, sales, "orders") {
		t.Fatal("reviews reads orders before any grant")
	}

	// After: followed, and subscribers hear of it.
	ch, unsubscribe := v.Subscribe()
	defer unsubscribe()
	granted := proto.Clone(product).(*catalogv1.DataProduct)
	granted.Grants = []string{reviews}
	seq := publish("catalog."+sales+".products.orders", &catalogv1.DataProductChanged{Product: granted})
	for !v.CanRead(reviews, sales, "orders") {
		select {
		case <-ch:
		case <-wctx.Done():
			t.Fatalf("the grant never reached the view (applied %d, grant at %d)", v.Applied(), seq)
		}
	}
	if err := v.WaitApplied(wctx, seq); err != nil {
		t.Fatal(err)
	}
}

func TestMayWrite(t *testing.T) {
	v := newView()
	apply(t, v, 1, &catalogv1.DomainChanged{Domain: &catalogv1.Domain{Name: "sales", Owners: []string{"olga"}, Members: []string{"sam"}}})
	tests := []struct {
		p       auth.Principal
		domain  string
		want    bool
		wantErr bool
	}{
		{auth.Principal{Name: "sam"}, "sales", true, false},
		{auth.Principal{Name: "olga"}, "sales", true, false},
		{auth.Principal{Name: "bot", Domains: []string{"sales"}}, "sales", true, false},
		{auth.Principal{Name: "root", Roles: []string{auth.RoleAdmin}}, "nowhere", true, false},
		{auth.Principal{Name: "mallory"}, "sales", false, false},
		{auth.Principal{Name: "sam"}, "nowhere", false, true},
	}
	for _, tc := range tests {
		got, err := v.MayWrite(tc.p, tc.domain)
		if got != tc.want || (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, catalogview.ErrNoDomain)) {
			t.Errorf("MayWrite(%s, %s) = %v, %v; want %v (error %v)", tc.p.Name, tc.domain, got, err, tc.want, tc.wantErr)
		}
	}
}
