package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
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

// mesh is the catalog, the ingestion service and (optionally) the feature
// store on one gRPC server of libs/service, wired as factoryctl dev wires
// them, but on an external NATS server (and Redis) with SQLite files in a
// temporary directory.
type mesh struct {
	addr   string
	bus    *bus.Bus
	signer *auth.Signer
	stop   func()
}

// meshOptions choose the servers and whether the feature store runs.
type meshOptions struct {
	natsURL string
	// featureStore starts the feature store too, with its online store on
	// redisURL (keys under redisPrefix) and consumers named durablePrefix-….
	featureStore                         bool
	redisURL, redisPrefix, durablePrefix string
}

func startMesh(ctx context.Context, o meshOptions) (_ *mesh, err error) {
	dir, err := os.MkdirTemp("", "aifactory-bench-ours-")
	if err != nil {
		return nil, err
	}
	var closers []func()
	m := &mesh{stop: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	closers = append(closers, func() { os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			m.stop()
		}
	}()
	// The services log warnings only: the run's output is the RESULT lines.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	if m.bus, err = bus.Connect(ctx, o.natsURL, "aifactory/bench", bus.WithLogger(log)); err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = m.bus.Close() })
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	if m.signer, err = auth.NewSigner(secret); err != nil {
		return nil, err
	}
	srv, err := service.New(service.Options{Name: "bench", Logger: log, Authenticator: m.signer,
		ServerOptions: []grpc.ServerOption{grpc.MaxRecvMsgSize(ingestion.MaxMessageBytes)}})
	if err != nil {
		return nil, err
	}
	openDB := func(name string) (*store.DB, error) {
		db, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, name+".db"))
		if err != nil {
			return nil, fmt.Errorf("%s database: %w", name, err)
		}
		closers = append(closers, func() { db.Close() })
		return db, nil
	}

	catalogDB, err := openDB("catalog")
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Start(ctx, catalog.Options{DB: catalogDB, Bus: m.bus, Logger: log})
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = cat.Stop(context.Background()) })
	cat.Register(srv.GRPC)
	srv.SetServing(catalog.ServiceName)

	icfg, freshness, err := ingestion.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	ingestionDB, err := openDB("ingestion")
	if err != nil {
		return nil, err
	}
	in, err := ingestion.Start(ctx, ingestion.Options{
		DB: ingestionDB, Bus: m.bus, Authenticator: m.signer, Registry: srv.Registry, Logger: log,
		Config: icfg, FreshnessInterval: freshness,
	})
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = in.Stop(context.Background()) })
	in.Register(srv.GRPC)
	srv.SetServing(ingestion.ServiceName)

	if o.featureStore {
		fsDB, err := openDB("featurestore")
		if err != nil {
			return nil, err
		}
		fs, err := featurestore.Start(ctx, featurestore.Options{DB: fsDB, Bus: m.bus, Logger: log,
			RedisURL: o.redisURL, RedisPrefix: o.redisPrefix, DurablePrefix: o.durablePrefix})
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { _ = fs.Stop(context.Background()) })
		fs.Register(srv.GRPC)
		srv.SetServing(featurestore.ServiceName)
	}

	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		grpcLis.Close()
		return nil, err
	}
	m.addr = grpcLis.Addr().String()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, grpcLis, httpLis) }()
	closers = append(closers, func() {
		cancel()
		if err := <-done; err != nil {
			log.Warn("gRPC server", "err", err)
		}
	})
	return m, nil
}
