// Package adapters holds the catalog's SQL repository (through libs/store,
// so it runs on CockroachDB, PostgreSQL and SQLite) and the outbox relay that
// publishes catalog events to JetStream.
package adapters

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/outbox"
	"github.com/aifactory/aifactory/libs/store"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	"github.com/aifactory/aifactory/services/catalog/internal/app"
	"github.com/aifactory/aifactory/services/catalog/internal/contract"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the catalog's SQL migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded path is a compile-time constant
	}
	return sub
}

// Repository implements app.Repository on a libs/store database. Every write
// runs in one ExecuteTx together with the outbox rows of its events.
type Repository struct {
	db *store.DB
	// notify is called after a commit that wrote outbox rows.
	notify func()
}

// NewRepository returns a repository on db. notify (may be nil) is called
// after each commit that stored events, to wake the outbox relay.
func NewRepository(db *store.DB, notify func()) *Repository {
	if notify == nil {
		notify = func() {}
	}
	return &Repository{db: db, notify: notify}
}

var _ app.Repository = (*Repository)(nil)

var (
	marshal   = protojson.MarshalOptions{}
	unmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}
)

func nowMicros() int64 { return time.Now().UnixMicro() }

// CreateDomain inserts d; app.ErrExists when the name is taken.
func (r *Repository) CreateDomain(ctx context.Context, d *catalogv1.Domain, events []app.Event) error {
	data, err := marshal.Marshal(d)
	if err != nil {
		return err
	}
	err = r.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO catalog_domains (name, data, update_time) VALUES ($1, $2, $3)`,
			d.GetName(), string(data), nowMicros()); err != nil {
			return err
		}
		return writeOutbox(ctx, tx, events)
	})
	return r.done(err, len(events))
}

// GetDomain reads one domain; app.ErrNotFound when absent.
func (r *Repository) GetDomain(ctx context.Context, name string) (*catalogv1.Domain, error) {
	return getDomain(ctx, r.db, name)
}

func getDomain(ctx context.Context, q store.Querier, name string) (*catalogv1.Domain, error) {
	var data string
	if err := q.QueryRow(ctx, `SELECT data FROM catalog_domains WHERE name = $1`, name).Scan(&data); err != nil {
		return nil, mapErr(err)
	}
	d := &catalogv1.Domain{}
	if err := unmarshal.Unmarshal([]byte(data), d); err != nil {
		return nil, fmt.Errorf("decode domain %s: %w", name, err)
	}
	return d, nil
}

// ListDomains returns up to limit domains with names after `after`.
func (r *Repository) ListDomains(ctx context.Context, after string, limit int) ([]*catalogv1.Domain, error) {
	return queryData(ctx, r.db, "domain", func() *catalogv1.Domain { return &catalogv1.Domain{} },
		`SELECT data FROM catalog_domains WHERE name > $1 ORDER BY name LIMIT $2`, after, limit)
}

// queryData runs a query whose one column is a message's JSON (the tables'
// data column) and decodes each row into a message from newMsg; what names
// the message in errors.
func queryData[M proto.Message](ctx context.Context, q store.Querier, what string, newMsg func() M, sql string, args ...any) ([]M, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []M
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		m := newMsg()
		if err := unmarshal.Unmarshal([]byte(data), m); err != nil {
			return nil, fmt.Errorf("decode %s: %w", what, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpdateDomain reads the domain, applies fn and writes the result with fn's
// events, in one transaction.
func (r *Repository) UpdateDomain(ctx context.Context, name string,
	fn func(*catalogv1.Domain) (*catalogv1.Domain, []app.Event, error)) (*catalogv1.Domain, error) {
	var out *catalogv1.Domain
	var n int
	err := r.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		d, err := getDomain(ctx, tx, name)
		if err != nil {
			return err
		}
		updated, events, err := fn(d)
		if err != nil {
			return err
		}
		data, err := marshal.Marshal(updated)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE catalog_domains SET data = $2, update_time = $3 WHERE name = $1`,
			name, string(data), nowMicros()); err != nil {
			return err
		}
		out, n = updated, len(events)
		return writeOutbox(ctx, tx, events)
	})
	if err := r.done(err, n); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateProduct inserts p; app.ErrExists when the name is taken in its domain.
func (r *Repository) CreateProduct(ctx context.Context, p *catalogv1.DataProduct, events []app.Event) error {
	err := r.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := getDomain(ctx, tx, p.GetDomain()); err != nil {
			return err
		}
		if err := insertProduct(ctx, tx, p); err != nil {
			return err
		}
		return writeOutbox(ctx, tx, events)
	})
	return r.done(err, len(events))
}

func productColumns(p *catalogv1.DataProduct) (tags, classes, search, data string, err error) {
	tags = "," + strings.Join(p.GetTags(), ",") + ","
	var cls []string
	for _, c := range p.GetClassifications() {
		cls = append(cls, app.ClassificationName(c))
	}
	classes = "," + strings.Join(cls, ",") + ","
	words := []string{p.GetDomain(), p.GetName(), p.GetTitle(), p.GetDescription(), p.GetOwner()}
	words = append(words, p.GetTags()...)
	words = append(words, p.GetFieldNames()...)
	search = strings.ToLower(strings.Join(words, " "))
	b, err := marshal.Marshal(p)
	return tags, classes, search, string(b), err
}

func insertProduct(ctx context.Context, tx *store.Tx, p *catalogv1.DataProduct) error {
	tags, classes, search, data, err := productColumns(p)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO catalog_products
		(domain, name, status, tags, classifications, search_text, data, update_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.GetDomain(), p.GetName(), int64(p.GetStatus()), tags, classes, search, data, nowMicros())
	return err
}

func updateProduct(ctx context.Context, tx *store.Tx, p *catalogv1.DataProduct) error {
	tags, classes, search, data, err := productColumns(p)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE catalog_products
		SET status = $3, tags = $4, classifications = $5, search_text = $6, data = $7, update_time = $8
		WHERE domain = $1 AND name = $2`,
		p.GetDomain(), p.GetName(), int64(p.GetStatus()), tags, classes, search, data, nowMicros())
	return err
}

// GetProduct reads one product; app.ErrNotFound when absent.
func (r *Repository) GetProduct(ctx context.Context, domain, name string) (*catalogv1.DataProduct, error) {
	return getProduct(ctx, r.db, domain, name)
}

func getProduct(ctx context.Context, q store.Querier, domain, name string) (*catalogv1.DataProduct, error) {
	var data string
	err := q.QueryRow(ctx, `SELECT data FROM catalog_products WHERE domain = $1 AND name = $2`, domain, name).Scan(&data)
	if err != nil {
		return nil, mapErr(err)
	}
	p := &catalogv1.DataProduct{}
	if err := unmarshal.Unmarshal([]byte(data), p); err != nil {
		return nil, fmt.Errorf("decode product %s/%s: %w", domain, name, err)
	}
	return p, nil
}

// UpdateProduct reads the product, applies fn and writes the result with
// fn's events, in one transaction.
func (r *Repository) UpdateProduct(ctx context.Context, domain, name string,
	fn func(*catalogv1.DataProduct) (*catalogv1.DataProduct, []app.Event, error)) (*catalogv1.DataProduct, error) {
	var out *catalogv1.DataProduct
	var n int
	err := r.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		p, err := getProduct(ctx, tx, domain, name)
		if err != nil {
			return err
		}
		updated, events, err := fn(p)
		if err != nil {
			return err
		}
		if err := updateProduct(ctx, tx, updated); err != nil {
			return err
		}
		out, n = updated, len(events)
		return writeOutbox(ctx, tx, events)
	})
	if err := r.done(err, n); err != nil {
		return nil, err
	}
	return out, nil
}

// ListProducts returns up to limit products matching q, ordered by (domain,
// name), starting after the cursor.
func (r *Repository) ListProducts(ctx context.Context, q app.ProductQuery) ([]*catalogv1.DataProduct, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Domain != "" {
		where = append(where, "domain = "+arg(q.Domain))
	}
	if q.Tag != "" {
		where = append(where, "tags LIKE "+arg("%,"+escapeLike(q.Tag)+",%")+` ESCAPE '\'`)
	}
	if q.Status != 0 {
		where = append(where, "status = "+arg(int64(q.Status)))
	}
	if q.Classification != "" {
		where = append(where, "classifications LIKE "+arg("%,"+escapeLike(q.Classification)+",%")+` ESCAPE '\'`)
	}
	for _, w := range q.Words {
		where = append(where, "search_text LIKE "+arg("%"+escapeLike(strings.ToLower(w))+"%")+` ESCAPE '\'`)
	}
	if q.AfterDomain != "" || q.AfterName != "" {
		d, n := arg(q.AfterDomain), arg(q.AfterName)
		where = append(where, fmt.Sprintf("(domain > %s OR (domain = %s AND name > %s))", d, d, n))
	}
	sql := "SELECT data FROM catalog_products"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY domain, name LIMIT " + arg(q.Limit)
	return queryData(ctx, r.db, "product", func() *catalogv1.DataProduct { return &catalogv1.DataProduct{} }, sql, args...)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListContracts returns every version of a product's contract, oldest first.
func (r *Repository) ListContracts(ctx context.Context, domain, product string) ([]*catalogv1.Contract, error) {
	return listContracts(ctx, r.db, domain, product)
}

func listContracts(ctx context.Context, q store.Querier, domain, product string) ([]*catalogv1.Contract, error) {
	out, err := queryData(ctx, q, "contract", func() *catalogv1.Contract { return &catalogv1.Contract{} },
		`SELECT data FROM catalog_contracts WHERE domain = $1 AND product = $2`, domain, product)
	if err != nil {
		return nil, err
	}
	// Semver order, which SQL text ordering gets wrong (1.10.0 < 1.9.0).
	sort.SliceStable(out, func(i, j int) bool {
		c, _ := contract.CompareVersions(out[i].GetVersion(), out[j].GetVersion())
		return c < 0
	})
	return out, nil
}

// PublishContract loads the product and its contract history, lets fn decide
// the new contract and product, and stores both with fn's events in one
// transaction. A concurrent publish of the same version loses with
// app.ErrExists.
func (r *Repository) PublishContract(ctx context.Context, domain, product string,
	fn func(*catalogv1.DataProduct, []*catalogv1.Contract) (*catalogv1.DataProduct, *catalogv1.Contract, []app.Event, error)) (*catalogv1.DataProduct, *catalogv1.Contract, error) {
	var (
		outP *catalogv1.DataProduct
		outC *catalogv1.Contract
		n    int
	)
	err := r.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		p, err := getProduct(ctx, tx, domain, product)
		if err != nil {
			return err
		}
		history, err := listContracts(ctx, tx, domain, product)
		if err != nil {
			return err
		}
		np, c, events, err := fn(p, history)
		if err != nil {
			return err
		}
		if err := insertContract(ctx, tx, c); err != nil {
			return err
		}
		if err := updateProduct(ctx, tx, np); err != nil {
			return err
		}
		outP, outC, n = np, c, len(events)
		return writeOutbox(ctx, tx, events)
	})
	if err := r.done(err, n); err != nil {
		return nil, nil, err
	}
	return outP, outC, nil
}

func insertContract(ctx context.Context, tx *store.Tx, c *catalogv1.Contract) error {
	v, err := contract.ParseSemver(c.GetVersion())
	if err != nil {
		return err
	}
	data, err := marshal.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO catalog_contracts
		(domain, product, version, major, minor, patch, status, data, create_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.GetDomain(), c.GetProduct(), c.GetVersion(), v.Major, v.Minor, v.Patch, int64(c.GetStatus()), string(data), nowMicros())
	return err
}

// UpdateContract reads a product and one of its contract versions, applies
// fn, and writes both with fn's events in one transaction.
func (r *Repository) UpdateContract(ctx context.Context, domain, product, version string,
	fn func(*catalogv1.DataProduct, *catalogv1.Contract, []*catalogv1.Contract) (*catalogv1.DataProduct, *catalogv1.Contract, []app.Event, error)) (*catalogv1.DataProduct, *catalogv1.Contract, error) {
	var (
		outP *catalogv1.DataProduct
		outC *catalogv1.Contract
		n    int
	)
	err := r.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		p, err := getProduct(ctx, tx, domain, product)
		if err != nil {
			return err
		}
		history, err := listContracts(ctx, tx, domain, product)
		if err != nil {
			return err
		}
		var c *catalogv1.Contract
		for _, h := range history {
			if h.GetVersion() == version {
				c = h
			}
		}
		if c == nil {
			return app.ErrNotFound
		}
		np, nc, events, err := fn(p, c, history)
		if err != nil {
			return err
		}
		data, err := marshal.Marshal(nc)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE catalog_contracts SET status = $4, data = $5
			WHERE domain = $1 AND product = $2 AND version = $3`,
			domain, product, version, int64(nc.GetStatus()), string(data)); err != nil {
			return err
		}
		if err := updateProduct(ctx, tx, np); err != nil {
			return err
		}
		outP, outC, n = np, nc, len(events)
		return writeOutbox(ctx, tx, events)
	})
	if err := r.done(err, n); err != nil {
		return nil, nil, err
	}
	return outP, outC, nil
}

// outboxTable is the catalog's outbox (see libs/outbox).
const outboxTable = "catalog_outbox"

func writeOutbox(ctx context.Context, tx *store.Tx, events []app.Event) error {
	out := make([]outbox.Event, len(events))
	for i, ev := range events {
		out[i] = outbox.Event{ID: ev.ID, Subject: ev.Subject, Msg: ev.Msg}
	}
	return outbox.Write(ctx, tx, outboxTable, out)
}

// NewRelay returns the relay publishing the catalog's outbox.
func NewRelay(db *store.DB, b *bus.Bus, log *slog.Logger) *outbox.Relay {
	return outbox.NewRelay(db, b, outboxTable, log)
}

// done maps store errors to app errors and wakes the relay after a commit
// that wrote events.
func (r *Repository) done(err error, events int) error {
	if err != nil {
		return mapErr(err)
	}
	if events > 0 {
		r.notify()
	}
	return nil
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", app.ErrNotFound, err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %w", app.ErrExists, err)
	}
	return err
}
