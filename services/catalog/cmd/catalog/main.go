// Command catalog runs the catalog service standalone, against the NATS
// server at FACTORY_NATS_URL and the database at FACTORY_DATABASE_URL
// (CockroachDB or PostgreSQL; SQLite under FACTORY_DATA_DIR when unset).
// Tokens are verified with FACTORY_AUTH_SECRET, the secret shared by the
// mesh. The dev mesh (factoryctl dev) runs the same service embedded.
package main

import (
	"context"

	"github.com/aifactory/aifactory/libs/standalone"
	"github.com/aifactory/aifactory/services/catalog"
)

func main() {
	standalone.Main(standalone.Options{
		Name: "catalog",
		Start: func(ctx context.Context, rt *standalone.Runtime) (func(context.Context) error, error) {
			cat, err := catalog.Start(ctx, catalog.Options{DB: rt.DB, Bus: rt.Bus, Logger: rt.Log})
			if err != nil {
				return nil, err
			}
			cat.Register(rt.Server.GRPC)
			rt.Server.SetServing(catalog.ServiceName)
			return cat.Stop, nil
		},
	})
}
