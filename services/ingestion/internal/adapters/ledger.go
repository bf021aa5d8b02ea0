package adapters

import (
	"context"
	"errors"
	"time"

	"github.com/aifactory/aifactory/libs/store"
)

// Ledger records which quarantined records were replayed, so a record moves
// to the data subject once however often replay is asked for, and holds the
// freshness state last reported per product.
type Ledger struct {
	db *store.DB
	// staleClaim is how long an unconfirmed claim blocks another replay of
	// the same record (a replayer that crashed between claim and publish).
	staleClaim time.Duration
}

// NewLedger returns the ledger in db.
func NewLedger(db *store.DB) *Ledger { return &Ledger{db: db, staleClaim: time.Minute} }

// ErrClaimed means the record was replayed already (or is being replayed).
var ErrClaimed = errors.New("already replayed")

// Claim reserves a quarantined record for replay. It fails with ErrClaimed
// when the record was replayed, or a recent claim is pending.
func (l *Ledger) Claim(ctx context.Context, domain, product string, seq uint64, msgID string) error {
	now := time.Now()
	return l.db.ExecuteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var dataSeq, at int64
		err := tx.QueryRow(ctx, `SELECT data_seq, replayed_at FROM ingestion_replays
			WHERE domain = $1 AND product = $2 AND quarantine_seq = $3`, domain, product, int64(seq)).Scan(&dataSeq, &at)
		switch {
		case errors.Is(err, store.ErrNotFound):
			_, err = tx.Exec(ctx, `INSERT INTO ingestion_replays (domain, product, quarantine_seq, message_id, data_seq, replayed_at)
				VALUES ($1, $2, $3, $4, 0, $5)`, domain, product, int64(seq), msgID, now.UnixMicro())
			if errors.Is(err, store.ErrConflict) {
				return ErrClaimed
			}
			return err
		case err != nil:
			return err
		case dataSeq != 0 || now.Sub(time.UnixMicro(at)) < l.staleClaim:
			return ErrClaimed
		}
		_, err = tx.Exec(ctx, `UPDATE ingestion_replays SET replayed_at = $4, message_id = $5
			WHERE domain = $1 AND product = $2 AND quarantine_seq = $3`, domain, product, int64(seq), now.UnixMicro(), msgID)
		return err
	})
}

// Confirm marks a claimed record as stored at dataSeq.
func (l *Ledger) Confirm(ctx context.Context, domain, product string, seq, dataSeq uint64) error {
	_, err := l.db.Exec(ctx, `UPDATE ingestion_replays SET data_seq = $4
		WHERE domain = $1 AND product = $2 AND quarantine_seq = $3`, domain, product, int64(seq), int64(dataSeq))
	return err
}

// Release drops a claim whose publish failed, so the record can be replayed
// again.
func (l *Ledger) Release(ctx context.Context, domain, product string, seq uint64) error {
	_, err := l.db.Exec(ctx, `DELETE FROM ingestion_replays
		WHERE domain = $1 AND product = $2 AND quarantine_seq = $3 AND data_seq = 0`, domain, product, int64(seq))
	return err
}

// Replayed returns, for the given quarantine sequences of a product, the
// data sequence of those already replayed.
func (l *Ledger) Replayed(ctx context.Context, domain, product string, from, to uint64) (map[uint64]uint64, error) {
	rows, err := l.db.Query(ctx, `SELECT quarantine_seq, data_seq FROM ingestion_replays
		WHERE domain = $1 AND product = $2 AND quarantine_seq >= $3 AND quarantine_seq <= $4 AND data_seq > 0`,
		domain, product, int64(from), int64(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint64]uint64{}
	for rows.Next() {
		var q, d int64
		if err := rows.Scan(&q, &d); err != nil {
			return nil, err
		}
		out[uint64(q)] = uint64(d)
	}
	return out, rows.Err()
}

// Freshness returns whether a product was last reported breached (false
// for a product never reported).
func (l *Ledger) Freshness(ctx context.Context, domain, product string) (bool, error) {
	var breached bool
	err := l.db.QueryRow(ctx, `SELECT breached FROM ingestion_freshness WHERE domain = $1 AND product = $2`, domain, product).Scan(&breached)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return breached, err
}

// SetFreshness records a product's reported freshness state.
func (l *Ledger) SetFreshness(ctx context.Context, domain, product string, breached bool) error {
	_, err := l.db.Exec(ctx, `INSERT INTO ingestion_freshness (domain, product, breached, changed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (domain, product) DO UPDATE SET breached = excluded.breached, changed_at = excluded.changed_at`,
		domain, product, breached, time.Now().UnixMicro())
	return err
}
