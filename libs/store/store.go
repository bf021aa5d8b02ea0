package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Engine names returned by [DB.Engine].
const (
	EnginePostgres = "postgres" // CockroachDB or PostgreSQL
	EngineSQLite   = "sqlite"
)

// DefaultMaxTxRetries is how often [DB.ExecuteTx] retries a transaction
// after a retryable failure unless [WithMaxTxRetries] says otherwise.
const DefaultMaxTxRetries = 50

// DB is a handle on a CockroachDB, PostgreSQL or SQLite database. It is safe
// for concurrent use.
type DB struct {
	engine    string
	cockroach bool // engine is postgres and the server is CockroachDB
	opts      options

	pool *pgxpool.Pool // postgres

	writer *sql.DB // sqlite: the single writer connection
	reader *sql.DB // sqlite: read-only connections; == writer for :memory:

	txRetries atomic.Int64
}

// Querier runs statements; both *DB and *Tx implement it, so repository code
// can take a Querier and work inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, sql string, args ...any) (*Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) *Row
}

var (
	_ Querier = (*DB)(nil)
	_ Querier = (*Tx)(nil)
)

// Option configures [Open].
type Option func(*options)

type options struct {
	maxConns     int
	maxTxRetries int
}

// WithMaxConns caps the number of connections: the pgxpool size on the
// server engines, the read-only pool on SQLite (SQLite always has exactly one
// writer connection). Values below 1 are ignored.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// WithMaxTxRetries sets how often [DB.ExecuteTx] retries a transaction after
// a retryable failure before giving up (default [DefaultMaxTxRetries]).
// Values below 1 are ignored.
func WithMaxTxRetries(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxTxRetries = n
		}
	}
}

// Open connects to the database named by url:
//
//   - postgres://… or postgresql://…: CockroachDB or PostgreSQL via pgxpool;
//   - sqlite:///abs/path.db, sqlite://relative.db, sqlite::memory:, or a
//     SQLite file: URI (file:path.db?…, file::memory:): embedded SQLite.
//
// Open checks that the database answers before it returns.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{maxTxRetries: DefaultMaxTxRetries}
	for _, opt := range opts {
		opt(&o)
	}
	var (
		db  *DB
		err error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = openPostgres(ctx, url, o)
	case strings.HasPrefix(url, "sqlite:"), strings.HasPrefix(url, "file:"):
		db, err = openSQLite(ctx, url, o)
	default:
		return nil, fmt.Errorf("store: open: unsupported database URL %q: want postgres://, postgresql://, sqlite: or file:", redact(url))
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", redact(url), err)
	}
	return db, nil
}

// redact hides a password in a URL so it can go into an error message.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndex(rest, "@")
	if slash := strings.Index(rest, "/"); slash >= 0 && slash < at {
		at = -1 // the @ is in the path or query, not in the userinfo
	}
	if at < 0 {
		return url
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return url
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// Engine reports the engine: [EnginePostgres] (CockroachDB or PostgreSQL) or
// [EngineSQLite].
func (db *DB) Engine() string { return db.engine }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var err error
	if db.pool != nil {
		err = db.pool.Ping(ctx)
	} else {
		err = errors.Join(db.writer.PingContext(ctx), db.reader.PingContext(ctx))
	}
	if err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes every connection. Queries still running fail.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
		return nil
	}
	err := db.writer.Close()
	if db.reader != db.writer {
		err = errors.Join(err, db.reader.Close())
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Stats are counters since [Open].
type Stats struct {
	// TxRetries counts the times a transaction function passed to
	// [DB.ExecuteTx] was run again after a retryable failure.
	TxRetries int64
}

// Stats returns counters since [Open], e.g. for metrics.
func (db *DB) Stats() Stats {
	return Stats{TxRetries: db.txRetries.Load()}
}
