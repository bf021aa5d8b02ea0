package ingestion_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
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
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/catalog"
	"github.com/aifactory/aifactory/services/ingestion"
)

// mesh is the catalog and the ingestion service on one real gRPC server,
// with their own databases on one engine and a real (or embedded) NATS.
type mesh struct {
	t      *testing.T
	bus    *bus.Bus
	signer *auth.Signer
	addr   string
	// sfx makes this test's domains unique on a shared NATS server.
	sfx string
	in  *ingestion.Ingestion
}

func (m *mesh) checkFreshness() {
	m.t.Helper()
	if err := m.in.CheckFreshness(m.t.Context()); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mesh) dialToken(tok string) *grpc.ClientConn {
	m.t.Helper()
	conn, err := service.Dial(m.addr, service.StaticToken(tok))
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func authPrincipal(name string, domains ...string) auth.Principal {
	return auth.Principal{Name: name, Domains: domains}
}

func newMesh(t *testing.T, catalogDB, ingestionDB *store.DB, opts ...func(*ingestion.Options)) *mesh {
	t.Helper()
	return newMeshOn(t, bustest.Connect(t, "aifactory/ingestion-test"), catalogDB, ingestionDB, opts...)
}

// newMeshOn is newMesh on a given bus.
func newMeshOn(t *testing.T, b *bus.Bus, catalogDB, ingestionDB *store.DB, opts ...func(*ingestion.Options)) *mesh {
	t.Helper()
	ctx := t.Context()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	signer, err := auth.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	srv, err := service.New(service.Options{Name: "test", Authenticator: signer,
		ServerOptions: []grpc.ServerOption{grpc.MaxRecvMsgSize(ingestion.MaxMessageBytes)}})
	if err != nil {
		t.Fatal(err)
	}
	var dur [4]byte
	_, _ = rand.Read(dur[:])
	durable := "catalog-freshness-test-" + hex.EncodeToString(dur[:])
	t.Cleanup(func() { _ = b.JetStream().DeleteConsumer(context.Background(), bus.MonitoringStream.Name, durable) })
	cat, err := catalog.Start(ctx, catalog.Options{DB: catalogDB, Bus: b, Logger: quiet, FreshnessDurable: durable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cat.Stop(context.Background()) })
	cat.Register(srv.GRPC)
	o := ingestion.Options{DB: ingestionDB, Bus: b, Authenticator: signer, Logger: quiet, Registry: srv.Registry,
		StatsInterval: 50 * time.Millisecond, FreshnessInterval: time.Hour}
	for _, f := range opts {
		f(&o)
	}
	in, err := ingestion.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	in.Register(srv.GRPC)
	addr := servicetest.Serve(t, srv)
	var sfx [3]byte
	_, _ = rand.Read(sfx[:])
	return &mesh{t: t, bus: b, signer: signer, addr: addr, sfx: hex.EncodeToString(sfx[:]), in: in}
}

func (m *mesh) conn(name string, roles ...string) *grpc.ClientConn {
	m.t.Helper()
	return m.dialToken(m.token(name, roles...))
}

func (m *mesh) token(name string, roles ...string) string {
	m.t.Helper()
	tok, err := m.signer.Issue(auth.Principal{Name: name, Roles: roles}, time.Hour)
	if err != nil {
		m.t.Fatal(err)
	}
	return tok
}

func (m *mesh) catalog(name string) catalogv1.CatalogServiceClient {
	if name == "admin" {
		return catalogv1.NewCatalogServiceClient(m.conn(name, auth.RoleAdmin))
	}
	return catalogv1.NewCatalogServiceClient(m.conn(name))
}

func (m *mesh) ingest(name string) ingestionv1.IngestionServiceClient {
	if name == "admin" {
		return ingestionv1.NewIngestionServiceClient(m.conn(name, auth.RoleAdmin))
	}
	return ingestionv1.NewIngestionServiceClient(m.conn(name))
}

var domainLine = regexp.MustCompile(`(?m)^domain: .*$`)

// product creates domain (with member sam), the product and publishes the
// example contract file into it; it returns the test's domain name.
func (m *mesh) product(base, product, file string) string {
	m.t.Helper()
	ctx := m.t.Context()
	domain := base + "-" + m.sfx
	m.t.Cleanup(func() { // keep a shared server tidy
		_ = m.bus.JetStream().DeleteStream(context.Background(), "DATA_"+upper(domain))
	})
	admin := m.catalog("admin")
	if _, err := admin.CreateDomain(ctx, &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{Name: domain, Members: []string{"sam"}}}); err != nil {
		m.t.Fatal(err)
	}
	if _, err := admin.CreateDataProduct(ctx, &catalogv1.CreateDataProductRequest{Product: &catalogv1.DataProduct{Domain: domain, Name: product}}); err != nil {
		m.t.Fatal(err)
	}
	m.publish(domain, file, "")
	return domain
}

// publish applies an example contract to domain, optionally with its
// version replaced, and waits until ingestion enforces it.
func (m *mesh) publish(domain, file, version string) {
	m.t.Helper()
	c := m.publishNoWait(domain, file, version)
	// The catalog's event reaches ingestion asynchronously: an empty batch
	// says which contract ingestion enforces.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		resp, err := m.ingest("admin").Ingest(m.t.Context(), &ingestionv1.IngestRequest{
			Target: &ingestionv1.Target{Domain: c.GetDomain(), Product: c.GetProduct()}})
		if err == nil && resp.GetSummary().GetContractVersion() == c.GetVersion() {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("ingestion does not enforce %s %s: %v", c.GetProduct(), c.GetVersion(), err)
		}
	}
}

// publishNoWait applies an example contract and returns at once.
func (m *mesh) publishNoWait(domain, file, version string) *catalogv1.Contract {
	m.t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "retailer", file))
	if err != nil {
		m.t.Fatal(err)
	}
	doc := domainLine.ReplaceAllString(string(b), "domain: "+domain)
	if version != "" {
		doc = regexp.MustCompile(`(?m)^version: .*$`).ReplaceAllString(doc, "version: "+version)
	}
	pub, err := m.catalog("admin").PublishContract(m.t.Context(), &catalogv1.PublishContractRequest{
		Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: doc}})
	if err != nil {
		m.t.Fatal(err)
	}
	return pub.GetContract()
}

// streamCount returns how many messages a subject holds.
func (m *mesh) streamCount(stream, subject string) uint64 {
	m.t.Helper()
	s, err := m.bus.JetStream().Stream(m.t.Context(), stream)
	if err != nil {
		m.t.Fatal(err)
	}
	info, err := s.Info(m.t.Context(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		m.t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

func order(i int, extra string) []byte {
	return fmt.Appendf(nil, `{"order_id":"%08x-0000-4000-8000-000000000000","customer_id":"c0000000-0000-4000-8000-000000000001",`+
		`"customer_email":"ann@example.com","product_id":"b0000000-0000-4000-8000-000000000002","quantity":%d,`+
		`"unit_price":"19.90","currency":"EUR","channel":"web","order_ts":"2026-11-20T10:00:00Z",`+
		`"updated_at":"2026-11-20T10:00:00Z"%s}`, i, 1+i%5, extra)
}

func records(bs ...[]byte) []*ingestionv1.Record {
	out := make([]*ingestionv1.Record, len(bs))
	for i, b := range bs {
		out[i] = &ingestionv1.Record{Json: b}
	}
	return out
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want %v", err, code)
	}
}

// eachEngine runs fn on every store engine, with fresh databases.
func eachEngine(t *testing.T, fn func(t *testing.T, m *mesh)) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var other *store.DB
		if db.Engine() == store.EngineSQLite {
			other = storetest.SQLite(t)
		} else {
			other = storetest.Postgres(t)
		}
		fn(t, newMesh(t, db, other))
	})
}
