// Package adapters holds the feature store's storage: definitions and the
// offline history in SQL (libs/store, so CockroachDB, PostgreSQL or SQLite),
// and the outbox of definition events.
package adapters

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/outbox"
	"github.com/aifactory/aifactory/libs/store"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the feature store's SQL migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded path is a compile-time constant
	}
	return sub
}

// Definition kinds.
const (
	KindEntity  = "entity"
	KindView    = "feature_view"
	KindService = "feature_service"
)

// OutboxTable is the feature store's outbox (see libs/outbox).
const OutboxTable = "featurestore_outbox"

// NewRelay returns the relay publishing the feature store's outbox.
func NewRelay(db *store.DB, b *bus.Bus, log *slog.Logger) *outbox.Relay {
	return outbox.NewRelay(db, b, OutboxTable, log)
}

// Registry stores definitions.
type Registry struct {
	db     *store.DB
	notify func()
}

// NewRegistry returns the registry in db; notify wakes the outbox relay.
func NewRegistry(db *store.DB, notify func()) *Registry {
	if notify == nil {
		notify = func() {}
	}
	return &Registry{db: db, notify: notify}
}

// Definition is one stored definition.
type Definition struct {
	Kind, Name, Domain string
	Version            int64
	Msg                proto.Message
}

var (
	marshal   = protojson.MarshalOptions{}
	unmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}
)

func newMsg(kind string) (proto.Message, error) {
	switch kind {
	case KindEntity:
		return &featurestorev1.Entity{}, nil
	case KindView:
		return &featurestorev1.FeatureView{}, nil
	case KindService:
		return &featurestorev1.FeatureService{}, nil
	}
	return nil, fmt.Errorf("unknown definition kind %q", kind)
}

// All returns every current definition.
func (r *Registry) All(ctx context.Context) ([]Definition, error) {
	rows, err := r.db.Query(ctx, `SELECT kind, name, version, domain, data FROM fs_definitions ORDER BY kind, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Definition
	for rows.Next() {
		var (
			d    Definition
			data string
		)
		if err := rows.Scan(&d.Kind, &d.Name, &d.Version, &d.Domain, &data); err != nil {
			return nil, err
		}
		m, err := newMsg(d.Kind)
		if err != nil {
			return nil, err
		}
		if err := unmarshal.Unmarshal([]byte(data), m); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", d.Kind, d.Name, err)
		}
		d.Msg = m
		out = append(out, d)
	}
	return out, rows.Err()
}

// ErrVersionConflict means a definition changed since it was read: the
// caller's plan is stale.
var ErrVersionConflict = errors.New("definition changed concurrently")

// Put stores new versions of definitions in one transaction, with their
// events. Each Definition's Version must be the stored version + 1 (1 for
// a new one); otherwise nothing is stored and ErrVersionConflict returned.
func (r *Registry) Put(ctx context.Context, defs []Definition, events []outbox.Event) error {
	now := time.Now().UnixMicro()
	err := r.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		for _, d := range defs {
			data, err := marshal.Marshal(d.Msg)
			if err != nil {
				return err
			}
			var cur int64
			err = tx.QueryRow(ctx, `SELECT version FROM fs_definitions WHERE kind = $1 AND name = $2`, d.Kind, d.Name).Scan(&cur)
			switch {
			case errors.Is(err, store.ErrNotFound):
				cur = 0
			case err != nil:
				return err
			}
			if d.Version != cur+1 {
				return fmt.Errorf("%w: %s %s is at version %d", ErrVersionConflict, d.Kind, d.Name, cur)
			}
			if cur == 0 {
				_, err = tx.Exec(ctx, `INSERT INTO fs_definitions (kind, name, version, domain, data, update_time) VALUES ($1, $2, $3, $4, $5, $6)`,
					d.Kind, d.Name, d.Version, d.Domain, string(data), now)
			} else {
				_, err = tx.Exec(ctx, `UPDATE fs_definitions SET version = $3, domain = $4, data = $5, update_time = $6 WHERE kind = $1 AND name = $2`,
					d.Kind, d.Name, d.Version, d.Domain, string(data), now)
			}
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: %s %s was created concurrently", ErrVersionConflict, d.Kind, d.Name)
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO fs_definition_versions (kind, name, version, data, create_time) VALUES ($1, $2, $3, $4, $5)`,
				d.Kind, d.Name, d.Version, string(data), now); err != nil {
				return err
			}
		}
		return outbox.Write(ctx, tx, OutboxTable, events)
	})
	if err == nil && len(events) > 0 {
		r.notify()
	}
	return err
}
