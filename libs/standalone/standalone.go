// Package standalone runs one aifactory service as its own process — the
// shape of every services/<name>/cmd/<name> binary: configuration from
// FACTORY_* env and flags, logs, tracing, the token secret, the database
// (FACTORY_DATABASE_URL, or SQLite under the data dir), the NATS connection
// (FACTORY_NATS_URL, required), the gRPC/HTTP server, and a graceful stop
// on SIGINT/SIGTERM.
package standalone

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/libs/store"
)

// Runtime is what a service gets to start with.
type Runtime struct {
	Config service.Config
	Log    *slog.Logger
	DB     *store.DB
	Bus    *bus.Bus
	Signer *auth.Signer
	// Server: register the service's gRPC servers on Server.GRPC, its metrics
	// on Server.Registry, and set its health to SERVING.
	Server *service.Server
}

// Service starts a service on a Runtime and returns the function that stops
// it (called after the gRPC server drained).
type Service func(ctx context.Context, rt *Runtime) (stop func(context.Context) error, err error)

// Options configure Main.
type Options struct {
	// Name of the service: logs, tracing, ce-source "aifactory/<name>", and
	// the SQLite file <data dir>/<name>.db.
	Name string
	// ServerOptions are passed to the gRPC server (e.g. a larger
	// MaxRecvMsgSize).
	ServerOptions []grpc.ServerOption
	Start         Service
}

// Main runs the service until SIGINT/SIGTERM and exits the process with a
// message on stderr when it fails.
func Main(opts Options) {
	if err := Run(context.Background(), opts, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", opts.Name, err)
		os.Exit(1)
	}
}

// Run is Main without the exit, for tests.
func Run(ctx context.Context, opts Options, args []string) error {
	service.TuneGC()
	cfg := service.Config{Name: opts.Name}
	fs := flag.NewFlagSet(opts.Name, flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.NATSURL == "" {
		return fmt.Errorf("%s (or --nats-url) is required: a standalone service talks to a NATS server; `factoryctl dev` runs an embedded one", service.EnvNATSURL)
	}
	log, err := service.NewLogger(cfg.LogFormat, cfg.LogLevel, os.Stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	shutdownTracing, err := service.SetupTracing(ctx, opts.Name)
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
		dbURL = "sqlite://" + filepath.Join(cfg.DataDir, opts.Name+".db")
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("%s: %w", service.EnvDatabaseURL, err)
	}
	defer db.Close()
	b, err := bus.Connect(ctx, cfg.NATSURL, "aifactory/"+opts.Name, bus.WithLogger(log))
	if err != nil {
		return fmt.Errorf("%s: %w", service.EnvNATSURL, err)
	}
	defer b.Close()

	srv, err := service.New(service.Options{Name: opts.Name, Logger: log, Authenticator: signer, ServerOptions: opts.ServerOptions})
	if err != nil {
		return err
	}
	stopService, err := opts.Start(ctx, &Runtime{Config: cfg, Log: log, DB: db, Bus: b, Signer: signer, Server: srv})
	if err != nil {
		return err
	}
	grpcLis, err := cfg.ListenGRPC()
	if err != nil {
		return errors.Join(err, stopService(context.WithoutCancel(ctx)))
	}
	httpLis, err := cfg.ListenHTTP()
	if err != nil {
		grpcLis.Close()
		return errors.Join(err, stopService(context.WithoutCancel(ctx)))
	}
	log.Info(opts.Name+" serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(), "engine", db.Engine())
	serveErr := srv.Serve(ctx, grpcLis, httpLis)
	if err := stopService(context.WithoutCancel(ctx)); err != nil {
		log.Warn(opts.Name+": stop", "err", err)
	}
	return serveErr
}
