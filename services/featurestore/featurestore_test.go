package featurestore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	batchresults "github.com/aifactory/aifactory/services/ingestion/results"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
	"github.com/aifactory/aifactory/libs/testenv"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/catalog"
	"github.com/aifactory/aifactory/services/featurestore"
	"github.com/aifactory/aifactory/services/ingestion"
)

// mesh is catalog, ingestion and the feature store on one real gRPC
// server, on one store engine, a real (or embedded) NATS and an online
// store (Redis when redisURL is set, else in process).
type mesh struct {
	t      testing.TB
	bus    *bus.Bus
	signer *auth.Signer
	addr   string
	sfx    string
	fs     *featurestore.FeatureStore
}

type meshOptions struct {
	bus      *bus.Bus
	redisURL string
	domains  []string
}

func newMesh(t testing.TB, engine string, o meshOptions) *mesh {
	t.Helper()
	ctx := t.Context()
	b := o.bus
	if b == nil {
		b = bustest.Connect(t, "aifactory/featurestore-test")
	}
	openDB := func() *store.DB {
		if engine == store.EnginePostgres {
			return storetest.Postgres(t)
		}
		return storetest.SQLite(t)
	}
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
	sfx := randHex(3)
	durable := "test-" + randHex(4)
	t.Cleanup(func() { _ = b.JetStream().DeleteConsumer(context.Background(), bus.MonitoringStream.Name, durable) })
	cat, err := catalog.Start(ctx, catalog.Options{DB: openDB(), Bus: b, Logger: quiet, FreshnessDurable: durable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cat.Stop(context.Background()) })
	cat.Register(srv.GRPC)
	in, err := ingestion.Start(ctx, ingestion.Options{DB: openDB(), Bus: b, Authenticator: signer, Logger: quiet, FreshnessInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	in.Register(srv.GRPC)
	fs, err := featurestore.Start(ctx, featurestore.Options{DB: openDB(), Bus: b, Logger: quiet,
		RedisURL: o.redisURL, RedisPrefix: "t" + sfx + ":", DurablePrefix: "fstest-" + sfx, Domains: o.domains})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Stop(context.Background()) })
	fs.Register(srv.GRPC)
	addr := servicetest.Serve(t, srv)
	return &mesh{t: t, bus: b, signer: signer, addr: addr, sfx: sfx, fs: fs}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (m *mesh) conn(name string, roles ...string) *grpc.ClientConn {
	m.t.Helper()
	tok, err := m.signer.Issue(auth.Principal{Name: name, Roles: roles}, time.Hour)
	if err != nil {
		m.t.Fatal(err)
	}
	conn, err := service.Dial(m.addr, service.StaticToken(tok))
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func (m *mesh) admin() *grpc.ClientConn { return m.conn("admin", auth.RoleAdmin) }

// d names a domain of this test (unique on a shared server).
func (m *mesh) d(base string) string { return base + "-" + m.sfx }

// product creates the domain (member sam) and product, publishes the
// example contract into it, and waits until ingestion enforces it.
func (m *mesh) product(base, product, file string) {
	m.t.Helper()
	ctx := m.t.Context()
	domain := m.d(base)
	m.t.Cleanup(func() { _ = m.bus.JetStream().DeleteStream(context.Background(), bus.DataStream(domain).Name) })
	cat := catalogv1.NewCatalogServiceClient(m.admin())
	if _, err := cat.CreateDomain(ctx, &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{Name: domain, Members: []string{"sam"}}}); err != nil {
		m.t.Fatal(err)
	}
	if _, err := cat.CreateDataProduct(ctx, &catalogv1.CreateDataProductRequest{Product: &catalogv1.DataProduct{Domain: domain, Name: product}}); err != nil {
		m.t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "retailer", file))
	if err != nil {
		m.t.Fatal(err)
	}
	doc := regexp.MustCompile(`(?m)^domain: .*$`).ReplaceAllString(string(b), "domain: "+domain)
	if _, err := cat.PublishContract(ctx, &catalogv1.PublishContractRequest{Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: doc}}); err != nil {
		m.t.Fatal(err)
	}
	ing := ingestionv1.NewIngestionServiceClient(m.admin())
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, err := ing.Ingest(ctx, &ingestionv1.IngestRequest{Target: &ingestionv1.Target{Domain: domain, Product: product}})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("ingestion does not know %s/%s: %v", domain, product, err)
		}
	}
}

func (m *mesh) grant(base, product, to string) {
	m.t.Helper()
	if _, err := catalogv1.NewCatalogServiceClient(m.admin()).GrantAccess(m.t.Context(), &catalogv1.GrantAccessRequest{
		Domain: m.d(base), Product: product, Grantee: m.d(to)}); err != nil {
		m.t.Fatal(err)
	}
}

// ingest writes JSON records to a product.
func (m *mesh) ingest(base, product, timestampField string, records ...string) {
	m.t.Helper()
	recs := make([]*ingestionv1.Record, len(records))
	for i, r := range records {
		recs[i] = &ingestionv1.Record{Json: []byte(r)}
	}
	resp, err := ingestionv1.NewIngestionServiceClient(m.admin()).Ingest(m.t.Context(), &ingestionv1.IngestRequest{
		Target: &ingestionv1.Target{Domain: m.d(base), Product: product, EventTimeField: timestampField}, Records: recs})
	if err != nil {
		m.t.Fatal(err)
	}
	if s := resp.GetSummary(); int(s.GetStored()+s.GetDuplicates()) != len(records) {
		m.t.Fatalf("ingest: %v %v", s, batchresults.Expand(resp.GetRecords()))
	}
}

// features returns the example features.yaml with this test's domains.
func (m *mesh) featuresYAML() string {
	m.t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "retailer", "features.yaml"))
	if err != nil {
		m.t.Fatal(err)
	}
	s := string(b)
	for _, d := range []string{"customer-service", "logistics", "sales"} {
		s = strings.ReplaceAll(s, "domain: "+d+",", "domain: "+m.d(d)+",")
	}
	return strings.Replace(s, "domain: sales\n", "domain: "+m.d("sales")+"\n", 1)
}

func (m *mesh) client(name string) featurestorev1.FeatureStoreServiceClient {
	if name == "admin" {
		return featurestorev1.NewFeatureStoreServiceClient(m.admin())
	}
	return featurestorev1.NewFeatureStoreServiceClient(m.conn(name))
}

func wantCode(t testing.TB, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want %v", err, code)
	}
}

// eachSetup runs fn on every store engine, and on Redis as the online
// store when FACTORY_TEST_REDIS_URL is set.
func eachSetup(t *testing.T, fn func(t *testing.T, m *mesh)) {
	t.Run("sqlite+memory", func(t *testing.T) { fn(t, newMesh(t, store.EngineSQLite, meshOptions{})) })
	t.Run("postgres+redis", func(t *testing.T) {
		testenv.DatabaseURL(t)
		fn(t, newMesh(t, store.EnginePostgres, meshOptions{redisURL: testenv.RedisURL(t)}))
	})
}

func str(s string) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: s}}
}

func customer(id string) *featurestorev1.EntityRow {
	return &featurestorev1.EntityRow{JoinKeys: map[string]*featurestorev1.Value{"customer_id": str(id)}}
}

func order(n int, customer string, price string, channel string, ts time.Time) string {
	return fmt.Sprintf(`{"order_id":"%08x-0000-4000-8000-000000000000","customer_id":"%s","customer_email":"ann@example.com",`+
		`"product_id":"b0000000-0000-4000-8000-000000000002","quantity":1,"unit_price":"%s","currency":"EUR","channel":"%s",`+
		`"order_ts":"%s","updated_at":"%s"}`, n, customer, price, channel, ts.UTC().Format(time.RFC3339), ts.UTC().Format(time.RFC3339))
}
