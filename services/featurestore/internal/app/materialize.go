package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/adapters"
	"github.com/aifactory/aifactory/services/featurestore/internal/features"
	"github.com/aifactory/aifactory/services/featurestore/internal/online"
)

// Materialization batching.
const (
	materializeBatch = 500
	materializeWait  = 200 * time.Millisecond
)

// Materializer runs two shared durable consumers per feature view version
// on its source product's subject: one writes the online store (newer event
// time wins), the other appends to the offline history. They are separate
// so that serving freshness never waits on SQL, and each store's outage
// pauses only its own consumer, without acknowledging anything. Replicas of
// the service share each consumer, so N replicas split the work.
type Materializer struct {
	s *Service

	mu      sync.Mutex
	running map[string]*running // by view namespace
	wg      sync.WaitGroup
	// DurablePrefix prefixes consumer names (tests sharing a server set it).
	DurablePrefix string
	// Domains limits materialization to the views these domains own
	// (FACTORY_DOMAINS); nil means every view.
	Domains []string
}

type running struct {
	cancel context.CancelFunc
	view   *View
}

// NewMaterializer returns the materializer of s.
func NewMaterializer(s *Service) *Materializer {
	return &Materializer{s: s, running: map[string]*running{}, DurablePrefix: "featurestore"}
}

// Sync starts consumers for views that have none and stops those of views
// (or versions) that are gone.
func (m *Materializer) Sync(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]*View{}
	for _, v := range m.s.Views() {
		if service.Serves(m.Domains, v.Def.GetDomain()) {
			want[v.Namespace()] = v
		}
	}
	for ns, r := range m.running {
		if want[ns] == nil {
			r.cancel()
			delete(m.running, ns)
			// The view's version is gone: so is its consumer.
			stream := bus.DataStream(r.view.Def.GetSource().GetDomain()).Name
			for _, sink := range []string{sinkOnline, sinkOffline} {
				if err := m.s.bus.JetStream().DeleteConsumer(ctx, stream, m.Durable(r.view, sink)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
					m.s.log.Warn("delete the consumer of an old view version", "view", ns, "sink", sink, "err", err)
				}
			}
		}
	}
	for ns, v := range want {
		if m.running[ns] != nil {
			continue
		}
		vctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		m.running[ns] = &running{cancel: cancel, view: v}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.run(vctx, v)
		}()
	}
}

// Stop stops every consumer and waits for them.
func (m *Materializer) Stop() {
	m.mu.Lock()
	for ns, r := range m.running {
		r.cancel()
		delete(m.running, ns)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// The two sinks of a view's materialization.
const (
	sinkOnline  = "online"
	sinkOffline = "offline"
)

// Durable is the consumer name of a view version's sink.
func (m *Materializer) Durable(v *View, sink string) string {
	return fmt.Sprintf("%s-%s-v%d-%s", m.DurablePrefix, v.Def.GetName(), v.Def.GetVersion(), sink)
}

// onlineWorkers is how many batches of a view the online sink applies at
// once in one process: extraction of one batch overlaps the Redis round
// trips of another (newer-wins makes the order between them irrelevant).
const onlineWorkers = 2

// run consumes both sinks until ctx is done.
func (m *Materializer) run(ctx context.Context, v *View) {
	var wg sync.WaitGroup
	sinks := []string{sinkOffline}
	for range onlineWorkers {
		sinks = append(sinks, sinkOnline)
	}
	for _, sink := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.runSink(ctx, v, sink)
		}()
	}
	wg.Wait()
}

// runSink consumes one sink, retrying set-up failures (the source's stream
// may not exist before its first record).
func (m *Materializer) runSink(ctx context.Context, v *View, sink string) {
	log := m.s.log.With("view", v.Def.GetName(), "version", v.Def.GetVersion(), "sink", sink)
	handle := func(ctx context.Context, msgs []jetstream.Msg) (map[int]error, error) {
		ex, failed := m.s.extract(v, msgs)
		if sink == sinkOnline {
			return failed, m.s.applyOnline(ctx, v, ex.events, ex.ids)
		}
		return failed, m.s.applyOffline(ctx, v, ex)
	}
	for ctx.Err() == nil {
		spec, err := m.consumerSpec(ctx, v, sink)
		if err == nil {
			err = m.s.bus.ConsumeBatch(ctx, spec, materializeBatch, materializeWait, handle)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("materialization not running; retrying", "err", err)
			sleepCtx(ctx, 2*time.Second)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// consumerSpec resolves the view's source port and declares its stream when
// missing.
func (m *Materializer) consumerSpec(ctx context.Context, v *View, sink string) (bus.ConsumerSpec, error) {
	src := v.Def.GetSource()
	port, err := m.s.catalog.Resolve(src.GetDomain(), src.GetProduct(), src.GetPort())
	if err != nil {
		return bus.ConsumerSpec{}, err
	}
	stream := bus.DataStream(src.GetDomain())
	if err := ensureStreamExists(ctx, m.s.bus, stream); err != nil {
		return bus.ConsumerSpec{}, err
	}
	return bus.ConsumerSpec{
		Stream:        stream.Name,
		Durable:       m.Durable(v, sink),
		Description:   "featurestore: materialize feature view " + v.Namespace() + " (" + sink + ")",
		FilterSubject: port.GetSubject(),
		AckWait:       30 * time.Second,
		MaxDeliver:    5,
		Backoff:       []time.Duration{time.Second, 5 * time.Second},
		MaxAckPending: 4 * materializeBatch,
	}, nil
}

// ensureStreamExists creates a data stream that does not exist yet, and
// leaves an existing one (whose settings ingestion owns) alone.
func ensureStreamExists(ctx context.Context, b *bus.Bus, spec bus.StreamSpec) error {
	_, err := b.JetStream().Stream(ctx, spec.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return b.EnsureStreams(ctx, spec)
	}
	return err
}

// extracted holds a batch's events in order: events[i] came from the
// source record records[i], whose message id is ids[i].
type extracted struct {
	events  []features.Event
	ids     []string
	records [][]byte
}

// within keeps the events whose event time is in [start, end] (a zero
// start is open).
func (e extracted) within(start, end time.Time) extracted {
	var out extracted
	for i, ev := range e.events {
		if ev.EventTime.After(end) || (!start.IsZero() && ev.EventTime.Before(start)) {
			continue
		}
		out.events = append(out.events, ev)
		out.ids = append(out.ids, e.ids[i])
		out.records = append(out.records, e.records[i])
	}
	return out
}

// extract turns a batch of source records into a view's events. Records
// that can never be materialized (no entity key or event time) are
// reported for dead-lettering.
func (s *Service) extract(v *View, msgs []jetstream.Msg) (extracted, map[int]error) {
	failed := map[int]error{}
	ex := extracted{
		events:  make([]features.Event, 0, len(msgs)),
		ids:     make([]string, 0, len(msgs)),
		records: make([][]byte, 0, len(msgs)),
	}
	for i, msg := range msgs {
		md, err := msg.Metadata()
		if err != nil {
			failed[i] = err
			continue
		}
		ev, err := v.Compiled.Extract(msg.Data())
		if err != nil {
			failed[i] = fmt.Errorf("feature view %s: %w", v.Def.GetName(), err)
			continue
		}
		ev.Seq = md.Sequence.Stream
		id := msg.Headers().Get(jetstream.MsgIDHeader)
		if id == "" || strings.Contains(id, "|") {
			id = fmt.Sprintf("seq-%d", md.Sequence.Stream)
		}
		ex.events = append(ex.events, ev)
		ex.ids = append(ex.ids, id)
		ex.records = append(ex.records, msg.Data())
	}
	return ex, failed
}

// applyOffline appends extracted events to the offline history with their
// records.
func (s *Service) applyOffline(ctx context.Context, v *View, ex extracted) error {
	now := s.now()
	rows := make([]adapters.HistoryRow, len(ex.events))
	for i, ev := range ex.events {
		rows[i] = adapters.HistoryRow{MsgID: ex.ids[i], EntityKey: ev.EntityKey, EventTime: ev.EventTime, Seq: ev.Seq, Arrival: now, Record: ex.records[i]}
	}
	if err := s.hist.Append(ctx, v.Def.GetName(), rows); err != nil {
		return fmt.Errorf("offline history: %w", err)
	}
	return nil
}

// materialize applies extracted events to both sinks (backfill).
func (s *Service) materialize(ctx context.Context, v *View, ex extracted) error {
	if err := s.applyOffline(ctx, v, ex); err != nil {
		return err
	}
	return s.applyOnline(ctx, v, ex.events, ex.ids)
}

// applyOnline writes events to the online store: the latest field values
// per entity, and the events feeding aggregations.
func (s *Service) applyOnline(ctx context.Context, v *View, events []features.Event, ids []string) error {
	if len(events) == 0 {
		return nil
	}
	var (
		latest    []online.Latest
		agg       []online.AggEvent
		maxWindow time.Duration
		hasAgg    bool
	)
	for _, f := range v.Compiled.Features {
		if f.Aggregated() {
			hasAgg = true
			maxWindow = max(maxWindow, f.Window)
		}
	}
	for i, ev := range events {
		vals := make(map[string]*featurestorev1.Value, len(v.Compiled.Features))
		for j, f := range v.Compiled.Features {
			if !f.Aggregated() {
				vals[f.Name] = ev.Values[j]
			}
		}
		latest = append(latest, online.Latest{Entity: ev.EntityKey, EventTime: ev.EventTime, Seq: ev.Seq, Values: vals})
		if hasAgg {
			agg = append(agg, online.AggEvent{Entity: ev.EntityKey, ID: ids[i], EventTime: ev.EventTime, Inputs: ev.Values})
		}
	}
	ns := v.Namespace()
	if err := s.store.PutLatest(ctx, ns, latest); err != nil {
		return fmt.Errorf("online store: %w", err)
	}
	if hasAgg {
		if err := s.store.AddEvents(ctx, ns, maxWindow, agg); err != nil {
			return fmt.Errorf("online store: %w", err)
		}
	}
	return nil
}

// Rehydrate loads the online store from the offline history: used at start
// with the embedded (in-process) store, which keeps nothing across restarts.
func (s *Service) Rehydrate(ctx context.Context) (int64, error) {
	var total int64
	for _, v := range s.Views() {
		var (
			batch []features.Event
			ids   []string
		)
		flush := func() error {
			err := s.applyOnline(ctx, v, batch, ids)
			batch, ids = batch[:0], ids[:0]
			return err
		}
		err := s.hist.Scan(ctx, v.Def.GetName(), time.Time{}, func(r adapters.HistoryRow) error {
			ev, err := v.Compiled.Extract(r.Record)
			if err != nil {
				return nil // it never materialized either
			}
			ev.Seq = r.Seq
			batch = append(batch, ev)
			ids = append(ids, r.MsgID)
			total++
			if len(batch) == 1000 {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return total, fmt.Errorf("rehydrate %s: %w", v.Def.GetName(), err)
		}
	}
	return total, nil
}

// Backfill materializes a view from its source stream's history over an
// event-time range, calling progress as it goes. Records already
// materialized are stored once (history keyed by message id, online newer
// wins).
func (s *Service) Backfill(ctx context.Context, req *featurestorev1.BackfillRequest, progress func(*featurestorev1.BackfillResponse) error) error {
	st := s.current()
	v := st.views[req.GetFeatureView()]
	if v == nil {
		return service.NotFound("feature view", req.GetFeatureView())
	}
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := s.authorizeDomain(p, v.Def.GetDomain()); err != nil {
		return err
	}
	start, end := time.Time{}, s.now()
	if req.GetStart() != nil {
		start = req.GetStart().AsTime()
	}
	if req.GetEnd() != nil {
		end = req.GetEnd().AsTime()
	}
	if !start.IsZero() && !start.Before(end) {
		var vio service.Violations
		vio.Add("start", "must be before end")
		return vio.Err()
	}
	src := v.Def.GetSource()
	port, err := s.catalog.Resolve(src.GetDomain(), src.GetProduct(), src.GetPort())
	if err != nil {
		return service.FailedPrecondition(err.Error(), nil)
	}
	stream, err := s.bus.JetStream().Stream(ctx, bus.DataStream(src.GetDomain()).Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return progress(&featurestorev1.BackfillResponse{Done: true})
	}
	if err != nil {
		return service.Unavailable("open the source stream", err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{port.GetSubject()}}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return service.Unavailable("read the source stream", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return service.Unavailable("read the source stream", err)
	}
	pending := info.NumPending
	out := &featurestorev1.BackfillResponse{LastSequence: info.Delivered.Stream + pending}
	for pending > 0 {
		batch, err := cons.Fetch(int(min(pending, materializeBatch)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return service.Unavailable("read the source stream", err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			break
		}
		pending -= uint64(len(msgs))
		ex, _ := s.extract(v, msgs)
		inRange := ex.within(start, end)
		if err := s.materialize(ctx, v, inRange); err != nil {
			if errors.Is(err, online.ErrUnavailable) {
				return service.Unavailable("the online store is unavailable", err)
			}
			return service.Unavailable("materialize", err)
		}
		out.Read += int64(len(msgs))
		out.Materialized += int64(len(inRange.events))
		out.Skipped += int64(len(msgs) - len(inRange.events))
		if md, err := msgs[len(msgs)-1].Metadata(); err == nil {
			out.StreamSequence = md.Sequence.Stream
		}
		if err := progress(out); err != nil {
			return err
		}
	}
	out.Done = true
	return progress(out)
}
