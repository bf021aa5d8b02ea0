// Command featurestore runs the feature store standalone, against the NATS
// server at FACTORY_NATS_URL, the database at FACTORY_DATABASE_URL
// (CockroachDB or PostgreSQL; SQLite under FACTORY_DATA_DIR when unset) and
// the Redis online store at FACTORY_REDIS_URL (an embedded in-process store,
// rebuilt from the offline history at start, when unset). FACTORY_DOMAINS
// limits materialization to the views of those domains (a domain's slice).
package main

import (
	"context"

	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/libs/standalone"
	"github.com/aifactory/aifactory/services/featurestore"
)

func main() {
	standalone.Main(standalone.Options{
		Name: "featurestore",
		Start: func(ctx context.Context, rt *standalone.Runtime) (func(context.Context) error, error) {
			domains, err := service.DomainsFromEnv()
			if err != nil {
				return nil, err
			}
			fs, err := featurestore.Start(ctx, featurestore.Options{DB: rt.DB, Bus: rt.Bus, RedisURL: rt.Config.RedisURL, Logger: rt.Log, Domains: domains})
			if err != nil {
				return nil, err
			}
			fs.Register(rt.Server.GRPC)
			rt.Server.SetServing(featurestore.ServiceName)
			return fs.Stop, nil
		},
	})
}
