// Command ingestion runs the ingestion service standalone, against the NATS
// server at FACTORY_NATS_URL (where the catalog publishes its events) and
// the database at FACTORY_DATABASE_URL (CockroachDB or PostgreSQL; SQLite
// under FACTORY_DATA_DIR when unset). Tokens are verified with
// FACTORY_AUTH_SECRET, the secret shared by the mesh.
//
// Its own settings: FACTORY_INGEST_DEDUP_WINDOW (Nats-Msg-Id window of the
// DATA_<DOMAIN> streams, default 15m), FACTORY_INGEST_MAX_RECORD_BYTES
// (default 1048576), FACTORY_INGEST_MAX_BATCH_RECORDS (default 10000),
// FACTORY_INGEST_FRESHNESS_INTERVAL (default 30s).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/services/ingestion"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ingestion:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := service.Config{Name: "ingestion"}
	fs := flag.NewFlagSet("ingestion", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	icfg, freshness, err := ingestion.ConfigFromEnv()
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.NATSURL == "" {
		return errors.New("FACTORY_NATS_URL (or --nats-url) is required: the standalone ingestion service writes to a NATS server; `factoryctl dev` runs an embedded one")
	}
	log, err := service.NewLogger(cfg.LogFormat, cfg.LogLevel, os.Stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdownTracing, err := service.SetupTracing(ctx, "ingestion")
	if err != nil {
		return err
	}
	defer shutdownTracing(context.WithoutCancel(ctx))

	secret, err := cfg.LoadAuthSecret()
	if err != nil {
		return err
	}
	signer, err := auth.NewSigner(secret)
	if err != nil {
		return err
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return err
		}
		dbURL = "sqlite://" + filepath.Join(cfg.DataDir, "ingestion.db")
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("FACTORY_DATABASE_URL: %w", err)
	}
	defer db.Close()
	b, err := bus.Connect(ctx, cfg.NATSURL, "aifactory/ingestion", bus.WithLogger(log))
	if err != nil {
		return fmt.Errorf("FACTORY_NATS_URL: %w", err)
	}
	defer b.Close()

	srv, err := service.New(service.Options{Name: "ingestion", Logger: log, Authenticator: signer,
		ServerOptions: []grpc.ServerOption{grpc.MaxRecvMsgSize(ingestion.MaxMessageBytes)}})
	if err != nil {
		return err
	}
	in, err := ingestion.Start(ctx, ingestion.Options{DB: db, Bus: b, Authenticator: signer, Registry: srv.Registry,
		Logger: log, Config: icfg, FreshnessInterval: freshness})
	if err != nil {
		return err
	}
	in.Register(srv.GRPC)
	ingestion.SetServing(srv.Health)

	grpcLis, err := cfg.ListenGRPC()
	if err != nil {
		return err
	}
	httpLis, err := cfg.ListenHTTP()
	if err != nil {
		grpcLis.Close()
		return err
	}
	log.Info("ingestion serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(), "engine", db.Engine())
	serveErr := srv.Serve(ctx, grpcLis, httpLis)
	if err := in.Stop(context.WithoutCancel(ctx)); err != nil {
		log.Warn("ingestion: stop", "err", err)
	}
	return serveErr
}
