package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// BatchHandler processes a batch of messages. It reports messages that can
// never be processed (bad data) in failed, by index; those are
// dead-lettered at once. A non-nil err fails the whole batch: every message
// is redelivered after a backoff and none is dead-lettered for it, because
// a batch failure means a dependency is down (the store being written), and
// an outage must pause consumption, not discard data. Handlers must be
// idempotent: redelivery is normal.
type BatchHandler func(ctx context.Context, msgs []jetstream.Msg) (failed map[int]error, err error)

// maxBatchBackoff caps the pause after consecutive batch failures.
const maxBatchBackoff = 30 * time.Second

// ConsumeBatch is Consume for throughput: it pulls up to maxBatch messages
// at a time (waiting at most maxWait for a batch to fill), hands them to h
// in one call and acknowledges them together. spec.MaxDeliver applies to
// messages delivered again and again without an ack (a crashing handler);
// batch failures are retried without limit, pausing between attempts with
// the spec's backoff. It returns nil when ctx is cancelled, after the batch
// in progress finished.
func (b *Bus) ConsumeBatch(ctx context.Context, spec ConsumerSpec, maxBatch int, maxWait time.Duration, h BatchHandler) error {
	if h == nil {
		return errors.New("bus: ConsumeBatch: nil handler")
	}
	if maxBatch <= 0 || maxWait <= 0 {
		return errors.New("bus: ConsumeBatch: maxBatch and maxWait must be positive")
	}
	spec, err := spec.withDefaults()
	if err != nil {
		return err
	}
	if spec.MaxAckPending != 0 && spec.MaxAckPending < maxBatch {
		return fmt.Errorf("bus: consumer %s/%s: MaxAckPending %d is below the batch size %d", spec.Stream, spec.Durable, spec.MaxAckPending, maxBatch)
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, spec.Stream, spec.config())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("bus: create consumer %s/%s: %w", spec.Stream, spec.Durable, err)
	}
	log := b.log.With("stream", spec.Stream, "consumer", spec.Durable)
	failures := 0
	for ctx.Err() == nil {
		batch, err := cons.Fetch(maxBatch, jetstream.FetchMaxWait(maxWait))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("fetch failed; retrying", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			continue
		}
		if err := b.handleBatch(ctx, spec, msgs, h); err != nil {
			failures++
			delay := min(spec.backoff(failures), maxBatchBackoff)
			log.Warn("batch failed; pausing, then retrying it", "err", err, "messages", len(msgs), "retry_in", delay, "failures", failures)
			for _, m := range msgs {
				_ = m.NakWithDelay(delay)
			}
			sleep(ctx, delay)
			continue
		}
		failures = 0
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// handleBatch dead-letters what was delivered too often, runs h on the rest
// with progress acks, then acks or dead-letters each message. It returns
// h's batch error.
func (b *Bus) handleBatch(ctx context.Context, spec ConsumerSpec, msgs []jetstream.Msg, h BatchHandler) error {
	log := b.log.With("stream", spec.Stream, "consumer", spec.Durable)
	hctx, span := b.tracer().Start(context.WithoutCancel(ctx), spec.Stream+" process batch",
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.consumer.group.name", spec.Durable),
			attribute.Int("messaging.batch.message_count", len(msgs)),
		))
	defer span.End()

	live := msgs[:0:0]
	mds := make([]*jetstream.MsgMetadata, 0, len(msgs))
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			_ = m.Term()
			continue
		}
		if int(md.NumDelivered) > spec.MaxDeliver {
			b.deadLetter(hctx, log, spec, m, md, fmt.Sprintf("delivered %d times without an acknowledgement (MaxDeliver %d)", md.NumDelivered, spec.MaxDeliver))
			continue
		}
		live = append(live, m)
		mds = append(mds, md)
	}
	if len(live) == 0 {
		return nil
	}
	failed, err := b.runBatch(hctx, spec, live, h)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return err
	}
	for i, m := range live {
		if ferr, bad := failed[i]; bad && ferr != nil {
			b.deadLetter(hctx, log, spec, m, mds[i], ferr.Error())
			continue
		}
		if err := m.Ack(); err != nil {
			log.Debug("ack failed; the message will be redelivered (handlers are idempotent)", "err", err)
		}
	}
	return nil
}

// runBatch calls h, extending the ack deadline of every message while it
// runs and turning a panic into a batch error.
func (b *Bus) runBatch(ctx context.Context, spec ConsumerSpec, msgs []jetstream.Msg, h BatchHandler) (failed map[int]error, err error) {
	defer b.keepInProgress(spec, msgs...)()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("batch handler panicked: %v", r)
		}
	}()
	return h(ctx, msgs)
}
