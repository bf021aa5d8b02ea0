package adapters

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/store"
)

// Relay publishes the outbox rows written by the repository to JetStream,
// oldest first, and deletes each row once the stream acknowledged it. The
// event id is the Nats-Msg-Id, so a row published twice (a crash between the
// ack and the delete, or two catalog replicas racing) is stored once.
type Relay struct {
	db       *store.DB
	bus      *bus.Bus
	log      *slog.Logger
	wake     chan struct{}
	interval time.Duration
}

// NewRelay returns a relay from db's outbox to b.
func NewRelay(db *store.DB, b *bus.Bus, log *slog.Logger) *Relay {
	return &Relay{db: db, bus: b, log: log, wake: make(chan struct{}, 1), interval: 2 * time.Second}
}

// Notify wakes the relay; it never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx is done: at once when notified, and every interval
// to pick up rows left by a failed attempt or another process.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("catalog outbox: publish failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

type outboxRow struct {
	id, subject, eventType, payload string
}

// Flush publishes every pending outbox row, in order, stopping at the first
// failure so events of one product never overtake each other.
func (r *Relay) Flush(ctx context.Context) error {
	for {
		rows, err := r.pending(ctx, 256)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		for _, row := range rows {
			data, err := base64.StdEncoding.DecodeString(row.payload)
			if err != nil {
				return fmt.Errorf("outbox row %s: %w", row.id, err)
			}
			_, err = r.bus.Publish(ctx, row.subject, bus.Event{
				ID:          row.id,
				Type:        row.eventType,
				ContentType: "application/protobuf",
				Data:        data,
			})
			if err != nil {
				return fmt.Errorf("publish %s: %w", row.subject, err)
			}
			if _, err := r.db.Exec(ctx, `DELETE FROM catalog_outbox WHERE id = $1`, row.id); err != nil {
				return fmt.Errorf("delete outbox row %s: %w", row.id, err)
			}
		}
	}
}

func (r *Relay) pending(ctx context.Context, limit int) ([]outboxRow, error) {
	rs, err := r.db.Query(ctx, `SELECT id, subject, event_type, payload FROM catalog_outbox
		ORDER BY create_time, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []outboxRow
	for rs.Next() {
		var row outboxRow
		if err := rs.Scan(&row.id, &row.subject, &row.eventType, &row.payload); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rs.Err()
}
