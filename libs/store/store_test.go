package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/libs/store/storetest"
	"github.com/jackc/pgx/v5/pgconn"
)

func mustExec(t *testing.T, q store.Querier, query string, args ...any) int64 {
	t.Helper()
	n, err := q.Exec(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("exec %q: %v", query, err)
	}
	return n
}

func TestPlaceholders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE kv (k TEXT PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL, n BIGINT NOT NULL)`)

		// Out of order and repeated.
		mustExec(t, db, `INSERT INTO kv (k, a, b, n) VALUES ($2, $1, $2, $3)`, "first", "key", int64(7))
		var k, a, b string
		var n int64
		if err := db.QueryRow(ctx, `SELECT k, a, b, n FROM kv WHERE k = $1 AND b = $1 AND n = $2`, "key", 7).Scan(&k, &a, &b, &n); err != nil {
			t.Fatal(err)
		}
		if k != "key" || a != "first" || b != "key" || n != 7 {
			t.Fatalf("got %q %q %q %d", k, a, b, n)
		}

		// Placeholders inside literals, quoted identifiers and comments are
		// left alone.
		var lit, arg string
		err := db.QueryRow(ctx, `SELECT '$1 it''s $2' AS "x$1", /* $9 */ $1 -- $8
			`, "arg").Scan(&lit, &arg)
		if err != nil {
			t.Fatal(err)
		}
		if lit != "$1 it's $2" || arg != "arg" {
			t.Fatalf("got %q %q", lit, arg)
		}
	})
}

func TestTypes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE things (
			id TEXT PRIMARY KEY,
			big BIGINT NOT NULL,
			small INTEGER NOT NULL,
			ok BOOLEAN NOT NULL,
			data BYTEA NOT NULL,
			score DOUBLE PRECISION NOT NULL,
			at TIMESTAMPTZ NOT NULL
		)`)
		at := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("X", 3600))
		data := []byte{0, 1, 2, 0xff}
		if n := mustExec(t, db, `INSERT INTO things VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			"a", int64(1)<<40, int32(-5), true, data, 2.5, at); n != 1 {
			t.Fatalf("rows affected = %d, want 1", n)
		}
		var (
			id    string
			big   int64
			small int32
			ok    bool
			got   []byte
			score float64
			gotAt time.Time
		)
		if err := db.QueryRow(ctx, `SELECT id, big, small, ok, data, score, at FROM things WHERE id = $1`, "a").
			Scan(&id, &big, &small, &ok, &got, &score, &gotAt); err != nil {
			t.Fatal(err)
		}
		if id != "a" || big != 1<<40 || small != -5 || !ok || !bytes.Equal(got, data) || score != 2.5 {
			t.Fatalf("got %q %d %d %v %x %v", id, big, small, ok, got, score)
		}
		want := at.Truncate(time.Microsecond).UTC()
		if gotAt != want {
			t.Fatalf("time: got %v, want %v", gotAt, want)
		}
	})
}

func TestTimes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE events (id TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL)`)
		base := time.Date(2024, 12, 31, 23, 59, 59, 999999000, time.UTC)
		// Insert out of order, in different zones, with nanoseconds that get
		// truncated.
		for i, off := range []time.Duration{3 * time.Hour, 0, 10 * time.Microsecond, time.Microsecond} {
			at := base.Add(off).In(time.FixedZone("", -7*3600)).Add(999 * time.Nanosecond)
			mustExec(t, db, `INSERT INTO events (id, at) VALUES ($1, $2)`, string(rune('a'+i)), at)
		}
		rows, err := db.Query(ctx, `SELECT id, at FROM events WHERE at > $1 ORDER BY at`, base)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids string
		var prev time.Time
		for rows.Next() {
			var id string
			var at time.Time
			if err := rows.Scan(&id, &at); err != nil {
				t.Fatal(err)
			}
			if at.Location() != time.UTC {
				t.Errorf("location %v, want UTC", at.Location())
			}
			if !at.After(prev) {
				t.Errorf("%v not after %v", at, prev)
			}
			prev = at
			ids += id
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if ids != "dca" {
			t.Fatalf("ids = %q, want dca", ids)
		}
		if want := base.Add(3 * time.Hour); !prev.Equal(want) {
			t.Fatalf("last = %v, want %v", prev, want)
		}
	})
}

func TestNulls(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE n (id TEXT PRIMARY KEY, s TEXT, i BIGINT, at TIMESTAMPTZ, b BOOLEAN)`)
		mustExec(t, db, `INSERT INTO n VALUES ($1, $2, $3, $4, $5)`, "null", nil, sql.NullInt64{}, (*time.Time)(nil), sql.NullBool{})
		at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
		mustExec(t, db, `INSERT INTO n VALUES ($1, $2, $3, $4, $5)`, "set",
			sql.NullString{String: "x", Valid: true}, ptr(int64(3)), sql.NullTime{Time: at, Valid: true}, ptr(false))

		var (
			s   sql.NullString
			i   sql.NullInt64
			nt  sql.NullTime
			b   sql.NullBool
			sp  *string
			tp  *time.Time
			nt2 sql.NullTime
		)
		if err := db.QueryRow(ctx, `SELECT s, i, at, b, s, at, at FROM n WHERE id = $1`, "null").Scan(&s, &i, &nt, &b, &sp, &tp, &nt2); err != nil {
			t.Fatal(err)
		}
		if s.Valid || i.Valid || nt.Valid || b.Valid || sp != nil || tp != nil || nt2.Valid {
			t.Fatalf("want all NULL, got %v %v %v %v %v %v", s, i, nt, b, sp, tp)
		}
		if err := db.QueryRow(ctx, `SELECT s, i, at, b, s, at FROM n WHERE id = $1`, "set").Scan(&s, &i, &nt, &b, &sp, &tp); err != nil {
			t.Fatal(err)
		}
		if s.String != "x" || i.Int64 != 3 || !nt.Time.Equal(at) || !b.Valid || b.Bool || *sp != "x" || !tp.Equal(at) {
			t.Fatalf("got %v %v %v %v %v %v", s, i, nt, b, *sp, *tp)
		}
		// A NULL into a plain destination is an error, not a zero value.
		var plain string
		if err := db.QueryRow(ctx, `SELECT s FROM n WHERE id = $1`, "null").Scan(&plain); err == nil {
			t.Fatal("scanning NULL into *string succeeded")
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestErrNotFound(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		mustExec(t, db, `CREATE TABLE x (id TEXT PRIMARY KEY)`)
		var id string
		err := db.QueryRow(t.Context(), `SELECT id FROM x WHERE id = $1`, "nope").Scan(&id)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		// A failing query is not "not found".
		err = db.QueryRow(t.Context(), `SELECT id FROM missing_table`).Scan(&id)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v, want a query error", err)
		}
	})
}

func TestErrConflict(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, CONSTRAINT users_email_key UNIQUE (email))`)
		mustExec(t, db, `INSERT INTO users VALUES ($1, $2)`, "1", "a@x")

		_, err := db.Exec(ctx, `INSERT INTO users VALUES ($1, $2)`, "1", "b@x")
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("primary key: err = %v, want ErrConflict", err)
		}
		_, err = db.Exec(ctx, `INSERT INTO users VALUES ($1, $2)`, "2", "a@x")
		var ce *store.ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) {
			t.Fatalf("unique: err = %v, want ConflictError", err)
		}
		want := map[string]string{"postgres": "users_email_key", "sqlite": "users.email"}[db.Engine()]
		if ce.Constraint != want {
			t.Errorf("constraint = %q, want %q", ce.Constraint, want)
		}
		if db.Engine() == store.EnginePostgres {
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
				t.Errorf("driver error not wrapped: %v", err)
			}
		}
		// Through QueryRow (RETURNING) as well.
		var id string
		err = db.QueryRow(ctx, `INSERT INTO users VALUES ($1, $2) RETURNING id`, "3", "a@x").Scan(&id)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("returning: err = %v, want ErrConflict", err)
		}
		// ON CONFLICT DO NOTHING is no error and changes nothing.
		if n := mustExec(t, db, `INSERT INTO users VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, "1", "c@x"); n != 0 {
			t.Fatalf("rows affected = %d, want 0", n)
		}
	})
}

func TestRows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE r (id BIGINT PRIMARY KEY, name TEXT NOT NULL)`)
		for i := range 5 {
			mustExec(t, db, `INSERT INTO r VALUES ($1, $2)`, int64(i), "n")
		}
		if n := mustExec(t, db, `UPDATE r SET name = $1 WHERE id >= $2`, "m", 3); n != 2 {
			t.Fatalf("updated %d rows, want 2", n)
		}
		rows, err := db.Query(ctx, `SELECT id, name FROM r ORDER BY id DESC`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				t.Fatal(err)
			}
			got = append(got, string(rune('0'+id))+name)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if want := "[4m 3m 2n 1n 0n]"; fmtSlice(got) != want {
			t.Fatalf("got %v, want %s", got, want)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func fmtSlice(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

func TestExecuteTx(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE acct (id TEXT PRIMARY KEY, balance BIGINT NOT NULL)`)

		// Commit.
		err := db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO acct VALUES ($1, $2)`, "a", 10)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		// Rollback: fn's error comes back unchanged and nothing is written.
		boom := errors.New("boom")
		err = db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO acct VALUES ($1, $2)`, "b", 20); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE acct SET balance = 0 WHERE id = $1`, "a"); err != nil {
				return err
			}
			var n int64 // the transaction sees its own writes
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM acct`).Scan(&n); err != nil || n != 2 {
				t.Errorf("count in tx = %d, %v", n, err)
			}
			return boom
		})
		if err != boom {
			t.Fatalf("err = %v, want boom", err)
		}
		var n, bal int64
		if err := db.QueryRow(ctx, `SELECT COUNT(*), SUM(balance) FROM acct`).Scan(&n, &bal); err != nil {
			t.Fatal(err)
		}
		if n != 1 || bal != 10 {
			t.Fatalf("after rollback: %d rows, balance %d; want 1, 10", n, bal)
		}

		// Using the DB inside fn is refused instead of deadlocking.
		err = db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := db.Exec(ctx, `DELETE FROM acct`)
			return err
		})
		if err == nil {
			t.Fatal("DB.Exec inside ExecuteTx succeeded")
		}
	})
}

// TestConcurrentInsert races 20 transactions to create the same row.
func TestConcurrentInsert(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE claims (id TEXT PRIMARY KEY, owner BIGINT NOT NULL)`)
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
					_, err := tx.Exec(ctx, `INSERT INTO claims (id, owner) VALUES ($1, $2)`, "the-one", int64(i))
					return err
				})
			})
		}
		wg.Wait()
		var ok, conflict int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
				conflict++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 1 || conflict != n-1 {
			t.Fatalf("%d succeeded, %d conflicted; want 1 and %d", ok, conflict, n-1)
		}
	})
}

// TestConcurrentCounter has 20 transactions read-modify-write one row; on
// the server engines SERIALIZABLE makes them fail with 40001 and ExecuteTx
// retries them.
func TestConcurrentCounter(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustExec(t, db, `CREATE TABLE counters (id TEXT PRIMARY KEY, n BIGINT NOT NULL)`)
		mustExec(t, db, `INSERT INTO counters VALUES ($1, 0)`, "c")
		before := db.Stats().TxRetries
		const n = 20
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				err := db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
					var v int64
					if err := tx.QueryRow(ctx, `SELECT n FROM counters WHERE id = $1`, "c").Scan(&v); err != nil {
						return err
					}
					time.Sleep(2 * time.Millisecond) // widen the race window
					_, err := tx.Exec(ctx, `UPDATE counters SET n = $1 WHERE id = $2`, v+1, "c")
					return err
				})
				if err != nil {
					t.Errorf("increment: %v", err)
				}
			})
		}
		wg.Wait()
		var v int64
		if err := db.QueryRow(ctx, `SELECT n FROM counters WHERE id = $1`, "c").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != n {
			t.Fatalf("counter = %d, want %d", v, n)
		}
		retries := db.Stats().TxRetries - before
		t.Logf("%s: %d transaction retries", db.Engine(), retries)
		if db.Engine() == store.EnginePostgres && retries == 0 {
			t.Fatal("no serialization retries on the server engine: is the transaction SERIALIZABLE?")
		}
	})
}

func TestEngines(t *testing.T) {
	engines := storetest.Engines(t)
	if len(engines) == 0 || engines[0].Name != store.EngineSQLite {
		t.Fatalf("engines = %v, want sqlite first", engines)
	}
	for _, e := range engines {
		if e.DB.Engine() != e.Name {
			t.Errorf("%s: Engine() = %q", e.Name, e.DB.Engine())
		}
		if err := e.DB.Ping(t.Context()); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
	}
}
