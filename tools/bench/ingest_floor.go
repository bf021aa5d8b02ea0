package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/services/ingestion"
)

// defaultDedupWindow is the Nats-Msg-Id window ingestion gives the
// DATA_<DOMAIN> streams when FACTORY_INGEST_DEDUP_WINDOW is unset (the
// default of app.Config.DedupWindow). The ours phase reports the window the
// stream really got and the report warns when the two differ.
const defaultDedupWindow = 15 * time.Minute

// dataStreamSpec is DATA_BENCH as ingestion declares it.
func dataStreamSpec() (bus.StreamSpec, error) {
	cfg, _, err := ingestion.ConfigFromEnv()
	if err != nil {
		return bus.StreamSpec{}, err
	}
	spec := bus.DataStream(benchDomain)
	spec.Duplicates = cfg.DedupWindow
	if spec.Duplicates <= 0 {
		spec.Duplicates = defaultDedupWindow
	}
	return spec, nil
}

// floorBatch is a published batch waiting for its acks.
type floorBatch struct {
	start   time.Time
	futures []jetstream.PubAckFuture
}

// runIngestFloor publishes the records straight to JetStream with
// PublishMsgAsync — the raw dependency with nothing of ours around it — to
// the stream ingestion would write, one Nats-Msg-Id per message, in batches
// of p.Batch with up to p.Inflight batches unacknowledged. A batch's latency
// runs from its first publish to its last ack.
func runIngestFloor(ctx context.Context, p phaseParams) (phaseResult, error) {
	nc, err := nats.Connect(p.NATSURL, nats.Name("aifactory/bench-floor"))
	if err != nil {
		return phaseResult{}, err
	}
	defer nc.Close()
	// Room for every message in flight, so the client never stalls below
	// the depth asked for.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(max(4000, p.Batch*p.Inflight)))
	if err != nil {
		return phaseResult{}, err
	}
	spec, err := dataStreamSpec()
	if err != nil {
		return phaseResult{}, err
	}
	setup, err := bus.New(nc, "aifactory/bench-floor")
	if err != nil {
		return phaseResult{}, err
	}
	if err := setup.EnsureStreams(ctx, spec); err != nil {
		return phaseResult{}, err
	}

	gen := NewGenerator(p.Seed, p.RecordSize)
	var lat Latencies
	slots := make(chan struct{}, p.Inflight)
	pending := make(chan floorBatch, p.Inflight)
	g, gctx := errgroup.WithContext(ctx)
	cpu := startCPUWindow("self")
	start := time.Now()
	g.Go(func() error { // the acks, batch after batch
		for b := range pending {
			for _, f := range b.futures {
				select {
				case <-f.Ok():
				case err := <-f.Err():
					return fmt.Errorf("publish: %w", err)
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			lat.Add(time.Since(b.start))
			<-slots
		}
		return nil
	})
	g.Go(func() error { // the publishes
		defer close(pending)
		for first := int64(0); first < p.Records; first += int64(p.Batch) {
			select {
			case slots <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			n := int(min(int64(p.Batch), p.Records-first))
			recs := gen.Batch(first, n)
			b := floorBatch{futures: make([]jetstream.PubAckFuture, n)}
			for j, rec := range recs {
				msg := &nats.Msg{Subject: benchSubject, Data: rec, Header: nats.Header{jetstream.MsgIDHeader: {gen.EventID(first + int64(j))}}}
				if j == 0 {
					b.start = time.Now()
				}
				f, err := js.PublishMsgAsync(msg)
				if err != nil {
					return fmt.Errorf("publish: %w", err)
				}
				b.futures[j] = f
			}
			pending <- b
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return phaseResult{}, err
	}
	elapsed := time.Since(start)
	r := phaseResult{
		Records: p.Records, Seconds: elapsed.Seconds(), Batches: lat.Count(), CPU: cpu.done(),
		P50: lat.Quantile(0.50), P99: lat.Quantile(0.99),
	}
	return r, streamState(ctx, js, &r)
}

// streamState fills in what DATA_BENCH holds and its deduplication window.
func streamState(ctx context.Context, js jetstream.JetStream, r *phaseResult) error {
	s, err := js.Stream(ctx, benchStream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", benchStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s: %w", benchStream, err)
	}
	r.StreamMsgs, r.StreamBytes, r.Duplicates = info.State.Msgs, info.State.Bytes, info.Config.Duplicates
	return nil
}
