package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrNotFound is returned by [Row.Scan] when the query produced no row.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a statement violates a unique or primary
	// key constraint; the error is a *[ConflictError].
	ErrConflict = errors.New("conflict")
)

// ConflictError is a unique or primary key violation. errors.Is(err,
// ErrConflict) is true for it; Unwrap gives the driver's error.
type ConflictError struct {
	// Constraint names the violated constraint: the constraint or index name
	// on the server engines, "table.column[, table.column]" on SQLite.
	Constraint string
	// Err is the driver's error (*pgconn.PgError or *sqlite.Error).
	Err error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict on %s: %v", e.Constraint, e.Err)
}

// Unwrap returns the driver's error.
func (e *ConflictError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// mapErr adds op as context and turns driver errors into the package's
// sentinel errors, keeping the driver error wrapped.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w: %w", op, ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("store: %s: %w", op, &ConflictError{Constraint: pgErr.ConstraintName, Err: err})
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("store: %s: %w", op, &ConflictError{Constraint: sqliteConstraint(sqErr.Error()), Err: err})
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// sqliteConstraint extracts the columns from "constraint failed: UNIQUE
// constraint failed: t.a, t.b (2067)".
func sqliteConstraint(msg string) string {
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	cols := msg[i+len(marker):]
	if i := strings.LastIndex(cols, " ("); i >= 0 {
		cols = cols[:i]
	}
	return cols
}

// retryablePG reports whether a server-engine transaction should be run
// again: serialization failure (40001) or deadlock (40P01).
func retryablePG(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// retryableSQLite reports whether a SQLite transaction failed on a lock held
// by another connection (SQLITE_BUSY, SQLITE_LOCKED and their extended codes).
func retryableSQLite(err error) bool {
	var sqErr *sqlite.Error
	if !errors.As(err, &sqErr) {
		return false
	}
	code := sqErr.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}
