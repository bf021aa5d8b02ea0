package bus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Outgoing is one event of a PublishBatch, with the NATS subject it goes to.
type Outgoing struct {
	Subject string
	// Event is published as Publish would, except that its Headers map is
	// only read (one map may serve every event of a batch).
	Event Event
}

// Result is the outcome of one event of a PublishBatch: its Ack, or Err when
// it was not stored (the caller may retry it; with the same Event.ID a retry
// never stores it twice within the stream's Duplicates window).
type Result struct {
	Ack Ack
	Err error
}

// PublishBatch publishes every event without waiting — one round trip's
// worth of waiting for the whole batch instead of one per event — and waits
// until each is acknowledged or ctx is done. results[i] belongs to batch[i].
// The error is non-nil only when nothing could be attempted (ctx already
// done); per-event failures are in the results.
//
// This is JetStream's asynchronous publish done on core NATS, as
// jetstream.PublishMsgAsync does it, but leaner on the ingestion hot path:
// every message of the batch is encoded from one reused header map (the
// core publish encodes it before returning), acks come back on one reply
// subscription per Bus, and the usual ack shape is read without
// reflection. Nothing is retried here; a publish that was not acknowledged
// in time is an error in its Result.
func (b *Bus) PublishBatch(ctx context.Context, batch []Outgoing) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	acks, err := b.ackRouter()
	if err != nil {
		return nil, err
	}
	p := acks.open(len(batch))
	defer acks.close(p)

	vals := values{}
	h := make(nats.Header, 12)
	msg := &nats.Msg{Header: h}
	var checked string // the last subject found valid: a batch mostly has one
	for i, o := range batch {
		if i%64 == 0 && ctx.Err() != nil {
			break // the rest fail below, unpublished
		}
		if err := b.publishOne(ctx, o, i, p, vals, msg, checked); err != nil {
			acks.fail(p, i, err)
			continue
		}
		checked = o.Subject
	}
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	results := acks.close(p)
	for i, r := range results {
		if !r.settled() {
			results[i].Err = fmt.Errorf("bus: publish %s (ce-id %s): not acknowledged: %w", batch[i].Subject, batch[i].Event.ID, ctx.Err())
		}
	}
	return results, nil
}

// publishOne publishes event i of a batch with reply subject p.reply(i),
// encoding it from msg's header map, which it clears first: the core
// publish encodes the headers before it returns. checked is a subject
// already found valid.
func (b *Bus) publishOne(ctx context.Context, o Outgoing, i int, p *pendingBatch, vals values, msg *nats.Msg, checked string) error {
	if o.Subject != checked {
		if err := validateSubject(o.Subject, false); err != nil {
			return err
		}
	}
	clear(msg.Header)
	maps.Copy(msg.Header, o.Event.Headers)
	ev, err := b.setHeaders(ctx, o.Subject, o.Event, vals, msg.Header)
	if err != nil {
		return err
	}
	msg.Subject, msg.Data, msg.Reply = o.Subject, ev.Data, p.reply(i)
	if err := b.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("bus: publish %s (ce-id %s): %w", o.Subject, ev.ID, err)
	}
	return nil
}

// ackRouter returns the Bus's router of publish acks, subscribing its reply
// subject on first use.
func (b *Bus) ackRouter() (*ackRouter, error) {
	b.acksOnce.Do(func() {
		r := &ackRouter{prefix: b.nc.NewRespInbox() + ".", pending: map[uint64]*pendingBatch{}}
		r.sub, b.acksErr = b.nc.Subscribe(r.prefix+"*.*", r.handle)
		b.acks = r
	})
	switch {
	case b.acksErr != nil:
		return nil, fmt.Errorf("bus: subscribe to publish acks: %w", b.acksErr)
	case b.acks == nil:
		return nil, errors.New("bus: publish on a closed Bus")
	}
	return b.acks, nil
}

// ackRouter hands the JetStream acks arriving on <prefix><batch>.<index> to
// the batch waiting for them.
type ackRouter struct {
	prefix string
	sub    *nats.Subscription
	// lastStream is the stream of the last ack, whose name the next ack
	// most likely repeats (only handle, called serially, uses it).
	lastStream string

	mu      sync.Mutex
	next    uint64
	pending map[uint64]*pendingBatch
}

// pendingBatch is one PublishBatch call waiting for its acks.
type pendingBatch struct {
	id      uint64
	replyTo string // <prefix><id>.
	results []Result
	left    int // results not yet settled
	done    chan struct{}
}

// settled reports whether r holds an outcome: an ack (which always names
// its stream) or an error.
func (r Result) settled() bool { return r.Ack.Stream != "" || r.Err != nil }

func (p *pendingBatch) reply(i int) string { return p.replyTo + strconv.Itoa(i) }

func (r *ackRouter) open(n int) *pendingBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	p := &pendingBatch{
		id: r.next, replyTo: r.prefix + strconv.FormatUint(r.next, 10) + ".",
		results: make([]Result, n), left: n, done: make(chan struct{}),
	}
	if n == 0 {
		close(p.done)
	}
	r.pending[p.id] = p
	return p
}

// close stops routing acks to p and returns its results, which nothing
// writes any more. Closing twice is harmless.
func (r *ackRouter) close(p *pendingBatch) []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pending, p.id)
	return p.results
}

// fail records that event i of p was not published.
func (r *ackRouter) fail(p *pendingBatch, i int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle(p, i, Result{Err: err})
}

// settle stores the outcome of event i of p once; r.mu is held.
func (r *ackRouter) settle(p *pendingBatch, i int, res Result) {
	if i < 0 || i >= len(p.results) || p.results[i].settled() {
		return // not ours, or a redelivered reply
	}
	p.results[i] = res
	if p.left--; p.left == 0 {
		close(p.done)
	}
}

// handle is the reply subscription's callback: one ack (or no-responders
// status) per published message.
func (r *ackRouter) handle(m *nats.Msg) {
	id, i, ok := r.parseReply(m.Subject)
	if !ok {
		return
	}
	var res Result
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		res.Err = fmt.Errorf("bus: publish: %w", jetstream.ErrNoStreamResponse)
	} else if ack, err := parseAck(m.Data, r.lastStream); err != nil {
		res.Err = fmt.Errorf("bus: publish: %w", err)
	} else {
		res.Ack = ack
		r.lastStream = ack.Stream
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pending[id]; ok {
		r.settle(p, i, res)
	}
}

// parseReply splits <prefix><batch>.<index>.
func (r *ackRouter) parseReply(subject string) (uint64, int, bool) {
	rest, ok := strings.CutPrefix(subject, r.prefix)
	if !ok {
		return 0, 0, false
	}
	batch, index, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, 0, false
	}
	id, err := strconv.ParseUint(batch, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	i, err := strconv.Atoi(index)
	if err != nil {
		return 0, 0, false
	}
	return id, i, true
}
