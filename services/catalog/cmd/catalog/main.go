// Command catalog runs the catalog service standalone, against the NATS
// server at FACTORY_NATS_URL and the database at FACTORY_DATABASE_URL
// (CockroachDB or PostgreSQL; SQLite under FACTORY_DATA_DIR when unset).
// Tokens are verified with FACTORY_AUTH_SECRET, the secret shared by the
// mesh. The dev mesh (factoryctl dev) runs the same service embedded.
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

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/services/catalog"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "catalog:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := service.Config{Name: "catalog"}
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.NATSURL == "" {
		return errors.New("FACTORY_NATS_URL (or --nats-url) is required: the standalone catalog publishes to a NATS server; `factoryctl dev` runs an embedded one")
	}
	log, err := service.NewLogger(cfg.LogFormat, cfg.LogLevel, os.Stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	shutdownTracing, err := service.SetupTracing(ctx, "catalog")
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
		dbURL = "sqlite://" + filepath.Join(cfg.DataDir, "catalog.db")
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("FACTORY_DATABASE_URL: %w", err)
	}
	defer db.Close()
	b, err := bus.Connect(ctx, cfg.NATSURL, "aifactory/catalog", bus.WithLogger(log))
	if err != nil {
		return fmt.Errorf("FACTORY_NATS_URL: %w", err)
	}
	defer b.Close()

	srv, err := service.New(service.Options{Name: "catalog", Logger: log, Authenticator: signer})
	if err != nil {
		return err
	}
	cat, err := catalog.Start(ctx, catalog.Options{DB: db, Bus: b, Logger: log})
	if err != nil {
		return err
	}
	cat.Register(srv.GRPC)
	catalog.SetServing(srv.Health)

	grpcLis, err := cfg.ListenGRPC()
	if err != nil {
		return err
	}
	httpLis, err := cfg.ListenHTTP()
	if err != nil {
		grpcLis.Close()
		return err
	}
	log.Info("catalog serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(), "engine", db.Engine())
	serveErr := srv.Serve(ctx, grpcLis, httpLis)
	if err := cat.Stop(context.WithoutCancel(ctx)); err != nil {
		log.Warn("catalog: events left in the outbox; they are published at the next start", "err", err)
	}
	return serveErr
}
