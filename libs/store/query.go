package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Exec runs a statement that returns no rows and reports how many rows it
// changed. A statement without arguments may contain several statements
// separated by semicolons.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := db.checkNotInTx(ctx, "Exec"); err != nil {
		return 0, err
	}
	if db.pool != nil {
		return pgExec(ctx, db.pool, query, args)
	}
	return sqliteExec(ctx, db.writer, query, args)
}

// Query runs a statement that returns rows. The caller must Close the Rows.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	if err := db.checkNotInTx(ctx, "Query"); err != nil {
		return nil, err
	}
	if db.pool != nil {
		return pgQuery(ctx, db.pool, query, args)
	}
	q := db.writer
	if readOnly(query) {
		q = db.reader
	}
	return sqliteQuery(ctx, q, query, args)
}

// QueryRow runs a statement that returns at most one row; the error, if any,
// comes from [Row.Scan].
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *Row {
	rows, err := db.Query(ctx, query, args...)
	return &Row{rows: rows, err: err}
}

// Tx is a transaction handed to the function passed to [DB.ExecuteTx]. It is
// only valid during that call.
type Tx struct {
	pg pgx.Tx
	sq *sql.Tx
}

// Exec runs a statement that returns no rows in the transaction and reports
// how many rows it changed.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if tx.pg != nil {
		return pgExec(ctx, tx.pg, query, args)
	}
	return sqliteExec(ctx, tx.sq, query, args)
}

// Query runs a statement that returns rows in the transaction. The caller
// must Close the Rows.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	if tx.pg != nil {
		return pgQuery(ctx, tx.pg, query, args)
	}
	return sqliteQuery(ctx, tx.sq, query, args)
}

// QueryRow runs a statement that returns at most one row in the transaction;
// the error, if any, comes from [Row.Scan].
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	rows, err := tx.Query(ctx, query, args...)
	return &Row{rows: rows, err: err}
}

// Rows is the result of a query. Call Next before each Scan, check Err after
// the loop, and Close when done (Close is safe to call more than once).
type Rows struct {
	pg pgx.Rows
	sq *sql.Rows
}

// Next prepares the next row for Scan and reports whether there is one.
func (r *Rows) Next() bool {
	if r.pg != nil {
		return r.pg.Next()
	}
	return r.sq.Next()
}

// Scan copies the current row's columns into dest: pointers to string,
// int64, int32, float64, bool, []byte, time.Time, or sql.Null* / a pointer
// to a pointer for NULLable columns.
func (r *Rows) Scan(dest ...any) error {
	var err error
	if r.pg != nil {
		err = r.pg.Scan(dest...)
	} else {
		err = r.sq.Scan(sqliteDests(dest)...)
	}
	if err != nil {
		return mapErr("scan", err)
	}
	utcDests(dest)
	return nil
}

// Err reports the error, if any, that ended the iteration.
func (r *Rows) Err() error {
	var err error
	if r.pg != nil {
		err = r.pg.Err()
	} else {
		err = r.sq.Err()
	}
	return mapErr("query", err)
}

// Close releases the connection; it reports the error that ended the
// iteration, if any.
func (r *Rows) Close() error {
	if r.pg != nil {
		r.pg.Close()
		return mapErr("query", r.pg.Err())
	}
	return mapErr("close rows", r.sq.Close())
}

// Row is the result of [DB.QueryRow] or [Tx.QueryRow].
type Row struct {
	rows *Rows
	err  error
}

// Scan copies the first row's columns into dest (see [Rows.Scan]) and
// releases the connection. It returns an error wrapping [ErrNotFound] when
// the query produced no row.
func (r *Row) Scan(dest ...any) (err error) {
	if r.err != nil {
		return r.err
	}
	defer func() {
		if cerr := r.rows.Close(); err == nil {
			err = cerr
		}
	}()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("store: %w", ErrNotFound)
	}
	return r.rows.Scan(dest...)
}

// pgQuerier is what pgxpool.Pool and pgx.Tx have in common.
type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func pgExec(ctx context.Context, q pgQuerier, query string, args []any) (int64, error) {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return 0, mapErr("exec", err)
	}
	return tag.RowsAffected(), nil
}

func pgQuery(ctx context.Context, q pgQuerier, query string, args []any) (*Rows, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, mapErr("query", err)
	}
	return &Rows{pg: rows}, nil
}

// sqlQuerier is what *sql.DB and *sql.Tx have in common.
type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func sqliteExec(ctx context.Context, q sqlQuerier, query string, args []any) (int64, error) {
	args, err := sqliteArgs(args)
	if err != nil {
		return 0, fmt.Errorf("store: exec: %w", err)
	}
	res, err := q.ExecContext(ctx, rebind(query), args...)
	if err != nil {
		return 0, mapErr("exec", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr("exec", err)
	}
	return n, nil
}

func sqliteQuery(ctx context.Context, q sqlQuerier, query string, args []any) (*Rows, error) {
	args, err := sqliteArgs(args)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	rows, err := q.QueryContext(ctx, rebind(query), args...)
	if err != nil {
		return nil, mapErr("query", err)
	}
	return &Rows{sq: rows}, nil
}

// txKey marks the context handed to an ExecuteTx function.
type txKey struct{}

// errInTx is returned when a DB method is called with the context of a
// running ExecuteTx function: on SQLite it would wait forever for the writer
// connection the transaction holds, and on the server engines it would run
// outside the transaction.
var errInTx = errors.New("called on the DB inside ExecuteTx; use the Tx")

func (db *DB) checkNotInTx(ctx context.Context, method string) error {
	if ctx.Value(txKey{}) == db {
		return fmt.Errorf("store: %s %w", method, errInTx)
	}
	return nil
}
