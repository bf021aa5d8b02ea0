package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestConsumeBatch: batch failures pause and retry without dead-lettering;
// messages the handler reports as bad are dead-lettered; everything else is
// processed and acknowledged.
func TestConsumeBatch(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		f := newFixture(t, b)
		ctx := testCtx(t)
		subject := f.subject("batch", "x")
		const n = 250
		var last uint64
		for i := range n {
			ack, err := b.Publish(ctx, subject, Event{ID: fmt.Sprint("b", i), Type: "aifactory.test.v1.Thing", Data: []byte(fmt.Sprint(i))})
			if err != nil {
				t.Fatal(err)
			}
			last = ack.Sequence
		}
		spec := f.consumer("batcher")
		spec.FilterSubject = subject
		spec.Backoff = []time.Duration{10 * time.Millisecond}
		var (
			mu       sync.Mutex
			seen     = map[string]int{}
			failLeft = 2
		)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- b.ConsumeBatch(cctx, spec, 100, 200*time.Millisecond, func(_ context.Context, msgs []jetstream.Msg) (map[int]error, error) {
				mu.Lock()
				defer mu.Unlock()
				if failLeft > 0 {
					failLeft--
					return nil, errors.New("store down")
				}
				failed := map[int]error{}
				for i, m := range msgs {
					if string(m.Data()) == "13" {
						failed[i] = errors.New("record 13 has no entity key")
						continue
					}
					seen[string(m.Data())]++
				}
				return failed, nil
			})
		}()
		waitAllAcked(t, b, f.events.Name, "batcher", last)
		dl := f.lastDeadLetter(t, b, subject)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(seen) != n-1 {
			t.Fatalf("processed %d distinct messages, want %d", len(seen), n-1)
		}
		if string(dl.Data) != "13" || dl.Header.Get(HeaderDLQReason) != "record 13 has no entity key" {
			t.Fatalf("dead letter %q reason %q", dl.Data, dl.Header.Get(HeaderDLQReason))
		}
	})
}
