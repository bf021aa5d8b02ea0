// Package storetest runs one store test suite against every engine: a fresh
// SQLite database always, and PostgreSQL or CockroachDB when
// FACTORY_TEST_DATABASE_URL is set (required when
// FACTORY_TEST_REQUIRE_SERVERS=1, see libs/testenv).
//
// Each PostgreSQL database handed out is a fresh schema, created for the test
// and dropped when it ends, so tests and packages can run in parallel
// against one server.
//
//	func TestRepo(t *testing.T) {
//		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
//			if err := db.Migrate(t.Context(), "catalog", migrations.FS); err != nil {
//				t.Fatal(err)
//			}
//			// … the same assertions for every engine
//		})
//	}
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/libs/testenv"
)

// Engine is one database to run a suite against.
type Engine struct {
	Name string // "sqlite" or "postgres"
	DB   *store.DB
}

// Engines returns a fresh SQLite database in t.TempDir() and, when
// FACTORY_TEST_DATABASE_URL is set or servers are required, a fresh
// PostgreSQL schema. An unreachable, optional server is reported as a skipped
// "postgres" subtest and leaves the SQLite engine in the list. Everything is
// closed and dropped when t ends.
func Engines(t *testing.T) []Engine {
	t.Helper()
	engines := []Engine{{Name: store.EngineSQLite, DB: SQLite(t)}}
	if os.Getenv(testenv.DatabaseURLVar) == "" && !testenv.Required() {
		return engines
	}
	// testenv skips (or fails) the test it is given; a subtest keeps that
	// from skipping the SQLite part.
	var dbURL string
	t.Run("postgres", func(t *testing.T) { dbURL = testenv.DatabaseURL(t) })
	if dbURL != "" {
		engines = append(engines, Engine{Name: store.EnginePostgres, DB: openSchema(t, dbURL)})
	}
	return engines
}

// ForEach runs fn as a subtest per engine ("sqlite", "postgres"), each with
// a fresh database. The postgres subtest is skipped when
// FACTORY_TEST_DATABASE_URL is unset, and fails instead when servers are
// required.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run(store.EngineSQLite, func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run(store.EnginePostgres, func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a fresh SQLite database in t.TempDir() and closes it when t
// ends.
func SQLite(t testing.TB, opts ...store.Option) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "store.db"), opts...)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Postgres opens a fresh schema on the server named by
// FACTORY_TEST_DATABASE_URL, or skips t (see testenv.DatabaseURL). The schema
// is dropped when t ends.
func Postgres(t testing.TB, opts ...store.Option) *store.DB {
	t.Helper()
	return openSchema(t, testenv.DatabaseURL(t), opts...)
}

// openSchema creates a schema with a random name, opens a DB whose
// search_path is that schema, and drops the schema when t ends.
func openSchema(t testing.TB, dbURL string, opts ...store.Option) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	schema := "t_" + hex.EncodeToString(b[:])

	admin, err := store.Open(ctx, dbURL, store.WithMaxConns(1))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("storetest: parse %s: %v", testenv.DatabaseURLVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, u.String(), opts...)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() }) // runs before the schema is dropped
	return db
}
