package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// openPostgres opens a pgxpool and finds out whether the server is
// CockroachDB, which decides how ExecuteTx retries.
func openPostgres(ctx context.Context, url string, o options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = int32(min(o.maxConns, 1<<30))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	var version string
	if err := pool.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return &DB{
		engine:    EnginePostgres,
		cockroach: strings.Contains(version, "CockroachDB"),
		opts:      o,
		pool:      pool,
	}, nil
}
