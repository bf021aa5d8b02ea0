package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteBusyTimeout is how long a SQLite connection waits for a lock held by
// another process before it reports SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

// openSQLite opens the writer connection and, for a file database, a pool of
// read-only connections.
func openSQLite(ctx context.Context, url string, o options) (*DB, error) {
	path, params, memory := sqlitePath(url)
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", sqliteBusyTimeout.Milliseconds())
	if params != "" {
		common = params + "&" + common
	}
	writerDSN := path + "?" + common + "&_txlock=immediate"
	if !memory {
		writerDSN += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}

	writer, err := sql.Open("sqlite", writerDSN)
	if err != nil {
		return nil, err
	}
	// One writer connection: writers in this process queue for it instead of
	// failing with SQLITE_BUSY. It is never closed for idleness, which also
	// keeps an in-memory database alive.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Connect the writer first so that the database file exists and is in
	// WAL mode before any reader opens it.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	db := &DB{engine: EngineSQLite, opts: o, writer: writer, reader: writer}
	if memory {
		return db, nil // every connection to :memory: is a separate database
	}

	reader, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, err
	}
	n := o.maxConns
	if n == 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("connect reader: %w", err)
	}
	db.reader = reader
	return db, nil
}

// sqlitePath turns a sqlite: URL into the driver's file name and any query
// parameters the caller gave, and reports whether the database is in memory.
func sqlitePath(url string) (path, params string, memory bool) {
	path, params, _ = strings.Cut(url, "?")
	switch {
	case strings.HasPrefix(path, "sqlite://"):
		path = strings.TrimPrefix(path, "sqlite://") // "/abs/x.db" or "rel.db"
	case strings.HasPrefix(path, "sqlite:"):
		path = strings.TrimPrefix(path, "sqlite:") // ":memory:" or "rel.db"
	}
	memory = path == ":memory:" || path == "file::memory:" || strings.Contains(params, "mode=memory")
	return path, params, memory
}

// readOnly reports whether a statement can go to SQLite's read-only pool:
// it starts with SELECT or VALUES (after comments and blanks). Anything else,
// including WITH (which may wrap an INSERT), takes the writer.
func readOnly(query string) bool {
	s := skipSpaceAndComments(query)
	end := 0
	for end < len(s) && isIdentChar(s[end]) {
		end++
	}
	word := s[:end]
	return strings.EqualFold(word, "SELECT") || strings.EqualFold(word, "VALUES")
}

func skipSpaceAndComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\f")
		switch {
		case strings.HasPrefix(s, "--"):
			_, rest, ok := strings.Cut(s, "\n")
			if !ok {
				return ""
			}
			s = rest
		case strings.HasPrefix(s, "/*"):
			_, rest, ok := strings.Cut(s[2:], "*/")
			if !ok {
				return ""
			}
			s = rest
		default:
			return s
		}
	}
}

// rebind rewrites PostgreSQL placeholders ($1, $2…) into SQLite's numbered
// ones (?1, ?2…), leaving string literals, quoted identifiers and comments
// alone. The output has the same length as the input.
func rebind(query string) string {
	if !strings.Contains(query, "$") {
		return query
	}
	b := []byte(query)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\'' || c == '"' || c == '`':
			// Literal or quoted identifier; a doubled quote inside is
			// handled by leaving and re-entering at once.
			j := i + 1
			for j < len(b) && b[j] != c {
				j++
			}
			i = j
		case c == '-' && i+1 < len(b) && b[i+1] == '-':
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				return string(b)
			}
			i += 2 + end + 1
		case c == '$' && i+1 < len(b) && isDigit(b[i+1]) && (i == 0 || !isIdentChar(b[i-1])):
			b[i] = '?'
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdentChar(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// sqliteTimeLayout is how a time.Time is stored in SQLite: UTC, fixed width,
// so that text order is time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// sqliteTimeParse lists the layouts accepted when scanning a time: ours
// first, then the ones SQLite's own functions and the driver write.
var sqliteTimeParse = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

func formatSQLiteTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(sqliteTimeLayout)
}

// sqliteArgs converts times (also behind pointers and driver.Valuers such as
// sql.NullTime) into their stored text form. It copies args only if it
// changes one.
func sqliteArgs(args []any) ([]any, error) {
	var out []any
	for i, a := range args {
		v, changed, err := sqliteArg(a)
		if err != nil {
			return nil, fmt.Errorf("argument $%d: %w", i+1, err)
		}
		if changed && out == nil {
			out = append([]any(nil), args...)
		}
		if changed {
			out[i] = v
		}
	}
	if out == nil {
		return args, nil
	}
	return out, nil
}

func sqliteArg(a any) (v any, changed bool, err error) {
	switch v := a.(type) {
	case time.Time:
		return formatSQLiteTime(v), true, nil
	case *time.Time:
		if v == nil {
			return nil, true, nil
		}
		return formatSQLiteTime(*v), true, nil
	case driver.Valuer:
		val, err := v.Value()
		if err != nil {
			return nil, false, err
		}
		if t, ok := val.(time.Time); ok {
			return formatSQLiteTime(t), true, nil
		}
	}
	return a, false, nil
}

// parseSQLiteTime turns a stored time back into a time.Time in UTC.
func parseSQLiteTime(src any) (time.Time, error) {
	switch v := src.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		for _, layout := range sqliteTimeParse {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot parse %q as a time", v)
	case []byte:
		return parseSQLiteTime(string(v))
	}
	return time.Time{}, fmt.Errorf("cannot scan %T into a time", src)
}

// timeDest scans SQLite's text times into *time.Time, **time.Time and
// *sql.NullTime.
type timeDest struct{ dst any }

func (d timeDest) Scan(src any) error {
	if src == nil {
		switch p := d.dst.(type) {
		case **time.Time:
			*p = nil
			return nil
		case *sql.NullTime:
			*p = sql.NullTime{}
			return nil
		}
		return fmt.Errorf("cannot scan NULL into %T: use sql.NullTime or **time.Time", d.dst)
	}
	t, err := parseSQLiteTime(src)
	if err != nil {
		return err
	}
	switch p := d.dst.(type) {
	case *time.Time:
		*p = t
	case **time.Time:
		*p = &t
	case *sql.NullTime:
		*p = sql.NullTime{Time: t, Valid: true}
	}
	return nil
}

// sqliteDests wraps time destinations so that they parse the stored text.
func sqliteDests(dest []any) []any {
	var out []any
	for i, d := range dest {
		switch d.(type) {
		case *time.Time, **time.Time, *sql.NullTime:
			if out == nil {
				out = append([]any(nil), dest...)
			}
			out[i] = timeDest{d}
		}
	}
	if out == nil {
		return dest
	}
	return out
}

// utcDests puts scanned times into UTC so that both engines return the same
// values.
func utcDests(dest []any) {
	for _, d := range dest {
		switch p := d.(type) {
		case *time.Time:
			*p = p.UTC()
		case **time.Time:
			if *p != nil {
				t := (*p).UTC()
				*p = &t
			}
		case *sql.NullTime:
			p.Time = p.Time.UTC()
		}
	}
}
