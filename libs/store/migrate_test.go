package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/libs/store/storetest"
)

// migrations is a small schema history: multi-statement files, a foreign
// key on an earlier version, a per-engine version, and versions whose
// lexical order differs from the order of the map.
func migrations() fstest.MapFS {
	return fstest.MapFS{
		"0001_products.sql": {Data: []byte(`
-- products; a comment with a ; in it
CREATE TABLE products (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL
);
INSERT INTO products (id, name) VALUES ('seed', 'it''s seeded');
`)},
		"0002_versions.sql": {Data: []byte(`
CREATE TABLE versions (
	product_id TEXT NOT NULL REFERENCES products (id),
	version BIGINT NOT NULL,
	PRIMARY KEY (product_id, version)
);
CREATE INDEX versions_by_version ON versions (version);
`)},
		"0003_engine.postgres.sql": {Data: []byte(`
CREATE TABLE engine (name TEXT PRIMARY KEY, doc JSONB);
INSERT INTO engine (name, doc) VALUES ('postgres', '{"a": 1}');
`)},
		"0003_engine.sqlite.sql": {Data: []byte(`
CREATE TABLE engine (name TEXT PRIMARY KEY, doc TEXT);
INSERT INTO engine (name, doc) VALUES ('sqlite', '{"a": 1}');
`)},
		"README.md": {Data: []byte("not a migration")},
	}
}

func appliedVersions(t *testing.T, db *store.DB, service string) string {
	t.Helper()
	rows, err := db.Query(t.Context(), `SELECT version FROM schema_migrations WHERE service = $1 ORDER BY applied_at, version`, service)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(vs, ",")
}

func TestMigrate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		fsys := migrations()
		if err := db.Migrate(ctx, "catalog", fsys); err != nil {
			t.Fatal(err)
		}
		if got := appliedVersions(t, db, "catalog"); got != "0001,0002,0003" {
			t.Fatalf("applied %q", got)
		}
		var name string
		if err := db.QueryRow(ctx, `SELECT name FROM engine`).Scan(&name); err != nil || name != db.Engine() {
			t.Fatalf("per-engine migration: got %q, %v; want %q", name, err, db.Engine())
		}
		if err := db.QueryRow(ctx, `SELECT name FROM products WHERE id = 'seed'`).Scan(&name); err != nil || name != "it's seeded" {
			t.Fatalf("seed: %q, %v", name, err)
		}

		// Idempotent: the seed INSERT would conflict if 0001 ran again.
		if err := db.Migrate(ctx, "catalog", fsys); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}

		// A new version is applied on its own, after the others, even though
		// "0010" < "0003" would be wrong numerically; lexical with fixed width.
		fsys["0010_more.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE products ADD COLUMN owner TEXT`)}
		if err := db.Migrate(ctx, "catalog", fsys); err != nil {
			t.Fatal(err)
		}
		if got := appliedVersions(t, db, "catalog"); got != "0001,0002,0003,0010" {
			t.Fatalf("applied %q", got)
		}
		mustExec(t, db, `UPDATE products SET owner = $1`, "me")

		// Another service keeps its own history in the same table.
		other := fstest.MapFS{"0001_init.sql": {Data: []byte(`CREATE TABLE other_things (id TEXT PRIMARY KEY)`)}}
		if err := db.Migrate(ctx, "other", other); err != nil {
			t.Fatal(err)
		}
		if got := appliedVersions(t, db, "other"); got != "0001" {
			t.Fatalf("other service applied %q", got)
		}
	})
}

func TestMigrateFailureRollsBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		fsys := fstest.MapFS{
			"0001_ok.sql":  {Data: []byte(`CREATE TABLE ok_table (id TEXT PRIMARY KEY)`)},
			"0002_bad.sql": {Data: []byte(`CREATE TABLE half_done (id TEXT PRIMARY KEY); INSERT INTO no_such_table VALUES (1);`)},
		}
		err := db.Migrate(ctx, "svc", fsys)
		if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
			t.Fatalf("err = %v, want a failure naming 0002_bad.sql", err)
		}
		if got := appliedVersions(t, db, "svc"); got != "0001" {
			t.Fatalf("applied %q, want 0001", got)
		}
		// The failed file left nothing behind, so a fixed file applies.
		fsys["0002_bad.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE half_done (id TEXT PRIMARY KEY)`)}
		if err := db.Migrate(ctx, "svc", fsys); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMigrateConflictInFile: a unique violation inside a migration is the
// file's own error, not a sign that another process applied it.
func TestMigrateConflictInFile(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fsys := fstest.MapFS{"0001_dup.sql": {Data: []byte(`
CREATE TABLE d (id TEXT PRIMARY KEY);
INSERT INTO d VALUES ('x');
INSERT INTO d VALUES ('x');
`)}}
		err := db.Migrate(t.Context(), "svc", fsys)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		if got := appliedVersions(t, db, "svc"); got != "" {
			t.Fatalf("applied %q, want nothing", got)
		}
	})
}

func TestMigrateBadFiles(t *testing.T) {
	db := storetest.SQLite(t)
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":           {"init.sql": {}},
		"generic and engine": {"0001_a.sql": {}, "0001_a.sqlite.sql": {}, "0001_a.postgres.sql": {}},
		"one engine only":    {"0001_a.postgres.sql": {}},
		"duplicate version":  {"0001_a.sql": {}, "0001_b.sql": {}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := db.Migrate(t.Context(), "svc", fsys); err == nil {
				t.Fatal("Migrate succeeded")
			}
		})
	}
	if err := db.Migrate(t.Context(), "", migrations()); err == nil {
		t.Fatal("empty service name accepted")
	}
}

// TestMigrateConcurrent starts several appliers at once; each version must be
// applied exactly once (the seed INSERT in 0001 would conflict otherwise).
func TestMigrateConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		runConcurrently(t, []*store.DB{db, db, db, db})
	})
}

// TestMigrateConcurrentSQLiteHandles has two DB handles on one SQLite file,
// as two processes would: the writers meet in SQLite's locks, not in Go.
func TestMigrateConcurrentSQLiteHandles(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "shared.db")
	var dbs []*store.DB
	for range 2 {
		db, err := store.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs = append(dbs, db)
	}
	runConcurrently(t, dbs)
}

func runConcurrently(t *testing.T, dbs []*store.DB) {
	t.Helper()
	fsys := migrations()
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context(), "catalog", fsys) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d transaction retries", dbs[0].Engine(), dbs[0].Stats().TxRetries)
	if got := appliedVersions(t, dbs[0], "catalog"); got != "0001,0002,0003" {
		t.Fatalf("applied %q", got)
	}
	var n int64
	if err := dbs[0].QueryRow(context.Background(), `SELECT COUNT(*) FROM products`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("products: %d, %v", n, err)
	}
}
