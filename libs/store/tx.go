package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cockroachdb/cockroach-go/v2/crdb"
	"github.com/cockroachdb/cockroach-go/v2/crdb/crdbpgxv5"
	"github.com/jackc/pgx/v5"
)

// txOptions: every server-engine transaction is SERIALIZABLE, CockroachDB's
// only strong level, so that PostgreSQL behaves the same (including the
// 40001 retries).
var txOptions = pgx.TxOptions{IsoLevel: pgx.Serializable}

// ExecuteTx runs fn in a transaction and commits it if fn returns nil; if fn
// returns an error the transaction is rolled back and that error returned
// unchanged.
//
// fn is run again from the start when the transaction fails with a
// retryable error (serialization failure 40001 or deadlock 40P01 on the
// server engines, SQLITE_BUSY on SQLite), up to the configured number of
// retries (see [WithMaxTxRetries]). So fn must be idempotent apart from its
// statements on tx: no side effects outside the database, and no reliance on
// state left by an earlier attempt. For a retry to happen, fn must return
// errors from tx wrapped with %w (or unchanged).
//
// Inside fn, use only tx and the ctx it is given: calling the DB with that
// ctx returns an error.
func (db *DB) ExecuteTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	if err := db.checkNotInTx(ctx, "ExecuteTx"); err != nil {
		return err
	}
	txCtx := context.WithValue(ctx, txKey{}, db)
	switch {
	case db.pool != nil && db.cockroach:
		return db.crdbTx(ctx, txCtx, fn)
	case db.pool != nil:
		return db.retry(ctx, retryablePG, func() error { return db.pgTxOnce(ctx, txCtx, fn) })
	default:
		return db.retry(ctx, retryableSQLite, func() error { return db.sqliteTxOnce(ctx, txCtx, fn) })
	}
}

// crdbTx uses cockroach-go's savepoint-based retry loop, which only
// CockroachDB implements correctly.
func (db *DB) crdbTx(ctx, txCtx context.Context, fn func(context.Context, *Tx) error) error {
	attempts := 0
	var fnErr error
	err := crdbpgx.ExecuteTx(crdb.WithMaxRetries(ctx, db.opts.maxTxRetries), db.pool, txOptions, func(ptx pgx.Tx) error {
		attempts++
		fnErr = fn(txCtx, &Tx{pg: ptx})
		return fnErr
	})
	if attempts > 1 {
		db.txRetries.Add(int64(attempts - 1))
	}
	if err != nil && err != fnErr {
		return mapErr("transaction", err)
	}
	return err
}

// retry runs once until it succeeds, fails with an error that retryable
// rejects, or the retries are used up; it backs off with jitter in between.
func (db *DB) retry(ctx context.Context, retryable func(error) bool, once func() error) error {
	for attempt := 0; ; attempt++ {
		err := once()
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= db.opts.maxTxRetries {
			return fmt.Errorf("store: transaction failed after %d retries: %w", attempt, err)
		}
		db.txRetries.Add(1)
		d := min(time.Millisecond<<min(attempt, 10), 100*time.Millisecond)
		t := time.NewTimer(d/2 + rand.N(d))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("store: transaction retry: %w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// pgTxOnce runs one attempt of a PostgreSQL transaction.
func (db *DB) pgTxOnce(ctx, txCtx context.Context, fn func(context.Context, *Tx) error) error {
	ptx, err := db.pool.BeginTx(ctx, txOptions)
	if err != nil {
		return mapErr("begin", err)
	}
	if err := fn(txCtx, &Tx{pg: ptx}); err != nil {
		_ = ptx.Rollback(context.WithoutCancel(ctx)) // fn's error is the one to report
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return mapErr("commit", err)
	}
	return nil
}

// sqliteTxOnce runs one attempt of a SQLite transaction on the writer
// connection (BEGIN IMMEDIATE, set in the DSN).
func (db *DB) sqliteTxOnce(ctx, txCtx context.Context, fn func(context.Context, *Tx) error) error {
	stx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return mapErr("begin", err)
	}
	if err := fn(txCtx, &Tx{sq: stx}); err != nil {
		_ = stx.Rollback() // fn's error is the one to report
		return err
	}
	if err := stx.Commit(); err != nil {
		return mapErr("commit", err)
	}
	return nil
}
