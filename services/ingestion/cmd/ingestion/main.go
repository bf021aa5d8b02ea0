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

	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/standalone"
	"github.com/aifactory/aifactory/services/ingestion"
)

func main() {
	standalone.Main(standalone.Options{
		Name:          "ingestion",
		ServerOptions: []grpc.ServerOption{grpc.MaxRecvMsgSize(ingestion.MaxMessageBytes)},
		Start: func(ctx context.Context, rt *standalone.Runtime) (func(context.Context) error, error) {
			cfg, freshness, err := ingestion.ConfigFromEnv()
			if err != nil {
				return nil, err
			}
			in, err := ingestion.Start(ctx, ingestion.Options{
				DB: rt.DB, Bus: rt.Bus, Authenticator: rt.Signer, Registry: rt.Server.Registry,
				Logger: rt.Log, Config: cfg, FreshnessInterval: freshness,
			})
			if err != nil {
				return nil, err
			}
			in.Register(rt.Server.GRPC)
			rt.Server.SetServing(ingestion.ServiceName)
			return in.Stop, nil
		},
	})
}
