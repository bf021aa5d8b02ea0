package catalog_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/bus/bustest"
	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/libs/service/servicetest"
	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/libs/store/storetest"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	"github.com/aifactory/aifactory/services/catalog"
)

// harness is a catalog served over real gRPC on a random port, on one store
// engine and a real NATS server (FACTORY_TEST_NATS_URL) or an embedded one.
type harness struct {
	t      *testing.T
	db     *store.DB
	bus    *bus.Bus
	signer *auth.Signer
	addr   string
	// suffix makes this test's domain names unique on a shared NATS server.
	suffix string
	conns  map[string]catalogv1.CatalogServiceClient
}

func newHarness(t *testing.T, db *store.DB) *harness {
	t.Helper()
	ctx := t.Context()
	b := bustest.Connect(t, "aifactory/catalog-test")

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	signer, err := auth.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := service.New(service.Options{Name: "catalog", Authenticator: signer})
	if err != nil {
		t.Fatal(err)
	}
	durable := testDurable()
	t.Cleanup(func() { _ = b.JetStream().DeleteConsumer(context.Background(), bus.MonitoringStream.Name, durable) })
	cat, err := catalog.Start(ctx, catalog.Options{DB: db, Bus: b, Logger: slog.New(slog.DiscardHandler), FreshnessDurable: durable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cat.Stop(context.Background()) })
	cat.Register(srv.GRPC)
	srv.SetServing(catalog.ServiceName)
	addr := servicetest.Serve(t, srv)
	var sfx [3]byte
	_, _ = rand.Read(sfx[:])
	return &harness{t: t, db: db, bus: b, signer: signer, addr: addr,
		suffix: hex.EncodeToString(sfx[:]), conns: map[string]catalogv1.CatalogServiceClient{}}
}

// as returns a client calling as the named principal; "admin" is a platform
// admin, others have no roles.
func (h *harness) as(name string) catalogv1.CatalogServiceClient {
	h.t.Helper()
	if c, ok := h.conns[name]; ok {
		return c
	}
	p := auth.Principal{Name: name}
	if name == "admin" {
		p.Roles = []string{auth.RoleAdmin}
	}
	tok, err := h.signer.Issue(p, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	conn, err := service.Dial(h.addr, service.StaticToken(tok))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = conn.Close() })
	c := catalogv1.NewCatalogServiceClient(conn)
	h.conns[name] = c
	return c
}

// dom returns this test's unique name for a domain.
func (h *harness) dom(name string) string { return name + "-" + h.suffix }

func (h *harness) mustDomain(name string, members ...string) {
	h.t.Helper()
	_, err := h.as("admin").CreateDomain(h.t.Context(), &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{
		Name: name, Owners: []string{"owner-" + name}, Members: members,
	}})
	if err != nil {
		h.t.Fatalf("create domain %s: %v", name, err)
	}
}

func (h *harness) mustProduct(as, domain, name string, mode catalogv1.CompatibilityMode, tags ...string) {
	h.t.Helper()
	_, err := h.as(as).CreateDataProduct(h.t.Context(), &catalogv1.CreateDataProductRequest{Product: &catalogv1.DataProduct{
		Domain: domain, Name: name, Title: "The " + name, Description: "all the " + name + " of " + domain,
		Tags: tags, Compatibility: mode,
	}})
	if err != nil {
		h.t.Fatalf("create product %s/%s: %v", domain, name, err)
	}
}

// example reads an ODCS file of examples/retailer with its domain replaced
// by this test's unique domain.
func (h *harness) example(file, domain string) string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "retailer", file))
	if err != nil {
		h.t.Fatal(err)
	}
	return replaceDomain(h.t, string(b), domain)
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
}

// eachEngine runs fn against every store engine.
func eachEngine(t *testing.T, fn func(t *testing.T, h *harness)) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) { fn(t, newHarness(t, db)) })
}

// testDurable names a consumer of this test's own on a shared NATS server.
func testDurable() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "catalog-freshness-test-" + hex.EncodeToString(b[:])
}
