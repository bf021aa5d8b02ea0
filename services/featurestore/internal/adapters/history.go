package adapters

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aifactory/aifactory/libs/store"
)

// HistoryRow is one record of a feature view's offline history.
type HistoryRow struct {
	MsgID     string
	EntityKey string
	EventTime time.Time
	// Seq is the record's stream sequence: arrival order.
	Seq     uint64
	Arrival time.Time
	// Record is the record's JSON as it was stored on the data stream.
	Record []byte
}

// History is the offline store: every record a view materialized, kept
// with its event and arrival time, so training sets can be built point in
// time and the online store rebuilt.
type History struct {
	db *store.DB
}

// NewHistory returns the offline history in db.
func NewHistory(db *store.DB) *History { return &History{db: db} }

// historyChunk bounds the rows of one INSERT statement.
const historyChunk = 100

// Append stores rows of a view in one transaction; rows already stored
// (same message id) are left as they are, so redelivery is harmless.
func (h *History) Append(ctx context.Context, view string, rows []HistoryRow) error {
	if len(rows) == 0 {
		return nil
	}
	return h.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		for start := 0; start < len(rows); start += historyChunk {
			chunk := rows[start:min(start+historyChunk, len(rows))]
			var (
				sb   strings.Builder
				args = make([]any, 0, len(chunk)*7)
			)
			sb.WriteString(`INSERT INTO fs_history (view, msg_id, entity_key, event_time, seq, arrival_time, record) VALUES `)
			for i, r := range chunk {
				if i > 0 {
					sb.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
				args = append(args, view, r.MsgID, r.EntityKey, r.EventTime.UnixMicro(), int64(r.Seq), r.Arrival.UnixMicro(), string(r.Record))
			}
			sb.WriteString(` ON CONFLICT (view, msg_id) DO NOTHING`)
			if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// Scan calls fn for every row of a view with event time ≤ until (zero: no
// bound), in no particular order: the point-in-time join sorts the events
// itself (pit.SortEvents, bytewise — a database's collation may differ),
// and rebuilding the online store does not depend on order (newer wins).
func (h *History) Scan(ctx context.Context, view string, until time.Time, fn func(HistoryRow) error) error {
	q := `SELECT msg_id, entity_key, event_time, seq, arrival_time, record FROM fs_history WHERE view = $1`
	args := []any{view}
	if !until.IsZero() {
		q += ` AND event_time <= $2`
		args = append(args, until.UnixMicro())
	}
	rows, err := h.db.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r            HistoryRow
			et, seq, arr int64
			record       string
		)
		if err := rows.Scan(&r.MsgID, &r.EntityKey, &et, &seq, &arr, &record); err != nil {
			return err
		}
		r.EventTime, r.Seq, r.Arrival, r.Record = time.UnixMicro(et).UTC(), uint64(seq), time.UnixMicro(arr).UTC(), []byte(record)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Count returns how many rows a view's history holds.
func (h *History) Count(ctx context.Context, view string) (int64, error) {
	var n int64
	err := h.db.QueryRow(ctx, `SELECT COUNT(*) FROM fs_history WHERE view = $1`, view).Scan(&n)
	return n, err
}
