// Package devserver runs the whole aifactory mesh in one process for
// development: an embedded NATS server with JetStream, SQLite databases and
// every service built so far, all gRPC services on one address and
// /metrics and /healthz on one HTTP address. State lives in a data directory
// and survives restarts.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/services/catalog"
	"github.com/aifactory/aifactory/services/featurestore"
	"github.com/aifactory/aifactory/services/ingestion"
)

// Defaults of the dev mesh's user-facing addresses.
const (
	DefaultGRPCAddr   = "127.0.0.1:7100"
	DefaultHTTPAddr   = "127.0.0.1:7180"
	DefaultNATSListen = "127.0.0.1:7222"
	DefaultDataDir    = ".factory"

	// AdminTokenFile is the admin token's file name in the data directory;
	// factoryctl reads it for loopback addresses.
	AdminTokenFile = "admin.token"
	// AdminPrincipal is the name in the admin token.
	AdminPrincipal = "admin"
)

// StartOptions configures Start. DataDir is required; empty addresses take
// the defaults above.
type StartOptions struct {
	DataDir    string
	GRPCAddr   string
	HTTPAddr   string
	NATSListen string
	// RedisURL makes the feature store use Redis (FACTORY_REDIS_URL);
	// empty keeps its online store in process.
	RedisURL string
	Logger   *slog.Logger
}

// Server is a running dev mesh.
type Server struct {
	GRPCAddr, HTTPAddr, NATSURL string
	DataDir, AdminTokenPath     string
	Services                    []string

	log       *slog.Logger
	nats      *bus.Embedded
	bus       *bus.Bus
	dbs       []*store.DB
	catalog   *catalog.Catalog
	ingestion *ingestion.Ingestion
	features  *featurestore.FeatureStore
	srv       *service.Server
	cancel    context.CancelFunc
	// done is closed when the gRPC/HTTP server returned; serveErr is its
	// error.
	done     chan struct{}
	serveErr error
}

// Start brings the mesh up and returns once it serves. The user-facing
// addresses are claimed first, so a taken port fails fast with an error
// naming the setting to change.
func Start(ctx context.Context, opts StartOptions) (_ *Server, err error) {
	if opts.DataDir == "" {
		return nil, errors.New("devserver: DataDir is required (FACTORY_DATA_DIR)")
	}
	service.TuneGC()
	opts.GRPCAddr = or(opts.GRPCAddr, DefaultGRPCAddr)
	opts.HTTPAddr = or(opts.HTTPAddr, DefaultHTTPAddr)
	opts.NATSListen = or(opts.NATSListen, DefaultNATSListen)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir (FACTORY_DATA_DIR): %w", err)
	}
	s := &Server{DataDir: dir, log: opts.Logger, done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.close(context.WithoutCancel(ctx))
		}
	}()

	grpcLis, err := service.Listen(opts.GRPCAddr, "FACTORY_GRPC_ADDR (or --grpc-addr)")
	if err != nil {
		return nil, err
	}
	httpLis, err := service.Listen(opts.HTTPAddr, "FACTORY_HTTP_ADDR (or --http-addr)")
	if err != nil {
		grpcLis.Close()
		return nil, err
	}
	closeListeners := func() { grpcLis.Close(); httpLis.Close() }

	s.nats, err = bus.StartEmbedded(bus.EmbeddedOptions{
		StoreDir: filepath.Join(dir, "nats"), Listen: opts.NATSListen,
		// The server's start-up banner is noise here; keep its warnings.
		Logger: slog.New(warnOnly{s.log.Handler()}).With("component", "nats"),
	})
	if err != nil {
		closeListeners()
		return nil, err
	}
	s.NATSURL = s.nats.ClientURL()
	if s.bus, err = s.nats.ConnectBus(ctx, "aifactory/dev", bus.WithLogger(s.log)); err != nil {
		closeListeners()
		return nil, err
	}

	secret, err := auth.LoadOrCreateSecret(filepath.Join(dir, service.SecretFile))
	if err != nil {
		closeListeners()
		return nil, err
	}
	signer, err := auth.NewSigner(secret)
	if err != nil {
		closeListeners()
		return nil, err
	}
	if s.AdminTokenPath, err = writeAdminToken(signer, dir); err != nil {
		closeListeners()
		return nil, err
	}

	s.srv, err = service.New(service.Options{Name: "factory", Logger: s.log, Authenticator: signer,
		ServerOptions: []grpc.ServerOption{grpc.MaxRecvMsgSize(ingestion.MaxMessageBytes)}})
	if err != nil {
		closeListeners()
		return nil, err
	}

	// One SQLite file per service: a service never reads another's tables.
	catalogDB, err := s.openDB(ctx, "catalog")
	if err != nil {
		closeListeners()
		return nil, err
	}
	if s.catalog, err = catalog.Start(ctx, catalog.Options{DB: catalogDB, Bus: s.bus, Logger: s.log}); err != nil {
		closeListeners()
		return nil, err
	}
	s.catalog.Register(s.srv.GRPC)
	s.srv.SetServing(catalog.ServiceName)
	s.Services = append(s.Services, catalog.ServiceName)

	icfg, freshness, err := ingestion.ConfigFromEnv()
	if err != nil {
		closeListeners()
		return nil, err
	}
	ingestionDB, err := s.openDB(ctx, "ingestion")
	if err != nil {
		closeListeners()
		return nil, err
	}
	if s.ingestion, err = ingestion.Start(ctx, ingestion.Options{
		DB: ingestionDB, Bus: s.bus, Authenticator: signer, Registry: s.srv.Registry, Logger: s.log,
		Config: icfg, FreshnessInterval: freshness,
	}); err != nil {
		closeListeners()
		return nil, err
	}
	s.ingestion.Register(s.srv.GRPC)
	s.srv.SetServing(ingestion.ServiceName)
	s.Services = append(s.Services, ingestion.ServiceName)

	featuresDB, err := s.openDB(ctx, "featurestore")
	if err != nil {
		closeListeners()
		return nil, err
	}
	if s.features, err = featurestore.Start(ctx, featurestore.Options{DB: featuresDB, Bus: s.bus, RedisURL: opts.RedisURL, Logger: s.log}); err != nil {
		closeListeners()
		return nil, err
	}
	s.features.Register(s.srv.GRPC)
	s.srv.SetServing(featurestore.ServiceName)
	s.Services = append(s.Services, featurestore.ServiceName)

	s.GRPCAddr, s.HTTPAddr = grpcLis.Addr().String(), httpLis.Addr().String()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	go func() {
		defer close(s.done)
		s.serveErr = s.srv.Serve(sctx, grpcLis, httpLis)
	}()
	return s, nil
}

func (s *Server) openDB(ctx context.Context, name string) (*store.DB, error) {
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(s.DataDir, name+".db"))
	if err != nil {
		return nil, fmt.Errorf("%s database: %w", name, err)
	}
	s.dbs = append(s.dbs, db)
	return db, nil
}

// writeAdminToken issues a non-expiring platform-admin token and stores it
// (mode 0600) in the data dir, where factoryctl finds it.
func writeAdminToken(signer *auth.Signer, dir string) (string, error) {
	tok, err := signer.Issue(auth.Principal{Name: AdminPrincipal, Roles: []string{auth.RoleAdmin}}, 0)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, AdminTokenFile)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	return path, nil
}

// Wait blocks until the mesh stops serving and returns the server's error.
func (s *Server) Wait() error {
	<-s.done
	return s.serveErr
}

// Stop drains the gRPC server, stops the services and the embedded NATS
// server, and closes the databases.
func (s *Server) Stop(ctx context.Context) error {
	var err error
	if s.cancel != nil {
		s.cancel()
		err = s.Wait()
	}
	s.close(ctx)
	return err
}

func (s *Server) close(ctx context.Context) {
	if s.features != nil {
		if err := s.features.Stop(ctx); err != nil {
			s.log.Warn("featurestore: stop", "err", err)
		}
	}
	if s.ingestion != nil {
		if err := s.ingestion.Stop(ctx); err != nil {
			s.log.Warn("ingestion: stop", "err", err)
		}
	}
	if s.catalog != nil {
		if err := s.catalog.Stop(ctx); err != nil {
			s.log.Warn("catalog events left in the outbox; they are published at the next start", "err", err)
		}
	}
	for _, db := range s.dbs {
		db.Close()
	}
	if s.bus != nil {
		s.bus.Close()
	}
	if s.nats != nil {
		s.nats.Shutdown()
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// warnOnly passes on records at warning level and above.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(as []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(as)} }
func (h warnOnly) WithGroup(name string) slog.Handler    { return warnOnly{h.Handler.WithGroup(name)} }
