// Package adapters holds the ingestion service's storage: counters, the
// replay ledger and freshness state in SQL (libs/store), and the quarantine
// read back from its JetStream stream.
package adapters

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"sync"
	"time"

	"github.com/aifactory/aifactory/libs/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the ingestion service's SQL migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded path is a compile-time constant
	}
	return sub
}

// Delta is a change of one product's counters.
type Delta struct {
	Accepted, Duplicates, Rejected, Replayed, Bytes int64
	// LastEventTime, LastIngestTime: the newest seen; zero means none.
	LastEventTime, LastIngestTime time.Time
	RejectedByRule                map[string]int64
}

func (d *Delta) add(o Delta) {
	d.Accepted += o.Accepted
	d.Duplicates += o.Duplicates
	d.Rejected += o.Rejected
	d.Replayed += o.Replayed
	d.Bytes += o.Bytes
	if o.LastEventTime.After(d.LastEventTime) {
		d.LastEventTime = o.LastEventTime
	}
	if o.LastIngestTime.After(d.LastIngestTime) {
		d.LastIngestTime = o.LastIngestTime
	}
	for r, n := range o.RejectedByRule {
		if d.RejectedByRule == nil {
			d.RejectedByRule = map[string]int64{}
		}
		d.RejectedByRule[r] += n
	}
}

// Stats accumulates counter deltas in memory and flushes them to SQL in one
// transaction per interval, so the hot write path never waits on the
// database and concurrent batches of a product never contend on its row.
// Several replicas each flush their own deltas (additive upserts).
type Stats struct {
	db      *store.DB
	mu      sync.Mutex
	pending map[[2]string]*Delta
}

// NewStats returns counters stored in db.
func NewStats(db *store.DB) *Stats {
	return &Stats{db: db, pending: map[[2]string]*Delta{}}
}

// Add records a delta for a product.
func (s *Stats) Add(domain, product string, d Delta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{domain, product}
	if s.pending[k] == nil {
		s.pending[k] = &Delta{}
	}
	s.pending[k].add(d)
}

// Run flushes every interval until ctx is done, then once more.
func (s *Stats) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.Flush(context.WithoutCancel(ctx)); err != nil {
				onErr(err)
			}
			return
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				onErr(err)
			}
		}
	}
}

// Flush writes the pending deltas. On failure they are kept for the next
// flush.
func (s *Stats) Flush(ctx context.Context) error {
	s.mu.Lock()
	pending := s.pending
	s.pending = map[[2]string]*Delta{}
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := s.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		for k, d := range pending {
			if _, err := tx.Exec(ctx, `INSERT INTO ingestion_stats
				(domain, product, accepted, duplicates, rejected, replayed, bytes, last_event_time, last_ingest_time)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (domain, product) DO UPDATE SET
					accepted = ingestion_stats.accepted + excluded.accepted,
					duplicates = ingestion_stats.duplicates + excluded.duplicates,
					rejected = ingestion_stats.rejected + excluded.rejected,
					replayed = ingestion_stats.replayed + excluded.replayed,
					bytes = ingestion_stats.bytes + excluded.bytes,
					last_event_time = CASE WHEN excluded.last_event_time > ingestion_stats.last_event_time
						THEN excluded.last_event_time ELSE ingestion_stats.last_event_time END,
					last_ingest_time = CASE WHEN excluded.last_ingest_time > ingestion_stats.last_ingest_time
						THEN excluded.last_ingest_time ELSE ingestion_stats.last_ingest_time END`,
				k[0], k[1], d.Accepted, d.Duplicates, d.Rejected, d.Replayed, d.Bytes,
				micros(d.LastEventTime), micros(d.LastIngestTime)); err != nil {
				return err
			}
			for rule, n := range d.RejectedByRule {
				if _, err := tx.Exec(ctx, `INSERT INTO ingestion_rejections (domain, product, rule, count)
					VALUES ($1, $2, $3, $4)
					ON CONFLICT (domain, product, rule) DO UPDATE SET count = ingestion_rejections.count + excluded.count`,
					k[0], k[1], rule, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.mu.Lock()
		for k, d := range pending {
			if s.pending[k] == nil {
				s.pending[k] = &Delta{}
			}
			s.pending[k].add(*d)
		}
		s.mu.Unlock()
	}
	return err
}

// Get returns a product's counters: what is stored plus what this process
// has not flushed yet.
func (s *Stats) Get(ctx context.Context, domain, product string) (Delta, error) {
	var (
		d          Delta
		lastEvent  int64
		lastIngest int64
	)
	err := s.db.QueryRow(ctx, `SELECT accepted, duplicates, rejected, replayed, bytes, last_event_time, last_ingest_time
		FROM ingestion_stats WHERE domain = $1 AND product = $2`, domain, product).
		Scan(&d.Accepted, &d.Duplicates, &d.Rejected, &d.Replayed, &d.Bytes, &lastEvent, &lastIngest)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Delta{}, err
	}
	d.LastEventTime, d.LastIngestTime = fromMicros(lastEvent), fromMicros(lastIngest)
	rows, err := s.db.Query(ctx, `SELECT rule, count FROM ingestion_rejections WHERE domain = $1 AND product = $2`, domain, product)
	if err != nil {
		return Delta{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rule string
			n    int64
		)
		if err := rows.Scan(&rule, &n); err != nil {
			return Delta{}, err
		}
		if d.RejectedByRule == nil {
			d.RejectedByRule = map[string]int64{}
		}
		d.RejectedByRule[rule] = n
	}
	if err := rows.Err(); err != nil {
		return Delta{}, err
	}
	s.mu.Lock()
	if p := s.pending[[2]string{domain, product}]; p != nil {
		d.add(*p)
	}
	s.mu.Unlock()
	return d, nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
