package main

import (
	"context"
	"errors"
	"fmt"
	batchresults "github.com/aifactory/aifactory/services/ingestion/results"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion"
)

// runIngestOurs writes the records through the governed path: a real gRPC
// connection (loopback) to IngestionService.IngestStream, which validates
// every record against the contract and stores it on JetStream before
// acknowledging the batch. Client and server share this process, so its
// peak RSS covers both. A batch's latency runs from its Send to its ack.
func runIngestOurs(ctx context.Context, p phaseParams) (res phaseResult, err error) {
	// The process runs as the services' binaries do (factoryctl dev and the
	// standalone services call the same).
	service.TuneGC()
	m, err := startMesh(ctx, meshOptions{natsURL: p.NATSURL})
	if err != nil {
		return phaseResult{}, err
	}
	defer m.stop()
	tok, err := m.signer.Issue(auth.Principal{Name: "bench", Roles: []string{auth.RoleAdmin}}, 24*time.Hour)
	if err != nil {
		return phaseResult{}, err
	}
	conn, err := service.Dial(m.addr, service.StaticToken(tok), grpc.WithDefaultCallOptions(
		grpc.MaxCallSendMsgSize(ingestion.MaxMessageBytes), grpc.MaxCallRecvMsgSize(ingestion.MaxMessageBytes)))
	if err != nil {
		return phaseResult{}, err
	}
	defer conn.Close()
	client := ingestionv1.NewIngestionServiceClient(conn)
	target := &ingestionv1.Target{Domain: benchDomain, Product: benchProduct, EventTimeField: eventTimeField}
	if err := publishContract(ctx, catalogv1.NewCatalogServiceClient(conn), client, target, p.RecordSize); err != nil {
		return phaseResult{}, err
	}

	if p.CPUProfile != "" {
		f, err := os.Create(p.CPUProfile)
		if err != nil {
			return phaseResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return phaseResult{}, err
		}
		defer pprof.StopCPUProfile()
	}

	// The stream ends with the group: a failed side unblocks the other.
	g, gctx := errgroup.WithContext(ctx)
	stream, err := client.IngestStream(gctx)
	if err != nil {
		return phaseResult{}, err
	}
	open := &ingestionv1.IngestStreamRequest{Msg: &ingestionv1.IngestStreamRequest_Open{
		Open: &ingestionv1.StreamOpen{Target: target, Source: "tools/bench"}}}
	if err := stream.Send(open); err != nil {
		return phaseResult{}, fmt.Errorf("open stream: %w", err)
	}

	type sentBatch struct {
		id    uint64
		n     int32
		start time.Time
	}
	gen := NewGenerator(p.Seed, p.RecordSize)
	var lat Latencies
	slots := make(chan struct{}, p.Inflight)
	sent := make(chan sentBatch, p.Inflight)
	cpu := startCPUWindow("self")
	start := time.Now()
	g.Go(func() error { // the acks, in order
		for b := range sent {
			resp, err := stream.Recv()
			if err != nil {
				return fmt.Errorf("batch %d: %w", b.id, err)
			}
			lat.Add(time.Since(b.start))
			if resp.GetBatchId() != b.id {
				return fmt.Errorf("ack for batch %d, want %d", resp.GetBatchId(), b.id)
			}
			if s := resp.GetSummary(); s.GetStored() != b.n {
				return fmt.Errorf("batch %d: %d of %d records stored (%d duplicates, %d rejected, %d errors): %v",
					b.id, s.GetStored(), b.n, s.GetDuplicates(), s.GetRejected(), s.GetErrors(), firstProblem(resp))
			}
			<-slots
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("end of stream: %v", err)
		}
		return nil
	})
	g.Go(func() error { // the batches
		defer close(sent)
		var id uint64
		for first := int64(0); first < p.Records; first += int64(p.Batch) {
			select {
			case slots <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			n := int(min(int64(p.Batch), p.Records-first))
			recs := make([]*ingestionv1.Record, n)
			for j, raw := range gen.Batch(first, n) {
				recs[j] = &ingestionv1.Record{Json: raw}
			}
			id++
			req := &ingestionv1.IngestStreamRequest{Msg: &ingestionv1.IngestStreamRequest_Batch{
				Batch: &ingestionv1.Batch{BatchId: id, Records: recs}}}
			sent <- sentBatch{id: id, n: int32(n), start: time.Now()}
			if err := stream.Send(req); err != nil {
				return fmt.Errorf("send batch %d: %w", id, err)
			}
		}
		return stream.CloseSend()
	})
	if err := g.Wait(); err != nil {
		return phaseResult{}, err
	}
	elapsed := time.Since(start)
	pprof.StopCPUProfile()

	r := phaseResult{
		Records: p.Records, Seconds: elapsed.Seconds(), Batches: lat.Count(), CPU: cpu.done(),
		P50: lat.Quantile(0.50), P99: lat.Quantile(0.99),
	}
	return r, streamState(ctx, m.bus.JetStream(), &r)
}

// publishContract creates the bench domain and product, publishes the
// contract and waits until ingestion enforces it: an empty batch names the
// contract version it was checked against.
func publishContract(ctx context.Context, cat catalogv1.CatalogServiceClient, in ingestionv1.IngestionServiceClient,
	target *ingestionv1.Target, recordSize int) error {
	if _, err := cat.CreateDomain(ctx, &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{
		Name: benchDomain, Description: "tools/bench"}}); err != nil {
		return fmt.Errorf("create domain: %w", err)
	}
	if _, err := cat.CreateDataProduct(ctx, &catalogv1.CreateDataProductRequest{Product: &catalogv1.DataProduct{
		Domain: benchDomain, Name: benchProduct}}); err != nil {
		return fmt.Errorf("create product: %w", err)
	}
	pub, err := cat.PublishContract(ctx, &catalogv1.PublishContractRequest{
		Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: contractYAML(recordSize)}})
	if err != nil {
		return fmt.Errorf("publish contract: %w", err)
	}
	want := pub.GetContract().GetVersion()
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := in.Ingest(ctx, &ingestionv1.IngestRequest{Target: target})
		if err == nil && resp.GetSummary().GetContractVersion() == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ingestion does not enforce contract %s after 30s: %v", want, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// firstProblem describes the first record of a batch that was not stored.
func firstProblem(resp *ingestionv1.IngestStreamResponse) string {
	for _, r := range batchresults.Expand(resp.GetRecords()) {
		if r.GetOutcome() != ingestionv1.Outcome_OUTCOME_STORED {
			return fmt.Sprintf("record %d: %v %s %v", r.GetIndex(), r.GetOutcome(), r.GetError(), r.GetViolations())
		}
	}
	return "no record result says why"
}
