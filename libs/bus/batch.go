package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// batchStallWait bounds how long PublishBatch waits for room among the
// client's unacknowledged async publishes.
const batchStallWait = 30 * time.Second

// Outgoing is one event of a PublishBatch, with the NATS subject it goes to.
type Outgoing struct {
	Subject string
	Event   Event
}

// Result is the outcome of one event of a PublishBatch: its Ack, or Err when
// it was not stored (the caller may retry it; with the same Event.ID a retry
// never stores it twice within the stream's Duplicates window).
type Result struct {
	Ack Ack
	Err error
}

// PublishBatch publishes every event asynchronously — one round trip's worth
// of waiting for the whole batch instead of one per event — and waits until
// each is acknowledged or ctx is done. results[i] belongs to batch[i]. The
// error is non-nil only when nothing could be attempted (ctx already done);
// per-event failures are in the results.
func (b *Bus) PublishBatch(ctx context.Context, batch []Outgoing) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	results := make([]Result, len(batch))
	futures := make([]jetstream.PubAckFuture, len(batch))
	vals := values{}
	for i, o := range batch {
		msg, ev, err := b.messageWith(ctx, o.Subject, o.Event, vals)
		if err != nil {
			results[i].Err = err
			continue
		}
		// Past the client's limit of unacknowledged publishes (4000), wait
		// for acks to drain rather than fail.
		f, err := b.js.PublishMsgAsync(msg, jetstream.WithStallWait(batchStallWait))
		if err != nil {
			results[i].Err = fmt.Errorf("bus: publish %s (ce-id %s): %w", o.Subject, ev.ID, err)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case pa := <-f.Ok():
			results[i].Ack = Ack{Stream: pa.Stream, Sequence: pa.Sequence, Duplicate: pa.Duplicate}
		case err := <-f.Err():
			results[i].Err = fmt.Errorf("bus: publish %s (ce-id %s): %w", batch[i].Subject, batch[i].Event.ID, err)
		case <-ctx.Done():
			results[i].Err = fmt.Errorf("bus: publish %s: %w", batch[i].Subject, ctx.Err())
		}
	}
	return results, nil
}
