package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// publishN publishes n events on subject with ids <prefix>-0 … and returns them.
func publishN(t *testing.T, b *Bus, ctx context.Context, subject string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%d", subject, i)
		if _, err := b.Publish(ctx, subject, Event{ID: ids[i], Type: "aifactory.test.v1.Thing", Data: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatalf("Publish #%d: %v", i, err)
		}
	}
	return ids
}

// waitAllAcked waits until the consumer has nothing pending or unacked.
func waitAllAcked(t *testing.T, b *Bus, stream, durable string, want uint64) {
	t.Helper()
	var last *jetstream.ConsumerInfo
	eventuallyDescribed(t, func() bool {
		last = tryConsumerInfo(t, b, stream, durable)
		return last != nil && last.NumPending == 0 && last.NumAckPending == 0 && last.AckFloor.Stream == want
	}, func() string {
		state := "no consumer"
		if i := last; i != nil {
			state = fmt.Sprintf("pending %d, ack pending %d, redelivered %d, waiting pulls %d, delivered %d, ack floor %d",
				i.NumPending, i.NumAckPending, i.NumRedelivered, i.NumWaiting, i.Delivered.Stream, i.AckFloor.Stream)
		}
		return fmt.Sprintf("%s/%s to ack %d messages (last: %s)", stream, durable, want, state)
	})
}

// TestConsumeAck: every message reaches the handler once, with a span whose
// parent is the publisher's span, and is acknowledged.
func TestConsumeAck(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		pubCtx, pubSpan := tp.Tracer("test").Start(ctx, "publisher")
		subject := f.subject("ack")
		ids := publishN(t, b, pubCtx, subject, 3)
		pubSpan.End()

		var mu sync.Mutex
		got := map[string]int{}
		var traced atomic.Int32
		spec := f.consumer("ack")
		spec.FilterSubject = f.prefix + ".>"
		runConsumer(t, b, spec, func(ctx context.Context, m jetstream.Msg) error {
			ev, err := EventFromMsg(m)
			if err != nil {
				return Permanent(err)
			}
			sc := trace.SpanContextFromContext(ctx)
			if sc.TraceID() == pubSpan.SpanContext().TraceID() && sc.SpanID() != pubSpan.SpanContext().SpanID() {
				traced.Add(1)
			}
			mu.Lock()
			got[ev.ID]++
			mu.Unlock()
			return nil
		})
		waitAllAcked(t, b, f.events.Name, "ack", 3)

		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if got[id] != 1 {
				t.Errorf("event %s handled %d times; want 1", id, got[id])
			}
		}
		if traced.Load() != 3 {
			t.Errorf("%d handlers ran in a child of the publisher's trace; want 3", traced.Load())
		}
		var consumerSpans int
		for _, s := range rec.Ended() {
			if s.SpanKind() == trace.SpanKindConsumer && s.Parent().SpanID() == pubSpan.SpanContext().SpanID() {
				consumerSpans++
			}
		}
		if consumerSpans != 3 {
			t.Errorf("%d consumer spans with the publisher as parent; want 3", consumerSpans)
		}
	}, WithTracerProvider(tp))
}

// TestConsumeRetryThenSuccess: failures are retried after the backoff for
// their attempt, and success on the third attempt acks the message.
func TestConsumeRetryThenSuccess(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		publishN(t, b, ctx, f.subject("retry"), 1)

		var mu sync.Mutex
		var attempts []time.Time
		var deliveries []uint64
		spec := f.consumer("retry")
		spec.Backoff = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}
		runConsumer(t, b, spec, func(ctx context.Context, m jetstream.Msg) error {
			md, _ := m.Metadata()
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, time.Now())
			deliveries = append(deliveries, md.NumDelivered)
			if len(attempts) < 3 {
				return errors.New("transient")
			}
			return nil
		})
		waitAllAcked(t, b, f.events.Name, "retry", 1)

		mu.Lock()
		defer mu.Unlock()
		if len(attempts) != 3 || deliveries[2] != 3 {
			t.Fatalf("attempts %d, deliveries %v; want 3 ending with delivery 3", len(attempts), deliveries)
		}
		for i, want := range spec.Backoff {
			if gap := attempts[i+1].Sub(attempts[i]); gap < want-5*time.Millisecond {
				t.Errorf("gap before attempt %d = %s; want ≥ %s", i+2, gap, want)
			}
		}
		if n := streamInfo(t, b, f.dlq).State.Msgs; f.dlq != "DLQ" && n != 0 {
			t.Errorf("dead letters = %d; want 0", n)
		}
	})
}

// TestConsumeDeadLetter: a message that fails MaxDeliver times, or once
// with a Permanent error, is moved to dlq.<subject> with the reason and
// removed from the consumer.
func TestConsumeDeadLetter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		err           error
		wantAttempts  int
		wantReasonSub string
	}{
		{"max deliver", errors.New("boom:\nstill broken"), 3, "boom: still broken"},
		{"permanent", Permanent(errors.New("bad payload")), 1, "permanent: bad payload"},
	}
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				durable := "dlq" + strconv.Itoa(i)
				subject := f.subject("dead", durable)
				ack, err := b.Publish(ctx, subject, Event{ID: "dead-" + durable, Type: "aifactory.test.v1.Thing",
					Data: []byte("poison"), Headers: map[string][]string{"x-tenant": {"acme"}}})
				if err != nil {
					t.Fatal(err)
				}
				var calls atomic.Int32
				spec := f.consumer(durable)
				spec.FilterSubject = subject
				stop := runConsumer(t, b, spec, func(context.Context, jetstream.Msg) error {
					calls.Add(1)
					return tt.err
				})
				dl := f.lastDeadLetter(t, b, subject)
				waitAllAcked(t, b, f.events.Name, durable, ack.Sequence)
				stop()

				if int(calls.Load()) != tt.wantAttempts {
					t.Errorf("handler ran %d times; want %d", calls.Load(), tt.wantAttempts)
				}
				want := map[string]string{
					HeaderDLQReason:          tt.wantReasonSub,
					HeaderDLQStream:          f.events.Name,
					HeaderDLQConsumer:        durable,
					HeaderDLQDeliveries:      strconv.Itoa(tt.wantAttempts),
					HeaderDLQOriginalSubject: subject,
					HeaderDLQStreamSequence:  strconv.FormatUint(ack.Sequence, 10),
					HeaderID:                 "dead-" + durable,
					HeaderType:               "aifactory.test.v1.Thing",
					"x-tenant":               "acme",
				}
				for k, v := range want {
					if got := dl.Header.Get(k); got != v {
						t.Errorf("dead letter header %s = %q; want %q", k, got, v)
					}
				}
				if string(dl.Data) != "poison" || dl.Subject != DLQPrefix+subject {
					t.Errorf("dead letter %s %q; want original data on %s", dl.Subject, dl.Data, DLQPrefix+subject)
				}
			})
		}
	})
}

// TestConsumeDeadLettersUnackedDelivery: a message already delivered
// MaxDeliver times without an ack (its handlers crashed) is dead-lettered
// without running the handler again.
func TestConsumeDeadLettersUnackedDelivery(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		subject := f.subject("crash")
		publishN(t, b, ctx, subject, 1)
		spec, err := f.consumer("crash").withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		cons, err := b.js.CreateOrUpdateConsumer(ctx, spec.Stream, spec.config())
		if err != nil {
			t.Fatal(err)
		}
		// Simulate MaxDeliver attempts that died before acking.
		for range spec.MaxDeliver {
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				if err := m.Nak(); err != nil {
					t.Fatal(err)
				}
			}
		}
		var calls atomic.Int32
		runConsumer(t, b, spec, func(context.Context, jetstream.Msg) error { calls.Add(1); return nil })
		dl := f.lastDeadLetter(t, b, subject)
		if calls.Load() != 0 {
			t.Errorf("handler ran %d times; want 0", calls.Load())
		}
		if got := dl.Header.Get(HeaderDLQDeliveries); got != strconv.Itoa(spec.MaxDeliver+1) {
			t.Errorf("deliveries header = %q; want %d", got, spec.MaxDeliver+1)
		}
	})
}

// TestConsumeTwoRunnersShareWork: two runners with the same durable split
// the messages and each message is handled once overall.
func TestConsumeTwoRunnersShareWork(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, url string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		other := connectBus(t, url) // a second process, as far as the server is concerned

		var mu sync.Mutex
		handled := map[string][]string{} // ce-id → runners
		handler := func(runner string) Handler {
			return func(_ context.Context, m jetstream.Msg) error {
				time.Sleep(5 * time.Millisecond)
				mu.Lock()
				defer mu.Unlock()
				id := m.Headers().Get(HeaderID)
				handled[id] = append(handled[id], runner)
				return nil
			}
		}
		spec := f.consumer("shared")
		runConsumer(t, b, spec, handler("a"))
		runConsumer(t, other, spec, handler("b"))
		eventually(t, "both runners pulling", func() bool {
			info := tryConsumerInfo(t, b, spec.Stream, spec.Durable)
			return info != nil && info.NumWaiting >= 2
		})

		const n = 40
		ids := publishN(t, b, ctx, f.subject("work"), n)
		waitAllAcked(t, b, f.events.Name, "shared", n)

		mu.Lock()
		defer mu.Unlock()
		perRunner := map[string]int{}
		for _, id := range ids {
			if len(handled[id]) != 1 {
				t.Errorf("event %s handled by %v; want exactly one runner", id, handled[id])
				continue
			}
			perRunner[handled[id][0]]++
		}
		if perRunner["a"] == 0 || perRunner["b"] == 0 {
			t.Errorf("work split %v; want both runners to get messages", perRunner)
		}
	})
}

// TestConsumeStopsCleanly: cancelling Consume's context while a handler runs
// lets that handler finish and ack, then Consume returns nil.
func TestConsumeStopsCleanly(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		publishN(t, b, ctx, f.subject("stop"), 2)

		started := make(chan struct{})
		release := make(chan struct{})
		var calls atomic.Int32
		var sawCancel atomic.Bool
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- b.Consume(cctx, f.consumer("stop"), func(hctx context.Context, _ jetstream.Msg) error {
				if calls.Add(1) == 1 {
					close(started)
					<-release
				}
				sawCancel.Store(hctx.Err() != nil)
				return nil
			})
		}()
		<-started
		cancel()
		select {
		case err := <-done:
			t.Fatalf("Consume returned (%v) while its handler was still running", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Consume after cancel: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Consume did not return after cancel")
		}
		if calls.Load() != 1 {
			t.Errorf("handler ran %d times after cancel; want only the in-flight one", calls.Load())
		}
		if sawCancel.Load() {
			t.Error("handler context was cancelled with Consume's context")
		}
		info := consumerInfo(t, b, f.events.Name, "stop")
		if info.AckFloor.Stream != 1 {
			t.Errorf("ack floor = %d; want the in-flight message (1) acked", info.AckFloor.Stream)
		}
		// The second message (possibly buffered when Consume stopped) went
		// back to the server: a new runner gets it at once, long before the
		// 30s AckWait would have released it.
		runConsumer(t, b, f.consumer("stop"), func(context.Context, jetstream.Msg) error { return nil })
		waitAllAcked(t, b, f.events.Name, "stop", 2)
	})
}

func TestConsumeInvalidSpec(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		ctx := testCtx(t)
		if err := b.Consume(ctx, ConsumerSpec{Stream: "S"}, func(context.Context, jetstream.Msg) error { return nil }); err == nil {
			t.Error("Consume without Durable: no error")
		}
		if err := b.Consume(ctx, ConsumerSpec{Stream: "S", Durable: "d"}, nil); err == nil {
			t.Error("Consume with a nil handler: no error")
		}
		err := b.Consume(ctx, ConsumerSpec{Stream: "NOPE" + randHex(t), Durable: "d"}, func(context.Context, jetstream.Msg) error { return nil })
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("Consume on a missing stream: %v; want ErrStreamNotFound", err)
		}
	})
}

// TestConsumerUpdate: Consume updates an existing durable's settings, and
// reports a change the server refuses.
func TestConsumerUpdate(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ok := func(context.Context, jetstream.Msg) error { return nil }
		spec := f.consumer("upd")
		spec.AckWait = 20 * time.Second
		stop := runConsumer(t, b, spec, ok)
		eventually(t, "consumer created", func() bool { return tryConsumerInfo(t, b, spec.Stream, spec.Durable) != nil })
		stop()

		spec.AckWait = 40 * time.Second
		spec.MaxAckPending = 7
		stop = runConsumer(t, b, spec, ok)
		eventually(t, "consumer updated", func() bool {
			info := tryConsumerInfo(t, b, spec.Stream, spec.Durable)
			return info != nil && info.Config.AckWait == 40*time.Second && info.Config.MaxAckPending == 7
		})
		stop()

		spec.DeliverPolicy = jetstream.DeliverNewPolicy
		if err := b.Consume(testCtx(t), spec, ok); err == nil {
			t.Error("Consume changing DeliverPolicy of an existing durable: no error")
		} else {
			t.Logf("changing DeliverPolicy: %v", err)
		}
	})
}
