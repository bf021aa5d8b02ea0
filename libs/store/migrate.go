package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"time"
)

// migrationName matches "0001_init.sql", "0001_init.postgres.sql" and
// "0001_init.sqlite.sql".
var migrationName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_-]+?)(?:\.(postgres|sqlite))?\.sql$`)

type migration struct {
	version string // "0001"
	file    string // the file run on this engine
}

// Migrate brings service's schema up to date with the migration files at the
// root of fsys (typically an embed.FS narrowed with fs.Sub).
//
// Files are named NNNN_description.sql; the leading number is the version
// and versions are applied in lexical order, so give them a fixed width. A
// version may instead come as two per-engine files,
// NNNN_description.postgres.sql (CockroachDB and PostgreSQL) and
// NNNN_description.sqlite.sql, e.g. when one needs JSONB and the other TEXT.
// Other files are ignored; a .sql file with another name is an error.
//
// A file may hold several statements separated by semicolons; it runs as
// one Exec, in one transaction together with the row that records it in
// schema_migrations(service, version, applied_at). Keep migrations to DDL and
// small data fixes: CockroachDB restricts mixing schema changes with writes
// to the same table in one transaction.
//
// Migrate is idempotent and safe to run from several processes at once:
// each transaction inserts its schema_migrations row before running the
// file, so a second applier waits on that row and then sees a conflict,
// re-checks and moves on. No advisory locks are used (CockroachDB has none).
func (db *DB) Migrate(ctx context.Context, service string, fsys fs.FS) error {
	if service == "" {
		return errors.New("store: migrate: empty service name")
	}
	migrations, err := db.migrations(fsys)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", service, err)
	}
	if err := db.createMigrationsTable(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", service, err)
	}
	for _, m := range migrations {
		body, err := fs.ReadFile(fsys, m.file)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", service, err)
		}
		if err := db.applyMigration(ctx, service, m, string(body)); err != nil {
			return fmt.Errorf("store: migrate %s: %s: %w", service, m.file, err)
		}
	}
	return nil
}

// migrations lists the files to run on this engine, ordered by version.
func (db *DB) migrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	type files struct{ both, postgres, sqlite string }
	byVersion := map[string]*files{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || len(name) < 4 || name[len(name)-4:] != ".sql" {
			continue
		}
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql, NNNN_name.postgres.sql or NNNN_name.sqlite.sql", name)
		}
		f := byVersion[m[1]]
		if f == nil {
			f = &files{}
			byVersion[m[1]] = f
		}
		slot := map[string]*string{"": &f.both, EnginePostgres: &f.postgres, EngineSQLite: &f.sqlite}[m[3]]
		if *slot != "" {
			return nil, fmt.Errorf("migration version %s: both %q and %q", m[1], *slot, name)
		}
		*slot = name
	}

	var out []migration
	for version, f := range byVersion {
		switch {
		case f.both != "" && (f.postgres != "" || f.sqlite != ""):
			return nil, fmt.Errorf("migration version %s: %q together with per-engine files", version, f.both)
		case f.both == "" && (f.postgres == "" || f.sqlite == ""):
			return nil, fmt.Errorf("migration version %s: per-engine migrations need both a .postgres.sql and a .sqlite.sql file", version)
		}
		file := f.both
		if file == "" && db.engine == EnginePostgres {
			file = f.postgres
		} else if file == "" {
			file = f.sqlite
		}
		out = append(out, migration{version: version, file: file})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return out, nil
}

// createMigrationsTable creates schema_migrations. Two processes creating it
// at once can collide in PostgreSQL's catalog even with IF NOT EXISTS, so a
// failure is retried a few times.
func (db *DB) createMigrationsTable(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS schema_migrations (
	service TEXT NOT NULL,
	version TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (service, version)
)`
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if _, err = db.Exec(ctx, ddl); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return fmt.Errorf("create schema_migrations: %w", err)
}

// applyMigration runs one migration unless it is recorded as applied. The
// schema_migrations row is inserted first, so that a concurrent applier
// blocks on it and then fails with a conflict (or a serialization failure,
// which ExecuteTx retries) instead of running the file twice.
func (db *DB) applyMigration(ctx context.Context, service string, m migration, body string) error {
	err := db.ExecuteTx(ctx, func(ctx context.Context, tx *Tx) error {
		applied, err := migrationApplied(ctx, tx, service, m.version)
		if err != nil || applied {
			return err
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO schema_migrations (service, version, applied_at) VALUES ($1, $2, $3)`,
			service, m.version, time.Now()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, body)
		return err
	})
	if !errors.Is(err, ErrConflict) {
		return err
	}
	// Another process recorded this version first, or the file itself
	// violated a constraint; only in the first case is it done.
	applied, cerr := migrationApplied(ctx, db, service, m.version)
	if cerr != nil {
		return errors.Join(err, cerr)
	}
	if applied {
		return nil
	}
	return err
}

func migrationApplied(ctx context.Context, q Querier, service, version string) (bool, error) {
	var n int64
	err := q.QueryRow(ctx,
		`SELECT COUNT(*) FROM schema_migrations WHERE service = $1 AND version = $2`,
		service, version).Scan(&n)
	return n > 0, err
}
