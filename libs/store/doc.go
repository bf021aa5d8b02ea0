// Package store is the SQL layer shared by the aifactory services: one query
// API over CockroachDB / PostgreSQL (through pgx and cockroach-go) and an
// embedded SQLite (modernc.org/sqlite, no cgo), plus per-service migrations.
//
// # Opening
//
//	db, err := store.Open(ctx, cfg.DatabaseURL)
//
// "postgres://…" and "postgresql://…" open a pgxpool against CockroachDB or
// PostgreSQL. "sqlite:///abs/path.db", "sqlite://relative.db",
// "sqlite::memory:" and "file:…" open SQLite in WAL mode with a busy
// timeout and foreign keys on.
//
// # Queries
//
// SQL is written once, PostgreSQL style, with $1, $2… placeholders. On SQLite
// they are rewritten to ?1, ?2… outside string literals, quoted identifiers
// and comments, so repeated ($1 … $1) and out-of-order ($2, $1) placeholders
// work on both engines. [DB] and [Tx] both implement [Querier], so repository
// code can run on either.
//
// # Transactions
//
// [DB.ExecuteTx] runs a function in a SERIALIZABLE transaction and retries it
// on retryable failures: SQLSTATE 40001 (and 40P01 on PostgreSQL) on the
// server engines, SQLITE_BUSY on SQLite. The function may therefore run more
// than once: it must only touch the database through its Tx and must not have
// side effects outside it (no publishing, no mutation of captured state that
// survives a retry). Inside the function use only the Tx; calling the DB
// itself returns an error rather than deadlocking SQLite's single writer.
//
// On CockroachDB the retry loop is cockroach-go's crdbpgx.ExecuteTx (the
// SAVEPOINT cockroach_restart protocol). PostgreSQL does not give that
// savepoint CockroachDB's commit semantics (RELEASE does not commit there, and
// cockroach-go ignores the COMMIT error that follows it), so on PostgreSQL the
// whole transaction is retried instead: BEGIN … COMMIT again from the start.
//
// SQLite allows one writer at a time. The DB keeps one writer connection,
// which every Exec on the DB, every ExecuteTx and every non-SELECT query uses,
// so writers in one process queue in Go instead of failing with SQLITE_BUSY;
// transactions start with BEGIN IMMEDIATE so writers in other processes wait
// on the busy timeout. SELECTs on the DB go to a pool of read-only connections
// that run concurrently with the writer (WAL). An in-memory database
// ("sqlite::memory:") has a single connection for everything, so do not run a
// statement on the DB while Rows from the DB are still open.
//
// # Errors
//
// [Row.Scan] returns [ErrNotFound] when the query produced no row. A unique
// or primary key violation is an [ErrConflict] (SQLSTATE 23505,
// SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY); errors.As with a
// *[ConflictError] gives the constraint. Driver errors stay wrapped, so
// errors.As with *pgconn.PgError or *sqlite.Error still works.
//
// # Types: SQL that runs unchanged on CockroachDB, PostgreSQL and SQLite
//
//   - Keys: TEXT (or UUID on the server engines) generated in Go, e.g. a
//     UUID; never SERIAL or another hot sequential key.
//   - Integers: BIGINT (CockroachDB's INT is 64-bit, PostgreSQL's is 32-bit);
//     scan into int64. Also BOOLEAN, DOUBLE PRECISION, TEXT.
//   - Bytes: BYTEA. SQLite accepts the type name and stores the value as a
//     BLOB; scan into []byte.
//   - Times: declare TIMESTAMPTZ and bind time.Time. On SQLite the package
//     stores a time as TEXT in UTC, fixed width with microseconds
//     ("2006-01-02T15:04:05.000000Z"), so ORDER BY and comparisons on the
//     column work, and scanning into time.Time, *time.Time or sql.NullTime
//     parses it back. Times are truncated to microseconds (the server engines'
//     precision) and scanned times are in UTC on every engine. Bind times from
//     Go; do not use now() or CURRENT_TIMESTAMP in SQL (SQLite lacks now() and
//     its CURRENT_TIMESTAMP uses another text format).
//   - NULL: scan nullable columns into sql.NullString, sql.NullInt64,
//     sql.NullTime… or a pointer to a pointer (**string, **time.Time); bind a
//     nil pointer or a sql.Null* value to write NULL.
//   - Upserts: INSERT … ON CONFLICT (cols) DO NOTHING / DO UPDATE SET
//     col = excluded.col works on all three.
//   - Not available: LISTEN/NOTIFY, advisory locks (CockroachDB has neither),
//     sequences and SERIAL, now() on SQLite. Use the event bus for
//     notifications and a row written in the same transaction as a guard.
//
// Where the engines really differ (JSONB, partial index syntax, computed
// columns…), give the migration per-engine files: see [DB.Migrate].
//
// # Migrations
//
// [DB.Migrate] applies a service's NNNN_name.sql files from an fs.FS (usually
// an embed.FS), each in its own transaction, recorded in schema_migrations.
//
// Tests that should run against every engine use the storetest subpackage.
package store
