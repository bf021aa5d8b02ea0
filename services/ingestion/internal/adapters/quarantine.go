package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/libs/bus"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

// QuarantineSubject is where a product's rejected records go.
func QuarantineSubject(domain, product string) string {
	return "quarantine." + domain + "." + product
}

// Quarantine reads quarantined records back from the QUARANTINE stream.
type Quarantine struct {
	bus *bus.Bus
}

// NewQuarantine returns a reader of the QUARANTINE stream.
func NewQuarantine(b *bus.Bus) *Quarantine { return &Quarantine{bus: b} }

// ErrNotQuarantined is returned by Get for a sequence that is not a
// quarantined record of the product.
var ErrNotQuarantined = errors.New("no such quarantined record")

// Get returns the quarantined record at stream sequence seq.
func (q *Quarantine) Get(ctx context.Context, domain, product string, seq uint64) (*ingestionv1.QuarantinedRecord, error) {
	s, err := q.bus.JetStream().Stream(ctx, bus.QuarantineStream.Name)
	if err != nil {
		return nil, err
	}
	raw, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, ErrNotQuarantined
	}
	if err != nil {
		return nil, err
	}
	if raw.Subject != QuarantineSubject(domain, product) {
		return nil, ErrNotQuarantined
	}
	return decode(raw.Data, seq, raw.Time)
}

func decode(data []byte, seq uint64, t time.Time) (*ingestionv1.QuarantinedRecord, error) {
	rec := &ingestionv1.QuarantinedRecord{}
	if err := proto.Unmarshal(data, rec); err != nil {
		return nil, fmt.Errorf("quarantined record %d: %w", seq, err)
	}
	rec.Sequence = seq
	return rec, nil
}

// List returns up to limit records of a product with sequence ≥ from,
// oldest first, and the sequence to continue from (0 at the end).
func (q *Quarantine) List(ctx context.Context, domain, product string, from uint64, limit int) ([]*ingestionv1.QuarantinedRecord, uint64, error) {
	s, err := q.bus.JetStream().Stream(ctx, bus.QuarantineStream.Name)
	if err != nil {
		return nil, 0, err
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{QuarantineSubject(domain, product)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if from > 1 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = from
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, 0, err
	}
	pending := int(min(info.NumPending, uint64(limit)+1))
	var out []*ingestionv1.QuarantinedRecord
	for len(out) < pending {
		batch, err := cons.Fetch(pending-len(out), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, 0, err
		}
		n := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return nil, 0, err
			}
			rec, err := decode(m.Data(), md.Sequence.Stream, md.Timestamp)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, rec)
			n++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, 0, err
		}
		if n == 0 {
			break
		}
	}
	var next uint64
	if len(out) > limit {
		next = out[limit].GetSequence()
		out = out[:limit]
	}
	return out, next, nil
}
