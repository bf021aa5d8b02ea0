// Package ports exposes the ingestion application over gRPC
// (aifactory.ingestion.v1.IngestionService) and NATS request/reply
// (ingest.<domain>.<product>). Handlers translate; the rules live in app.
package ports

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion/internal/app"
	"github.com/aifactory/aifactory/services/ingestion/internal/lineage"
)

// GRPCServer implements ingestionv1.IngestionServiceServer.
type GRPCServer struct {
	ingestionv1.UnimplementedIngestionServiceServer
	app *app.Service
	bus *bus.Bus
	log *slog.Logger
}

// NewGRPCServer returns the gRPC handlers.
func NewGRPCServer(a *app.Service, b *bus.Bus, log *slog.Logger) *GRPCServer {
	return &GRPCServer{app: a, bus: b, log: log}
}

func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, status.Error(codes.Unauthenticated, "no principal: call with a bearer token")
	}
	return p, nil
}

func (s *GRPCServer) Ingest(ctx context.Context, req *ingestionv1.IngestRequest) (*ingestionv1.IngestResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.app.Ingest(ctx, p, app.Batch{Target: req.GetTarget(), Records: req.GetRecords()})
	if err != nil {
		return nil, err
	}
	return &ingestionv1.IngestResponse{Records: out.Results, Summary: out.Summary}, nil
}

// IngestStream runs one stream session: an open message, then batches,
// each answered after its acks. The session is one OpenLineage run: START
// at open, COMPLETE when the client closes its side, FAIL on an error.
func (s *GRPCServer) IngestStream(stream grpc.BidiStreamingServer[ingestionv1.IngestStreamRequest, ingestionv1.IngestStreamResponse]) error {
	ctx := stream.Context()
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	open := first.GetOpen()
	if open == nil {
		var v service.Violations
		v.Add("open", "the first message of a stream must be open, naming the target")
		return v.Err()
	}
	if err := s.app.Authorize(p, open.GetTarget().GetDomain()); err != nil {
		return err
	}
	port, _, err := s.app.Prepare(ctx, open.GetTarget())
	if err != nil {
		return err
	}
	run := lineage.RunInfo{
		RunID: open.GetRunId(), Domain: open.GetTarget().GetDomain(), Product: open.GetTarget().GetProduct(),
		Port: port.GetName(), Source: open.GetSource(), Principal: p.Name,
	}
	if run.RunID == "" {
		run.RunID = uuid.NewString()
	} else if _, err := uuid.Parse(run.RunID); err != nil {
		var v service.Violations
		v.Add("open.run_id", "must be a UUID (OpenLineage run ids are UUIDs)")
		return v.Err()
	}
	s.emit(ctx, run, lineage.Start, lineage.Counts{}, "")
	counts, err := s.pipeline(ctx, stream, p, open.GetTarget(), run.RunID)
	switch {
	case err == nil:
		s.emit(ctx, run, lineage.Complete, counts, "")
		return nil
	case status.Code(err) == codes.Unavailable:
		// An Unavailable session is usually resumed by the client with the
		// same run id; the run is marked failed only otherwise.
		return err
	default:
		s.emit(ctx, run, lineage.Fail, counts, err.Error())
		return err
	}
}

// StreamPipelineDepth is how many batches of one stream are validated and
// published at once; their answers still go out in order.
const StreamPipelineDepth = 4

type batchResult struct {
	id  uint64
	out *app.Outcome
	err error
}

// pipeline runs the batches of a session: a receiving goroutine starts each
// batch as it arrives (up to StreamPipelineDepth at once), and this one
// sends the answers in arrival order. It returns at the client's EOF, or at
// the first error.
func (s *GRPCServer) pipeline(ctx context.Context,
	stream grpc.BidiStreamingServer[ingestionv1.IngestStreamRequest, ingestionv1.IngestStreamResponse],
	p auth.Principal, target *ingestionv1.Target, runID string) (lineage.Counts, error) {
	var counts lineage.Counts
	queue := make(chan chan batchResult, StreamPipelineDepth)
	recvErr := make(chan error, 1)
	go func() {
		defer close(queue)
		for {
			req, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				recvErr <- nil
				return
			}
			if err != nil {
				recvErr <- err
				return
			}
			b := req.GetBatch()
			if b == nil {
				var v service.Violations
				v.Add("batch", "after open, every message must be a batch")
				recvErr <- v.Err()
				return
			}
			done := make(chan batchResult, 1)
			select {
			case queue <- done:
			case <-ctx.Done():
				recvErr <- ctx.Err()
				return
			}
			go func() {
				out, err := s.app.Ingest(ctx, p, app.Batch{Target: target, Records: b.GetRecords(), RunID: runID})
				done <- batchResult{id: b.GetBatchId(), out: out, err: err}
			}()
		}
	}()
	sentRunID := false
	for done := range queue {
		r := <-done
		if r.err != nil {
			return counts, r.err
		}
		sum := r.out.Summary
		counts.Stored += int64(sum.GetStored())
		counts.Duplicates += int64(sum.GetDuplicates())
		counts.Rejected += int64(sum.GetRejected())
		counts.Errors += int64(sum.GetErrors())
		counts.Bytes += r.out.Bytes
		resp := &ingestionv1.IngestStreamResponse{BatchId: r.id, Records: r.out.Results, Summary: sum}
		if !sentRunID {
			resp.RunId, sentRunID = runID, true
		}
		if err := stream.Send(resp); err != nil {
			return counts, err
		}
	}
	return counts, <-recvErr
}

func (s *GRPCServer) emit(ctx context.Context, run lineage.RunInfo, typ string, c lineage.Counts, errMsg string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := lineage.Emit(ctx, s.bus, run, lineage.Build(typ, run, c, errMsg, time.Now())); err != nil {
		s.log.Warn("lineage event not published", "run", run.RunID, "type", typ, "err", err)
	}
}

// Quarantined records are raw producer data (possibly personal data), so
// only the owning domain reads them, like it writes them.
func (s *GRPCServer) ListQuarantine(ctx context.Context, req *ingestionv1.ListQuarantineRequest) (*ingestionv1.ListQuarantineResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.app.Authorize(p, req.GetDomain()); err != nil {
		return nil, err
	}
	return s.app.ListQuarantine(ctx, req)
}

func (s *GRPCServer) GetQuarantined(ctx context.Context, req *ingestionv1.GetQuarantinedRequest) (*ingestionv1.GetQuarantinedResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.app.Authorize(p, req.GetDomain()); err != nil {
		return nil, err
	}
	rec, err := s.app.GetQuarantined(ctx, req.GetDomain(), req.GetProduct(), req.GetSequence())
	if err != nil {
		return nil, err
	}
	return &ingestionv1.GetQuarantinedResponse{Record: rec}, nil
}

func (s *GRPCServer) ReplayQuarantine(ctx context.Context, req *ingestionv1.ReplayQuarantineRequest) (*ingestionv1.ReplayQuarantineResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.app.ReplayQuarantine(ctx, p, req)
}

func (s *GRPCServer) GetProductStats(ctx context.Context, req *ingestionv1.GetProductStatsRequest) (*ingestionv1.GetProductStatsResponse, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	st, err := s.app.ProductStats(ctx, req.GetDomain(), req.GetProduct())
	if err != nil {
		return nil, err
	}
	return &ingestionv1.GetProductStatsResponse{Stats: st}, nil
}
