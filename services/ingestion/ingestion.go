// Package ingestion assembles the ingestion service — the governed write
// path into data products — from its SQL store, the event bus and the
// catalog's event stream, so that the standalone binary (cmd/ingestion) and
// the embedded dev mesh (factoryctl dev) run the same code.
package ingestion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/catalogview"
	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/libs/store"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion/internal/adapters"
	"github.com/aifactory/aifactory/services/ingestion/internal/app"
	"github.com/aifactory/aifactory/services/ingestion/internal/ports"
)

// ServiceName is the gRPC service the ingestion service serves.
const ServiceName = "aifactory.ingestion.v1.IngestionService"

// Limits and Config of the write path (see app.Limits for the defaults).
type (
	Limits = app.Limits
	Config = app.Config
)

// Options are what the ingestion service needs to run.
type Options struct {
	// DB stores counters, the replay ledger and freshness state. Required.
	DB *store.DB
	// Bus carries the data, quarantine, lineage and catalog streams. Required.
	Bus *bus.Bus
	// Authenticator verifies the tokens of NATS ingest requests (gRPC calls
	// are authenticated by the server). Required.
	Authenticator auth.Authenticator
	// Registry receives the service's metrics (nil: none).
	Registry prometheus.Registerer
	Logger   *slog.Logger
	Config   Config
	// FreshnessInterval is how often freshness is checked against the SLAs
	// (default 30s); StatsInterval how often counters are flushed (default 1s).
	FreshnessInterval, StatsInterval time.Duration
	// ReadyTimeout bounds the wait for the catalog view to catch up with the
	// CATALOG stream at start (default 30s).
	ReadyTimeout time.Duration
}

// Ingestion is a running ingestion service.
type Ingestion struct {
	app    *app.Service
	server *ports.GRPCServer
	subs   []*nats.Subscription
	stats  *adapters.Stats
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start migrates the schema, declares the streams it writes, follows the
// catalog until caught up, subscribes to ingest.*.* and starts the
// background loops. Stop it with Stop.
func Start(ctx context.Context, opts Options) (*Ingestion, error) {
	if opts.DB == nil || opts.Bus == nil || opts.Authenticator == nil {
		return nil, errors.New("ingestion.Start: Options.DB, Bus and Authenticator are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("service", "ingestion")
	if opts.FreshnessInterval <= 0 {
		opts.FreshnessInterval = 30 * time.Second
	}
	if opts.StatsInterval <= 0 {
		opts.StatsInterval = time.Second
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	if err := opts.DB.Migrate(ctx, "ingestion", adapters.Migrations()); err != nil {
		return nil, fmt.Errorf("ingestion: migrate: %w", err)
	}
	if err := opts.Bus.EnsureStreams(ctx, bus.CatalogStream, bus.QuarantineStream, bus.LineageStream, bus.MonitoringStream, bus.DLQStream); err != nil {
		return nil, fmt.Errorf("ingestion: streams: %w", err)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	view := catalogview.New(log)
	if err := view.Follow(bg, opts.Bus); err != nil {
		cancel()
		return nil, err
	}
	rctx, rcancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer rcancel()
	if err := view.WaitReady(rctx); err != nil {
		cancel()
		return nil, err
	}
	stats := adapters.NewStats(opts.DB)
	a, err := app.New(view, opts.Bus, stats, adapters.NewLedger(opts.DB), adapters.NewQuarantine(opts.Bus), opts.Registry, log, opts.Config)
	if err != nil {
		cancel()
		return nil, err
	}
	subs, err := ports.NewNATSServer(a, opts.Authenticator, log).Subscribe(opts.Bus.Conn())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ingestion: subscribe %s: %w", ports.IngestSubjects, err)
	}
	in := &Ingestion{app: a, server: ports.NewGRPCServer(a, opts.Bus, log), subs: subs, stats: stats, cancel: cancel}
	in.wg.Add(2)
	go func() {
		defer in.wg.Done()
		stats.Run(bg, opts.StatsInterval, func(err error) { log.Warn("counters not flushed; kept for the next flush", "err", err) })
	}()
	go func() {
		defer in.wg.Done()
		t := time.NewTicker(opts.FreshnessInterval)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				if err := a.CheckFreshness(bg); err != nil {
					log.Warn("freshness check", "err", err)
				}
			}
		}
	}()
	return in, nil
}

// CheckFreshness runs one freshness check now (it also runs every
// FreshnessInterval).
func (in *Ingestion) CheckFreshness(ctx context.Context) error {
	if err := in.stats.Flush(ctx); err != nil {
		return err
	}
	return in.app.CheckFreshness(ctx)
}

// Register adds the IngestionService to s.
func (in *Ingestion) Register(s *grpc.Server) {
	ingestionv1.RegisterIngestionServiceServer(s, in.server)
}

// Stop stops taking NATS requests, stops the background loops and flushes
// the counters. Call it after the gRPC server stopped.
func (in *Ingestion) Stop(ctx context.Context) error {
	var errs []error
	for _, sub := range in.subs {
		errs = append(errs, sub.Drain())
	}
	err := errors.Join(errs...)
	in.cancel()
	in.wg.Wait()
	return errors.Join(err, in.stats.Flush(ctx))
}

// MaxMessageBytes is the gRPC message size the ingestion service needs: a
// batch of app.DefaultLimits.MaxBatchBytes plus framing. Servers hosting it
// set grpc.MaxRecvMsgSize to at least this.
const MaxMessageBytes = 20 << 20

// ConfigFromEnv reads the service's own settings: FACTORY_INGEST_DEDUP_WINDOW,
// FACTORY_INGEST_FRESHNESS_INTERVAL, FACTORY_INGEST_MAX_RECORD_BYTES and
// FACTORY_INGEST_MAX_BATCH_RECORDS (unset: the defaults).
func ConfigFromEnv() (Config, time.Duration, error) {
	var (
		cfg  Config
		errs []error
	)
	dur := func(name string, dst *time.Duration) {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 15m", name, v))
			}
			*dst = d
		}
	}
	num := func(name string, dst *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive number", name, v))
			}
			*dst = n
		}
	}
	var freshness time.Duration
	dur("FACTORY_INGEST_DEDUP_WINDOW", &cfg.DedupWindow)
	dur("FACTORY_INGEST_FRESHNESS_INTERVAL", &freshness)
	num("FACTORY_INGEST_MAX_RECORD_BYTES", &cfg.Limits.MaxRecordBytes)
	num("FACTORY_INGEST_MAX_BATCH_RECORDS", &cfg.Limits.MaxBatchRecords)
	domains, err := service.DomainsFromEnv()
	if err != nil {
		errs = append(errs, err)
	}
	cfg.Domains = domains
	return cfg, freshness, errors.Join(errs...)
}
