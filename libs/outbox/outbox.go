// Package outbox is the transactional outbox of a service: events written
// in the same SQL transaction as the change they describe (Write), and a
// relay that publishes them to JetStream after the commit, oldest first,
// deleting each row once the stream acknowledged it. The row id is the
// Nats-Msg-Id, so a row published twice (a crash between the ack and the
// delete, two replicas racing) is stored once.
//
// Each service keeps its own table, created by its migrations:
//
//	CREATE TABLE IF NOT EXISTS <service>_outbox (
//	    id          TEXT PRIMARY KEY,
//	    subject     TEXT NOT NULL,
//	    event_type  TEXT NOT NULL,
//	    payload     TEXT NOT NULL,   -- base64 of the protobuf payload
//	    create_time BIGINT NOT NULL
//	);
package outbox

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/store"
)

// Relay publishes the rows of one outbox table.
type Relay struct {
	table    string
	db       *store.DB
	bus      *bus.Bus
	log      *slog.Logger
	wake     chan struct{}
	interval time.Duration
}

// NewRelay returns a relay from db's outbox table to b. table is a
// constant of the service (it is put into SQL as is).
func NewRelay(db *store.DB, b *bus.Bus, table string, log *slog.Logger) *Relay {
	return &Relay{table: table, db: db, bus: b, log: log, wake: make(chan struct{}, 1), interval: 2 * time.Second}
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
			r.log.Warn("outbox: publish failed; will retry", "table", r.table, "err", err)
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
			if _, err := r.db.Exec(ctx, `DELETE FROM `+r.table+` WHERE id = $1`, row.id); err != nil {
				return fmt.Errorf("delete outbox row %s: %w", row.id, err)
			}
		}
	}
}

func (r *Relay) pending(ctx context.Context, limit int) ([]outboxRow, error) {
	rs, err := r.db.Query(ctx, `SELECT id, subject, event_type, payload FROM `+r.table+`
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

// Event is an event to publish after the transaction commits.
type Event struct {
	// ID becomes ce-id and Nats-Msg-Id; generated when empty.
	ID      string
	Subject string
	Msg     proto.Message
}

// Write stores events in table inside tx, in order.
func Write(ctx context.Context, tx *store.Tx, table string, events []Event) error {
	base := time.Now().UnixMicro()
	for i, ev := range events {
		payload, err := proto.Marshal(ev.Msg)
		if err != nil {
			return fmt.Errorf("outbox: encode event: %w", err)
		}
		id := ev.ID
		if id == "" {
			id = uuid.NewString()
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (id, subject, event_type, payload, create_time)
			VALUES ($1, $2, $3, $4, $5)`,
			id, ev.Subject, string(ev.Msg.ProtoReflect().Descriptor().FullName()),
			base64.StdEncoding.EncodeToString(payload), base+int64(i)); err != nil {
			return err
		}
	}
	return nil
}
