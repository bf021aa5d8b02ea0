package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Headers added to a dead-lettered message, next to the original headers.
const (
	HeaderDLQReason          = "aifactory-dlq-reason"
	HeaderDLQStream          = "aifactory-dlq-stream"
	HeaderDLQConsumer        = "aifactory-dlq-consumer"
	HeaderDLQDeliveries      = "aifactory-dlq-deliveries"
	HeaderDLQOriginalSubject = "aifactory-dlq-original-subject"
	HeaderDLQStreamSequence  = "aifactory-dlq-stream-sequence"
)

// DLQPrefix is prepended to a message's subject when it is dead-lettered;
// the DLQ stream captures "dlq.>".
const DLQPrefix = "dlq."

// Consumer defaults.
const (
	DefaultAckWait    = 30 * time.Second
	DefaultMaxDeliver = 5
)

// DefaultBackoff is the redelivery delay after the 1st, 2nd, 3rd… failed
// attempt when ConsumerSpec.Backoff is empty; the last value repeats.
var DefaultBackoff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, time.Minute}

// TracerName is the OpenTelemetry instrumentation name of consumer spans.
const TracerName = "aifactory/bus"

// ConsumerSpec declares a durable pull consumer with explicit acks.
//
// Retries are driven by the runner, not by the server's BackOff setting: a
// failed attempt is negatively acknowledged with the Backoff delay for that
// attempt, and the attempt that reaches MaxDeliver is dead-lettered. The
// server's BackOff is deliberately not used: on nats-server 2.9 it replaces
// AckWait (the first BackOff value becomes the ack deadline, so a slow
// handler is redelivered while still running) and it must not have more
// entries than MaxDeliver. For the same reason the server-side max_deliver is
// left unlimited: the runner enforces MaxDeliver itself, which also lets it
// dead-letter a message whose last attempt was lost to a crash instead of the
// server silently dropping it.
type ConsumerSpec struct {
	// Stream is the stream to consume (required).
	Stream string
	// Durable is the consumer name (required). Runners in any number of
	// processes that use the same Durable share the messages: each message
	// goes to one of them.
	Durable string
	// Description is shown by `nats consumer info`.
	Description string
	// FilterSubject restricts the consumer to one subject (wildcards
	// allowed); empty means the whole stream. Only one filter: multiple
	// filter subjects need nats-server 2.10.
	FilterSubject string
	// DeliverPolicy is where a new consumer starts: DeliverAllPolicy (the
	// zero value), DeliverNewPolicy, DeliverLastPolicy or
	// DeliverLastPerSubjectPolicy. It cannot change once the consumer exists.
	DeliverPolicy jetstream.DeliverPolicy
	// AckWait is how long the server waits for an ack before redelivering
	// (default 30s). While a handler runs, the runner extends it with
	// progress acks, so it bounds crash recovery, not handler time.
	AckWait time.Duration
	// MaxDeliver is how many attempts a message gets before it is moved to
	// dlq.<subject> (default 5, minimum 1).
	MaxDeliver int
	// Backoff is the delay before attempt n+1 after attempt n failed,
	// Backoff[n-1], the last value repeating (default DefaultBackoff). It may
	// not have more entries than MaxDeliver (nats-server's own rule; entries
	// past MaxDeliver-1 could never be used). Entries must not be negative.
	Backoff []time.Duration
	// MaxAckPending bounds unacknowledged messages across all runners
	// (0 = the server default, 1000).
	MaxAckPending int
}

// withDefaults returns the spec with defaults applied, or an error naming
// the invalid field.
func (s ConsumerSpec) withDefaults() (ConsumerSpec, error) {
	if err := validateName("stream", s.Stream); err != nil {
		return s, fmt.Errorf("bus: consumer %q: %w", s.Durable, err)
	}
	if err := validateName("durable consumer", s.Durable); err != nil {
		return s, fmt.Errorf("bus: consumer on %s: %w", s.Stream, err)
	}
	where := s.Stream + "/" + s.Durable
	if s.FilterSubject != "" {
		if err := validateSubject(s.FilterSubject, true); err != nil {
			return s, fmt.Errorf("bus: consumer %s: FilterSubject: %w", where, err)
		}
	}
	switch s.DeliverPolicy {
	case jetstream.DeliverAllPolicy, jetstream.DeliverNewPolicy, jetstream.DeliverLastPolicy, jetstream.DeliverLastPerSubjectPolicy:
	default:
		return s, fmt.Errorf("bus: consumer %s: DeliverPolicy %s is not supported (use all, new, last or last_per_subject)", where, s.DeliverPolicy)
	}
	if s.AckWait < 0 || s.MaxDeliver < 0 || s.MaxAckPending < 0 {
		return s, fmt.Errorf("bus: consumer %s: AckWait, MaxDeliver and MaxAckPending must not be negative", where)
	}
	if s.AckWait == 0 {
		s.AckWait = DefaultAckWait
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = DefaultMaxDeliver
	}
	if len(s.Backoff) == 0 {
		s.Backoff = DefaultBackoff
	}
	if len(s.Backoff) > s.MaxDeliver {
		return s, fmt.Errorf("bus: consumer %s: %d Backoff entries but MaxDeliver is %d: Backoff may have at most MaxDeliver entries",
			where, len(s.Backoff), s.MaxDeliver)
	}
	for i, d := range s.Backoff {
		if d < 0 {
			return s, fmt.Errorf("bus: consumer %s: Backoff[%d] = %s is negative", where, i, d)
		}
	}
	s.Backoff = append([]time.Duration(nil), s.Backoff...)
	return s, nil
}

func (s ConsumerSpec) config() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       s.Durable,
		Description:   s.Description,
		FilterSubject: s.FilterSubject,
		DeliverPolicy: s.DeliverPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.AckWait,
		MaxDeliver:    -1, // enforced by the runner, see ConsumerSpec
		MaxAckPending: s.MaxAckPending,
	}
}

// backoff returns the delay after the failed attempt number n (1-based).
func (s ConsumerSpec) backoff(n int) time.Duration {
	i := min(max(n-1, 0), len(s.Backoff)-1)
	return s.Backoff[i]
}

// Handler processes one message. Returning nil acknowledges it; an error
// schedules a retry (or dead-letters it on the last attempt); an error
// wrapped with Permanent dead-letters it at once. Handlers must be
// idempotent: redelivery is normal. ctx carries the message's span and is
// not cancelled when Consume's context is, so the side effect in progress
// can complete during shutdown.
type Handler func(ctx context.Context, m jetstream.Msg) error

// Consume creates or updates the durable consumer spec and handles its
// messages one at a time until ctx is cancelled. It then stops pulling, lets
// the handler in progress finish and acknowledges it, returns the messages
// it had buffered to the server for other runners (Nak), and returns nil.
// It returns an error when the spec is invalid, the consumer cannot be
// created, or consuming fails (for example the consumer was deleted or the
// connection closed).
//
// Run several Consume calls (in one process or many) with the same Durable
// to process in parallel.
func (b *Bus) Consume(ctx context.Context, spec ConsumerSpec, handler Handler) error {
	if handler == nil {
		return errors.New("bus: Consume: nil handler")
	}
	spec, err := spec.withDefaults()
	if err != nil {
		return err
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, spec.Stream, spec.config())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("bus: create consumer %s/%s: %w", spec.Stream, spec.Durable, err)
	}
	// One message buffered at a time keeps the work spread over runners and
	// keeps buffered messages from waiting out their AckWait.
	it, err := cons.Messages(jetstream.PullMaxMessages(1))
	if err != nil {
		return fmt.Errorf("bus: consume %s/%s: %w", spec.Stream, spec.Durable, err)
	}
	defer it.Stop()
	log := b.log.With("stream", spec.Stream, "consumer", spec.Durable)
	log.Debug("consumer started", "filter", spec.FilterSubject)

	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("bus: consume %s/%s: %w", spec.Stream, spec.Durable, err)
		}
		if ctx.Err() != nil {
			b.release(log, m)
			break
		}
		b.handle(ctx, spec, m, handler)
	}

	// Shutting down: stop pulling and hand back what was already buffered.
	it.Drain()
	for {
		m, err := it.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			break
		}
		b.release(log, m)
	}
	log.Debug("consumer stopped")
	return nil
}

// release returns an unprocessed message to the server for immediate
// redelivery (to another runner).
func (b *Bus) release(log *slog.Logger, m jetstream.Msg) {
	if err := m.Nak(); err != nil {
		log.Warn("nak of buffered message failed; it will be redelivered after AckWait", "subject", m.Subject(), "err", err)
	}
}

// handle runs one delivery: span, handler, then ack, retry or dead-letter.
func (b *Bus) handle(ctx context.Context, spec ConsumerSpec, m jetstream.Msg, handler Handler) {
	log := b.log.With("stream", spec.Stream, "consumer", spec.Durable, "subject", m.Subject(),
		"ce_id", m.Headers().Get(HeaderID))
	md, err := m.Metadata()
	if err != nil {
		// Not a JetStream delivery: nothing to retry against.
		log.Error("message without JetStream metadata; terminating it", "err", err)
		_ = m.Term()
		return
	}
	n := int(md.NumDelivered)
	log = log.With("stream_seq", md.Sequence.Stream, "delivery", n)

	// The handler's context outlives Consume's cancellation (see Handler)
	// and is a child of the publisher's span.
	hctx := ContextWithTrace(context.WithoutCancel(ctx), m.Headers())
	hctx, span := b.tracer().Start(hctx, m.Subject()+" process",
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", m.Subject()),
			attribute.String("messaging.consumer.group.name", spec.Durable),
			attribute.String("messaging.message.id", m.Headers().Get(HeaderID)),
			attribute.Int("messaging.message.delivery_count", n),
			attribute.String("cloudevents.event_type", m.Headers().Get(HeaderType)),
			attribute.Int64("messaging.nats.stream_sequence", int64(md.Sequence.Stream)),
		))
	defer span.End()

	if n > spec.MaxDeliver {
		// The previous attempt neither acked nor failed: the process died or
		// lost its connection while handling it.
		reason := fmt.Sprintf("delivered %d times without an acknowledgement (MaxDeliver %d)", n, spec.MaxDeliver)
		span.SetStatus(codes.Error, reason)
		b.deadLetter(hctx, log, spec, m, md, reason)
		return
	}

	herr := b.runHandler(hctx, spec, m, handler)
	if herr == nil {
		ackCtx, cancel := context.WithTimeout(hctx, 5*time.Second)
		defer cancel()
		if err := m.DoubleAck(ackCtx); err != nil {
			log.Warn("ack not confirmed; the message may be redelivered", "err", err)
			span.AddEvent("ack not confirmed", trace.WithAttributes(attribute.String("error", err.Error())))
		}
		return
	}

	span.RecordError(herr)
	span.SetStatus(codes.Error, herr.Error())
	if IsPermanent(herr) || n >= spec.MaxDeliver {
		b.deadLetter(hctx, log, spec, m, md, herr.Error())
		return
	}
	delay := spec.backoff(n)
	log.Warn("handler failed; will retry", "err", herr, "retry_in", delay, "max_deliver", spec.MaxDeliver)
	if err := m.NakWithDelay(delay); err != nil {
		log.Warn("nak failed; the message will be redelivered after AckWait", "err", err)
	}
}

// runHandler calls handler, extending the ack deadline while it runs and
// turning a panic into an error.
func (b *Bus) runHandler(ctx context.Context, spec ConsumerSpec, m jetstream.Msg, handler Handler) (err error) {
	defer b.keepInProgress(spec, m)()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return handler(ctx, m)
}

// keepInProgress extends the ack deadline of msgs every AckWait/3 (so a
// long handler is not redelivered meanwhile) until the returned stop is
// called; stop waits for the extender to end.
func (b *Bus) keepInProgress(spec ConsumerSpec, msgs ...jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(spec.AckWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range msgs {
					if err := m.InProgress(); err != nil {
						b.log.Debug("progress ack failed", "subject", m.Subject(), "err", err)
					}
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// deadLetter publishes a copy of m to dlq.<subject> with the reason and
// terminates the original. If the copy cannot be stored, the original is
// retried later instead, so no message is lost while the DLQ is unavailable.
func (b *Bus) deadLetter(ctx context.Context, log *slog.Logger, spec ConsumerSpec, m jetstream.Msg, md *jetstream.MsgMetadata, reason string) {
	h := make(nats.Header, len(m.Headers())+8)
	for k, vs := range m.Headers() {
		// Nats-* headers (Nats-Msg-Id, Nats-Expected-*…) steer the server
		// and would make the DLQ publish fail or deduplicate wrongly.
		if strings.HasPrefix(strings.ToLower(k), "nats-") {
			continue
		}
		h[k] = append([]string(nil), vs...)
	}
	h.Set(HeaderDLQReason, headerValue(reason))
	h.Set(HeaderDLQStream, spec.Stream)
	h.Set(HeaderDLQConsumer, spec.Durable)
	h.Set(HeaderDLQDeliveries, strconv.FormatUint(md.NumDelivered, 10))
	h.Set(HeaderDLQOriginalSubject, m.Subject())
	h.Set(HeaderDLQStreamSequence, strconv.FormatUint(md.Sequence.Stream, 10))
	// One dead letter per (stream, consumer, message): a retried DLQ
	// publish is deduplicated, two consumers failing the same message are not.
	h.Set(HeaderMsgID, "dlq:"+spec.Stream+":"+spec.Durable+":"+strconv.FormatUint(md.Sequence.Stream, 10))

	pubCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	subject := DLQPrefix + m.Subject()
	if _, err := b.js.PublishMsg(pubCtx, &nats.Msg{Subject: subject, Header: h, Data: m.Data()}); err != nil {
		delay := spec.backoff(len(spec.Backoff))
		log.Error("dead-lettering failed; will retry", "dlq_subject", subject, "reason", reason, "err", err, "retry_in", delay)
		if err := m.NakWithDelay(delay); err != nil {
			log.Warn("nak failed; the message will be redelivered after AckWait", "err", err)
		}
		return
	}
	log.Warn("message dead-lettered", "dlq_subject", subject, "reason", reason)
	// Plain Term: TERM with a reason needs nats-server 2.10.
	if err := m.Term(); err != nil {
		log.Warn("term after dead-lettering failed; the message may be dead-lettered again (deduplicated)", "err", err)
	}
}

// headerValue makes s safe as a header value: one line, at most 1 KiB.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 1024 {
		s = strings.ToValidUTF8(s[:1024], "")
	}
	return s
}

// permanentError marks a handler error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that Consume dead-letters the message at once
// instead of retrying it (a malformed payload, a contract violation).
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or an error it wraps) was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
