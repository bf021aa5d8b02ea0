package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT $1", "SELECT ?1"},
		{"VALUES ($2, $1, $2)", "VALUES (?2, ?1, ?2)"},
		{"WHERE a=$10", "WHERE a=?10"},
		{"SELECT '$1', $1", "SELECT '$1', ?1"},
		{"SELECT 'it''s $1', $2", "SELECT 'it''s $1', ?2"},
		{`SELECT "a$1", $1`, `SELECT "a$1", ?1`},
		{"SELECT a$1 FROM t", "SELECT a$1 FROM t"},
		{"SELECT $1 -- $2\n, $3", "SELECT ?1 -- $2\n, ?3"},
		{"SELECT /* $1 */ $2", "SELECT /* $1 */ ?2"},
		{"SELECT /* $1", "SELECT /* $1"},
		{"SELECT '$1", "SELECT '$1"},
		{"SELECT $", "SELECT $"},
		{"SELECT $a", "SELECT $a"},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzRebind(f *testing.F) {
	for _, s := range []string{"SELECT $1", "'$1' $2", "/* $1 */ $1 -- $1\n$1", `"x" $3`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := rebind(s)
		if len(got) != len(s) {
			t.Fatalf("length changed: %q -> %q", s, got)
		}
		for i := range len(s) {
			if s[i] != got[i] && !(s[i] == '$' && got[i] == '?' && i+1 < len(s) && isDigit(s[i+1])) {
				t.Fatalf("byte %d changed: %q -> %q", i, s, got)
			}
		}
		if again := rebind(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

func TestReadOnly(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                             true,
		"  select * from t":                    true,
		"-- hi\n/* x */ SELECT 1":              true,
		"VALUES (1)":                           true,
		"INSERT INTO t VALUES (1)":             false,
		"WITH x AS (SELECT 1) SELECT * FROM x": false,
		"SELECTED":                             false,
		"":                                     false,
		"/* unterminated":                      false,
	} {
		if got := readOnly(q); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestSQLitePath(t *testing.T) {
	for _, tc := range []struct {
		url, path, params string
		memory            bool
	}{
		{"sqlite:///abs/x.db", "/abs/x.db", "", false},
		{"sqlite://rel.db", "rel.db", "", false},
		{"sqlite:rel.db", "rel.db", "", false},
		{"sqlite::memory:", ":memory:", "", true},
		{"file:x.db?cache=private", "file:x.db", "cache=private", false},
		{"file::memory:", "file::memory:", "", true},
		{"file:m?mode=memory", "file:m", "mode=memory", true},
	} {
		path, params, memory := sqlitePath(tc.url)
		if path != tc.path || params != tc.params || memory != tc.memory {
			t.Errorf("sqlitePath(%q) = %q, %q, %v", tc.url, path, params, memory)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db": "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db":             "postgres://u@h/db",
		"postgres://h/db?x=a@b":         "postgres://h/db?x=a@b",
		"sqlite:///tmp/x.db":            "sqlite:///tmp/x.db",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "mysql://x"); err == nil {
		t.Error("mysql URL accepted")
	}
	if _, err := Open(ctx, "postgres://u:secret@127.0.0.1:1/db?connect_timeout=1"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("err = %v, want a connection error without the password", err)
	}

	// In memory: one connection, data kept between statements.
	mem, err := Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if mem.Engine() != EngineSQLite {
		t.Fatalf("engine %q", mem.Engine())
	}
	if _, err := mem.Exec(ctx, `CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := mem.QueryRow(ctx, `SELECT id FROM t`).Scan(&id); err != nil || id != "a" {
		t.Fatalf("got %q, %v", id, err)
	}

	// A relative path is relative to the working directory; WAL is on and
	// the reader pool refuses writes that bypass the writer.
	t.Chdir(t.TempDir())
	db, err := Open(ctx, "sqlite://rel.db", WithMaxConns(2), WithMaxTxRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	var fk int64
	if err := db.QueryRow(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	if _, err := db.reader.ExecContext(ctx, `CREATE TABLE x (id TEXT)`); err == nil {
		t.Fatal("reader pool accepted a write")
	}
	if abs, _ := filepath.Abs("rel.db"); !fileExists(abs) {
		t.Fatalf("%s not created", abs)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestConflictError(t *testing.T) {
	err := mapErr("exec", &ConflictError{Constraint: "c", Err: errors.New("driver")})
	if !errors.Is(err, ErrConflict) {
		t.Fatal("not ErrConflict")
	}
	if sqliteConstraint("constraint failed: UNIQUE constraint failed: t.a, t.b (2067)") != "t.a, t.b" {
		t.Fatal("sqliteConstraint")
	}
}
