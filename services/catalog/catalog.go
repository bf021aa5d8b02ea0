// Package catalog assembles the catalog service — the data mesh's registry
// of domains, data products and their versioned contracts — from its SQL
// store and the event bus, so that the standalone binary (cmd/catalog) and
// the embedded dev mesh (factoryctl dev) run the same code.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/outbox"
	"github.com/aifactory/aifactory/libs/store"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	"github.com/aifactory/aifactory/services/catalog/internal/adapters"
	"github.com/aifactory/aifactory/services/catalog/internal/app"
	"github.com/aifactory/aifactory/services/catalog/internal/ports"
)

// ServiceName is the gRPC service the catalog serves.
const ServiceName = "aifactory.catalog.v1.CatalogService"

// Options are what the catalog needs to run.
type Options struct {
	// DB stores domains, products, contracts and the event outbox. Required.
	DB *store.DB
	// Bus receives the catalog events on the CATALOG stream. Required.
	Bus *bus.Bus
	// Logger; nil uses slog.Default().
	Logger *slog.Logger
	// FreshnessDurable names the durable consumer of freshness reports
	// (default "catalog-freshness"). Replicas of one catalog share it; tests
	// sharing a NATS server give each catalog its own.
	FreshnessDurable string
}

// Catalog is a running catalog: its schema migrated, its streams declared
// and its outbox relay publishing.
type Catalog struct {
	server *ports.GRPCServer
	relay  *outbox.Relay
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start migrates the schema, declares the CATALOG, MONITORING and DLQ
// streams, starts the outbox relay and the consumer of freshness reports.
// Stop it with Stop.
func Start(ctx context.Context, opts Options) (*Catalog, error) {
	if opts.DB == nil || opts.Bus == nil {
		return nil, errors.New("catalog.Start: Options.DB and Options.Bus are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("service", "catalog")
	if err := opts.DB.Migrate(ctx, "catalog", adapters.Migrations()); err != nil {
		return nil, fmt.Errorf("catalog: migrate: %w", err)
	}
	if err := opts.Bus.EnsureStreams(ctx, bus.CatalogStream, bus.MonitoringStream, bus.DLQStream); err != nil {
		return nil, fmt.Errorf("catalog: streams: %w", err)
	}
	relay := adapters.NewRelay(opts.DB, opts.Bus, log)
	repo := adapters.NewRepository(opts.DB, relay.Notify)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := app.New(repo)
	c := &Catalog{server: ports.NewGRPCServer(a), relay: relay, cancel: cancel}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		relay.Run(rctx)
	}()
	go func() {
		defer c.wg.Done()
		if err := ports.ConsumeFreshness(rctx, opts.Bus, a, opts.FreshnessDurable); err != nil {
			log.Error("catalog: freshness consumer stopped", "err", err)
		}
	}()
	return c, nil
}

// Register adds the CatalogService to s.
func (c *Catalog) Register(s *grpc.Server) {
	catalogv1.RegisterCatalogServiceServer(s, c.server)
}

// Stop stops the relay after a last attempt to publish pending events. Call
// it after the gRPC server stopped, before closing the DB and the bus.
func (c *Catalog) Stop(ctx context.Context) error {
	c.cancel()
	c.wg.Wait()
	return c.relay.Flush(ctx)
}
