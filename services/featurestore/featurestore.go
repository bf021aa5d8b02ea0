// Package featurestore assembles the feature store — entities, feature
// views over data products, feature services, streaming materialization to
// the online store, the offline history and point-in-time training sets —
// so that the standalone binary (cmd/featurestore) and the dev mesh
// (factoryctl dev) run the same code.
package featurestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/catalogview"
	"github.com/aifactory/aifactory/libs/outbox"
	"github.com/aifactory/aifactory/libs/store"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/adapters"
	"github.com/aifactory/aifactory/services/featurestore/internal/app"
	"github.com/aifactory/aifactory/services/featurestore/internal/online"
	"github.com/aifactory/aifactory/services/featurestore/internal/ports"
)

// ServiceName is the gRPC service the feature store serves.
const ServiceName = "aifactory.featurestore.v1.FeatureStoreService"

// Options are what the feature store needs to run.
type Options struct {
	// DB stores definitions and the offline history. Required.
	DB *store.DB
	// Bus carries the data streams it materializes and its events. Required.
	Bus *bus.Bus
	// RedisURL selects Redis as the online store (FACTORY_REDIS_URL); empty
	// uses the embedded in-process store, rebuilt from the offline history
	// at start.
	RedisURL string
	// RedisPrefix prefixes every Redis key (tests sharing a server).
	RedisPrefix string
	// DurablePrefix prefixes the materialization consumers' names
	// (default "featurestore"; tests sharing a NATS server set their own).
	DurablePrefix string
	// Domains limits materialization to the views these domains own
	// (FACTORY_DOMAINS, a domain's own slice); nil means every view. Reads
	// and definitions are not limited.
	Domains []string
	Logger  *slog.Logger
	// ReadyTimeout bounds the wait for the catalog view (default 30s).
	ReadyTimeout time.Duration
}

// FeatureStore is a running feature store.
type FeatureStore struct {
	app    *app.Service
	mat    *app.Materializer
	server *ports.GRPCServer
	store  online.Store
	relay  *outbox.Relay
	sub    *nats.Subscription
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start migrates the schema, opens the online store, loads the definitions,
// follows the catalog and starts materializing every view.
func Start(ctx context.Context, opts Options) (*FeatureStore, error) {
	if opts.DB == nil || opts.Bus == nil {
		return nil, errors.New("featurestore.Start: Options.DB and Options.Bus are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("service", "featurestore")
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	if err := opts.DB.Migrate(ctx, "featurestore", adapters.Migrations()); err != nil {
		return nil, fmt.Errorf("featurestore: migrate: %w", err)
	}
	if err := opts.Bus.EnsureStreams(ctx, bus.CatalogStream, bus.FeaturesStream, bus.DLQStream); err != nil {
		return nil, fmt.Errorf("featurestore: streams: %w", err)
	}
	var st online.Store
	if opts.RedisURL != "" {
		// go-redis logs every failed dial through a process-wide logger; an
		// outage is reported by the consumers and the RPCs instead, so its
		// lines go to debug.
		redis.SetLogger(redisLog{log})
		client, err := online.RedisClient(opts.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("FACTORY_REDIS_URL: %w", err)
		}
		if st, err = online.NewRedis(client, online.RedisOptions{Prefix: opts.RedisPrefix}); err != nil {
			return nil, fmt.Errorf("FACTORY_REDIS_URL: %w", err)
		}
	} else {
		st = online.NewMemory()
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	fail := func(err error) (*FeatureStore, error) {
		cancel()
		_ = st.Close()
		return nil, err
	}
	view := catalogview.New(log)
	if err := view.Follow(bg, opts.Bus); err != nil {
		return fail(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer rcancel()
	if err := view.WaitReady(rctx); err != nil {
		return fail(err)
	}
	relay := adapters.NewRelay(opts.DB, opts.Bus, log)
	a := app.New(adapters.NewRegistry(opts.DB, relay.Notify), adapters.NewHistory(opts.DB), st, view, opts.Bus, log)
	if err := a.Reload(ctx); err != nil {
		return fail(fmt.Errorf("featurestore: load definitions: %w", err))
	}
	if opts.RedisURL == "" {
		n, err := a.Rehydrate(ctx)
		if err != nil {
			return fail(fmt.Errorf("featurestore: rebuild the embedded online store: %w", err))
		}
		log.Info("embedded online store rebuilt from the offline history", "records", n)
	}
	mat := app.NewMaterializer(a)
	if opts.DurablePrefix != "" {
		mat.DurablePrefix = opts.DurablePrefix
	}
	mat.Domains = opts.Domains
	fs := &FeatureStore{app: a, mat: mat, server: ports.NewGRPCServer(a), store: st, relay: relay, cancel: cancel}
	a.OnChange(func() { mat.Sync(bg) })
	// Another replica applied definitions: reload them (its events arrive
	// on features.> after its commit).
	sub, err := opts.Bus.Conn().Subscribe("features.>", func(*nats.Msg) {
		if err := a.Reload(bg); err != nil {
			log.Warn("reload definitions", "err", err)
			return
		}
		mat.Sync(bg)
	})
	if err != nil {
		return fail(err)
	}
	fs.sub = sub
	// A grant or a new contract may make a waiting view runnable.
	changes, unsubscribe := view.Subscribe()
	fs.wg.Add(2)
	go func() {
		defer fs.wg.Done()
		relay.Run(bg)
	}()
	go func() {
		defer fs.wg.Done()
		defer unsubscribe()
		for {
			select {
			case <-bg.Done():
				return
			case <-changes:
				mat.Sync(bg)
			}
		}
	}()
	mat.Sync(bg)
	return fs, nil
}

// redisLog sends go-redis's own log lines to slog at debug level.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// Register adds the FeatureStoreService to s.
func (fs *FeatureStore) Register(s *grpc.Server) {
	featurestorev1.RegisterFeatureStoreServiceServer(s, fs.server)
}

// Stop stops materializing, publishes pending events and closes the online
// store. Call it after the gRPC server stopped.
func (fs *FeatureStore) Stop(ctx context.Context) error {
	_ = fs.sub.Unsubscribe()
	fs.mat.Stop()
	fs.cancel()
	fs.wg.Wait()
	return errors.Join(fs.relay.Flush(ctx), fs.store.Close())
}
