package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	batchresults "github.com/aifactory/aifactory/services/ingestion/results"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
)

// fakeIngestion is a test double of the ingestion service for the CLI's
// own wiring. Its IngestStream stores each record under a stable id (the
// hash of its JSON), answers DUPLICATE for an id stored before, REJECTED
// for records with "bad": true, and can fail one stream once, after
// storing a batch it then never acknowledges — as a server whose NATS
// restarts would.
type fakeIngestion struct {
	ingestionv1.UnimplementedIngestionServiceServer

	mu sync.Mutex
	// Settings.
	failAfter int        // fail once when batch number failAfter+1 arrives (0: never)
	failCode  codes.Code // the status of that failure
	holdAcks  int        // acknowledge only when this many batches wait (0, 1: at once)
	// What happened.
	failed         bool
	opens          []*ingestionv1.StreamOpen
	batches        int            // batches received, over all streams
	batchSizes     []int          // records per batch received
	stored         map[string]int // id → times stored
	maxOutstanding int            // most batches received and not yet acknowledged
	seq            uint64
	// Unary replies.
	requests []any
}

func newFakeIngestion() *fakeIngestion { return &fakeIngestion{stored: map[string]int{}} }

func recordID(json []byte) string {
	h := sha256.Sum256(json)
	return hex.EncodeToString(h[:8])
}

func (f *fakeIngestion) IngestStream(stream grpc.BidiStreamingServer[ingestionv1.IngestStreamRequest, ingestionv1.IngestStreamResponse]) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	open := req.GetOpen()
	if open == nil {
		return status.Error(codes.InvalidArgument, "the first message must be open")
	}
	if open.GetTarget().GetProduct() == "nope" {
		return status.Errorf(codes.NotFound, "data product %s/nope not found", open.GetTarget().GetDomain())
	}
	f.mu.Lock()
	f.opens = append(f.opens, open)
	f.mu.Unlock()
	runID := open.GetRunId()
	if runID == "" {
		runID = "server-run"
	}
	var queue []*ingestionv1.Batch
	first := true
	flush := func() error {
		for _, b := range queue {
			resp := f.process(b)
			if first {
				resp.RunId, first = runID, false
			}
			if err := stream.Send(resp); err != nil {
				return err
			}
		}
		queue = queue[:0]
		return nil
	}
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return err
		}
		b := req.GetBatch()
		f.mu.Lock()
		f.batches++
		f.batchSizes = append(f.batchSizes, len(b.GetRecords()))
		fail := f.failAfter > 0 && !f.failed && f.batches > f.failAfter
		if fail {
			f.failed = true
		}
		f.mu.Unlock()
		if fail {
			f.process(b) // stored, never acknowledged
			return status.Error(f.failCode, "nats: connection closed")
		}
		queue = append(queue, b)
		f.mu.Lock()
		f.maxOutstanding = max(f.maxOutstanding, len(queue))
		f.mu.Unlock()
		if len(queue) >= max(f.holdAcks, 1) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

func (f *fakeIngestion) process(b *ingestionv1.Batch) *ingestionv1.IngestStreamResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &ingestionv1.IngestStreamResponse{BatchId: b.GetBatchId(), Summary: &ingestionv1.BatchSummary{ContractVersion: "1.2.0", Subject: "data.sales.orders.v1"}}
	var problems []*ingestionv1.RecordResult
	for i, r := range b.GetRecords() {
		id := recordID(r.GetJson())
		res := &ingestionv1.RecordResult{Index: int32(i), MessageId: id}
		f.seq++
		switch {
		case strings.Contains(string(r.GetJson()), `"bad":true`) || strings.Contains(string(r.GetJson()), `"bad":"true"`):
			res.Outcome, res.Sequence = ingestionv1.Outcome_OUTCOME_REJECTED, f.seq
			res.Violations = []*ingestionv1.RecordViolation{{Field: "amount", Rule: "minimum", Value: "-1", Description: "must be at least 0"}}
			resp.Summary.Rejected++
		case f.stored[id] > 0:
			res.Outcome = ingestionv1.Outcome_OUTCOME_DUPLICATE
			resp.Summary.Duplicates++
		default:
			f.stored[id]++
			res.Outcome, res.Sequence = ingestionv1.Outcome_OUTCOME_STORED, f.seq
			resp.Summary.Stored++
		}
		problems = append(problems, res)
	}
	rb := batchresults.NewBuilder(len(problems))
	for i, r := range problems {
		switch r.GetOutcome() {
		case ingestionv1.Outcome_OUTCOME_REJECTED, ingestionv1.Outcome_OUTCOME_ERROR:
			rb.Problem(i, r.GetOutcome(), r.GetSequence(), r.GetMessageId(), r.GetViolations(), r.GetError())
		default:
			rb.Set(i, r.GetOutcome(), r.GetSequence(), r.GetMessageId())
		}
	}
	resp.Records = rb.Build()
	return resp
}

func (f *fakeIngestion) snapshot() (opens []*ingestionv1.StreamOpen, batches int, stored map[string]int, maxOut int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stored = map[string]int{}
	for k, v := range f.stored {
		stored[k] = v
	}
	return append([]*ingestionv1.StreamOpen(nil), f.opens...), f.batches, stored, f.maxOutstanding
}

func startIngestion(t *testing.T, f *fakeIngestion) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ingestionv1.RegisterIngestionServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// fastRetries makes reconnects immediate for the test.
func fastRetries(t *testing.T) {
	t.Helper()
	saved := ingestTuning
	ingestTuning.backoff, ingestTuning.maxBackoff = time.Millisecond, 5*time.Millisecond
	t.Cleanup(func() { ingestTuning = saved })
}

// writeJSONL writes n records {"id":i,"amount":i} and returns the path.
func writeJSONL(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"amount":%d}`+"\n", i, i)
	}
	return writeFile(t, dir, "orders.jsonl", b.String())
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func ingestSummary(t *testing.T, stdout string) output.IngestSummary {
	t.Helper()
	var s output.IngestSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout)
	}
	return s
}

func TestIngestFile(t *testing.T) {
	fastRetries(t)
	tests := []struct {
		name     string
		fake     func(*fakeIngestion)
		file     func(t *testing.T, dir string) string
		args     []string
		wantCode int
		wantErr  []string
		check    func(t *testing.T, f *fakeIngestion, s output.IngestSummary)
	}{
		{
			name: "pipelines up to --inflight batches",
			fake: func(f *fakeIngestion) { f.holdAcks = 3 },
			file: func(t *testing.T, dir string) string { return writeJSONL(t, dir, 95) },
			args: []string{"--batch", "10", "--inflight", "3"},
			check: func(t *testing.T, f *fakeIngestion, s output.IngestSummary) {
				opens, batches, stored, maxOut := f.snapshot()
				if batches != 10 || maxOut != 3 {
					t.Errorf("batches = %d, most outstanding = %d; want 10 and 3", batches, maxOut)
				}
				if f.batchSizes[0] != 10 || f.batchSizes[9] != 5 {
					t.Errorf("batch sizes = %v", f.batchSizes)
				}
				if len(stored) != 95 {
					t.Errorf("stored %d distinct records, want 95", len(stored))
				}
				o := opens[0]
				if o.GetTarget().GetDomain() != "sales" || o.GetTarget().GetProduct() != "orders" || o.GetTarget().GetPort() != "v1" ||
					o.GetTarget().GetEventTimeField() != "ordered_at" || o.GetTarget().GetCoerceText() || o.GetSource() != "orders.jsonl" || o.GetRunId() == "" {
					t.Errorf("open = %v", o)
				}
				if s.Read != 95 || s.Stored != 95 || s.Duplicates != 0 || s.Rejected != 0 || s.RunID != o.GetRunId() || s.ContractVersion != "1.2.0" {
					t.Errorf("summary = %+v", s)
				}
			},
		},
		{
			name: "one inflight batch at a time",
			file: func(t *testing.T, dir string) string { return writeJSONL(t, dir, 25) },
			args: []string{"--batch", "10", "--inflight", "1"},
			check: func(t *testing.T, f *fakeIngestion, s output.IngestSummary) {
				if _, batches, _, maxOut := f.snapshot(); batches != 3 || maxOut != 1 {
					t.Errorf("batches = %d, most outstanding = %d", batches, maxOut)
				}
			},
		},
		{
			name: "per-item reader errors are counted and the load goes on",
			file: func(t *testing.T, dir string) string {
				return writeFile(t, dir, "orders.ndjson", `{"id":1}`+"\n"+`{"id":2,`+"\n\n"+`[1,2]`+"\n"+`{"id":3,"bad":true}`+"\n"+`{"id":4}`)
			},
			args:    []string{"--batch", "2"},
			wantErr: []string{"line 2: unreadable: unexpected end of JSON input\n", "line 4: unreadable: not a JSON object\n", "line 5: rejected: amount: minimum (must be at least 0) [quarantine #"},
			check: func(t *testing.T, f *fakeIngestion, s output.IngestSummary) {
				if s.Read != 5 || s.Stored != 2 || s.Rejected != 3 || s.Unreadable != 2 || s.RejectedByRule["unreadable"] != 2 || s.RejectedByRule["minimum"] != 1 {
					t.Errorf("summary = %+v", s)
				}
				if len(s.Problems) != 3 || s.Problems[0].Line != 2 {
					t.Errorf("problems = %+v", s.Problems)
				}
			},
		},
		{
			name: "CSV: text coerced, wrong column count unreadable",
			file: func(t *testing.T, dir string) string {
				return writeFile(t, dir, "orders.CSV", "id,amount,note\n1,10,\n2,20,x,extra\n3,30,ok\n")
			},
			wantErr: []string{"line 3: unreadable: 4 fields, the header has 3\n"},
			check: func(t *testing.T, f *fakeIngestion, s output.IngestSummary) {
				opens, _, stored, _ := f.snapshot()
				if !opens[0].GetTarget().GetCoerceText() {
					t.Error("coerce_text not set for CSV")
				}
				if stored[recordID([]byte(`{"id":"1","amount":"10"}`))] != 1 || stored[recordID([]byte(`{"id":"3","amount":"30","note":"ok"}`))] != 1 {
					t.Errorf("stored = %v", stored)
				}
				if s.Read != 3 || s.Stored != 2 || s.Unreadable != 1 {
					t.Errorf("summary = %+v", s)
				}
			},
		},
		{
			name: "only the first 10 problems without -v",
			file: func(t *testing.T, dir string) string {
				return writeFile(t, dir, "bad.jsonl", strings.Repeat("nope\n", 12)+`{"id":1}`+"\n")
			},
			wantErr: []string{"line 10: unreadable", "… and 2 more (-v lists them all)"},
			check: func(t *testing.T, f *fakeIngestion, s output.IngestSummary) {
				if len(s.Problems) != 10 || s.Unreadable != 12 || s.Stored != 1 {
					t.Errorf("summary = %+v", s)
				}
			},
		},
		{
			name: "every problem with -v",
			file: func(t *testing.T, dir string) string {
				return writeFile(t, dir, "bad.jsonl", strings.Repeat("nope\n", 12))
			},
			args:    []string{"-v"},
			wantErr: []string{"line 12: unreadable"},
			check: func(t *testing.T, f *fakeIngestion, s output.IngestSummary) {
				if _, batches, _, _ := f.snapshot(); batches != 0 || len(s.Problems) != 12 || s.Read != 12 {
					t.Errorf("batches = %d, summary = %+v", batches, s)
				}
			},
		},
		{
			name:    "reconnects after Unavailable and sends only unacknowledged batches again",
			fake:    func(f *fakeIngestion) { f.failAfter, f.failCode = 3, codes.Unavailable },
			file:    func(t *testing.T, dir string) string { return writeJSONL(t, dir, 95) },
			args:    []string{"--batch", "10", "--inflight", "4"},
			wantErr: []string{"Stream interrupted (nats: connection closed): reconnecting in 1ms (retry 1 of 10)"},
			check: func(t *testing.T, f *fakeIngestion, s output.IngestSummary) {
				opens, _, stored, _ := f.snapshot()
				if len(opens) != 2 || opens[1].GetRunId() != opens[0].GetRunId() {
					t.Errorf("opens = %v", opens)
				}
				for id, n := range stored {
					if n != 1 {
						t.Errorf("record %s stored %d times", id, n)
					}
				}
				// Batch 4 was stored but not acknowledged: sent again, its
				// records come back as duplicates.
				if len(stored) != 95 || s.Stored != 85 || s.Duplicates != 10 || s.Read != 95 || s.Reconnects != 1 {
					t.Errorf("stored %d, summary = %+v", len(stored), s)
				}
			},
		},
		{
			name:     "gives up after --retries",
			fake:     func(f *fakeIngestion) { f.failAfter, f.failCode = 1, codes.Unavailable },
			file:     func(t *testing.T, dir string) string { return writeJSONL(t, dir, 30) },
			args:     []string{"--batch", "10", "--retries", "0"},
			wantCode: 1,
			wantErr:  []string{"Giving up after 0 retries.", "Error: Unavailable: nats: connection closed", "run the same command with --resume"},
		},
		{
			name:     "server error at open",
			file:     func(t *testing.T, dir string) string { return writeJSONL(t, dir, 3) },
			args:     []string{"--product", "sales/nope"},
			wantCode: 1,
			wantErr:  []string{"Error: NotFound: data product sales/nope not found"},
		},
		{name: "bad --batch", file: func(t *testing.T, dir string) string { return writeJSONL(t, dir, 1) }, args: []string{"--batch", "0"}, wantCode: 2, wantErr: []string{"--batch must be between 1 and 10000"}},
		{name: "unknown extension", file: func(t *testing.T, dir string) string { return writeFile(t, dir, "x.txt", "") }, wantCode: 2, wantErr: []string{"pass --format csv or --format jsonl"}},
		{name: "missing file", file: func(t *testing.T, dir string) string { return filepath.Join(dir, "none.jsonl") }, wantCode: 1, wantErr: []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIngestion()
			if tt.fake != nil {
				tt.fake(f)
			}
			addr := startIngestion(t, f)
			dir := t.TempDir()
			file := tt.file(t, dir)
			args := append([]string{"--addr", addr, "--token", "t", "-o", "json", "ingest", "file", "--product", "sales/orders", "--port", "v1", "--event-time-field", "ordered_at"}, tt.args...)
			r := runCLI(t, nil, "", append(args, file)...)
			if r.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tt.wantCode == 0 {
				if _, err := os.Stat(file + checkpointSuffix); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the checkpoint is left after a completed load: %v", err)
				}
			}
			if tt.check != nil {
				tt.check(t, f, ingestSummary(t, r.stdout))
			}
		})
	}
}

func TestIngestFileResume(t *testing.T) {
	fastRetries(t)
	f := newFakeIngestion()
	f.failAfter, f.failCode = 5, codes.Internal // not retried: the CLI stops as if it had crashed
	addr := startIngestion(t, f)
	dir := t.TempDir()
	file := writeJSONL(t, dir, 95)
	// Line 73, read after the resume, is unreadable.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), `{"id":73,"amount":73}`, `{"id":73,"amount":7`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	ckptPath := filepath.Join(dir, "load.ckpt")
	args := []string{"--addr", addr, "--token", "t", "ingest", "file", "--product", "sales/orders", "--batch", "10", "--inflight", "2", "--checkpoint", ckptPath, file}

	r := runCLI(t, nil, "", args...)
	if r.code != 1 || !strings.Contains(r.stderr, "Error: Internal: nats: connection closed") || !strings.Contains(r.stderr, "The load stopped after line 50; "+ckptPath+" holds its progress") {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	ckpt, err := readCheckpoint(ckptPath)
	if err != nil {
		t.Fatal(err)
	}
	if ckpt.Line != 50 || ckpt.NextLine != 51 || ckpt.Counters.Read != 50 || ckpt.Counters.Stored != 50 || ckpt.RunID == "" {
		t.Fatalf("checkpoint = %+v", ckpt)
	}
	if want := int64(len(`{"id":1,"amount":1}`+"\n")*9 + len(`{"id":10,"amount":10}`+"\n")*41); ckpt.Offset != want {
		t.Errorf("checkpoint offset = %d, want %d (after line 50)", ckpt.Offset, want)
	}

	r = runCLI(t, nil, "", args...)
	if r.code != 1 || !strings.Contains(r.stderr, "continue it with --resume, or delete the checkpoint") {
		t.Fatalf("second run without --resume: exit %d\n%s", r.code, r.stderr)
	}

	r = runCLI(t, nil, "", append([]string{"-o", "yaml"}, append(args[:len(args)-1], "--resume", file)...)...)
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Resuming run "+ckpt.RunID+" after line 50") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	for _, want := range []string{"read: 95\n", "stored: 84\n", "duplicates: 10\n", "unreadable: 1\n", "  - line: 73\n    outcome: unreadable\n", "resumed: true\n", "runId: " + ckpt.RunID + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	opens, _, stored, _ := f.snapshot()
	if len(opens) != 2 || opens[1].GetRunId() != ckpt.RunID {
		t.Errorf("the resumed load must continue run %s: opens = %v", ckpt.RunID, opens)
	}
	if len(stored) != 94 {
		t.Errorf("stored %d distinct records, want 94", len(stored))
	}
	for id, n := range stored {
		if n != 1 {
			t.Errorf("record %s stored %d times", id, n)
		}
	}
	if _, err := os.Stat(ckptPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("checkpoint not removed: %v", err)
	}
}

func TestIngestFileResumeRefusesAChangedFile(t *testing.T) {
	dir := t.TempDir()
	file := writeJSONL(t, dir, 5)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	ckpt := &checkpoint{File: file, Size: fi.Size() - 1, MTime: fi.ModTime(), Format: formatJSONL, Product: "sales/orders", RunID: "r1"}
	if err := writeCheckpoint(file+checkpointSuffix, ckpt); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "", "--addr", "127.0.0.1:1", "--token", "t", "ingest", "file", "--product", "sales/orders", "--resume", file)
	if r.code != 1 || !strings.Contains(r.stderr, "the checkpoint was written for") || !strings.Contains(r.stderr, "remove "+file+checkpointSuffix) {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}

func TestIngestFileUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	file := writeJSONL(t, t.TempDir(), 3)
	start := time.Now()
	r := runCLI(t, nil, "", "--addr", addr, "--token", "t", "ingest", "file", "--product", "sales/orders", file)
	if r.code != 1 || !strings.Contains(r.stderr, "Error: the mesh at "+addr+" is not reachable") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: an unreachable mesh must not be retried", d)
	}
}

func TestIngestFileTableSummary(t *testing.T) {
	f := newFakeIngestion()
	addr := startIngestion(t, f)
	file := writeFile(t, t.TempDir(), "o.jsonl", `{"id":1}`+"\n"+`{"id":2,"bad":true}`+"\n"+`oops`+"\n")
	r := runCLI(t, nil, "", "--addr", addr, "--token", "t", "ingest", "file", "--product", "sales/orders", file)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Records read:  3\n", "Stored:        1\n", "Rejected:      2 (minimum 1, unreadable 1)\n", "Port:          v1 (contract 1.2.0)\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

// Unary RPCs of the fake, for stats and quarantine.

func (f *fakeIngestion) record(req any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
}

func (f *fakeIngestion) last() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

var fakeTime = timestamppb.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))

func (f *fakeIngestion) GetProductStats(_ context.Context, req *ingestionv1.GetProductStatsRequest) (*ingestionv1.GetProductStatsResponse, error) {
	f.record(req)
	return &ingestionv1.GetProductStatsResponse{Stats: &ingestionv1.ProductStats{
		Domain: req.GetDomain(), Product: req.GetProduct(), Accepted: 12345, Duplicates: 7, Rejected: 3,
		RejectedByRule: map[string]int64{"required": 2, "pattern": 1}, Bytes: 5 << 20,
		LastEventTime: fakeTime, LastIngestTime: fakeTime, MaxFreshnessSeconds: 3600, FreshnessSeconds: 7500, FreshnessOk: false,
	}}, nil
}

var fakeQuarantined = []*ingestionv1.QuarantinedRecord{
	{Sequence: 7, Domain: "sales", Product: "orders", Port: "v1", ContractVersion: "1.2.0", Time: fakeTime, Raw: []byte(`{"id":7,"amount":-1}`),
		Violations: []*ingestionv1.RecordViolation{{Field: "amount", Rule: "minimum", Value: "-1", Description: "must be at least 0"}}},
	{Sequence: 9, Domain: "sales", Product: "orders", Port: "v1", ContractVersion: "1.2.0", Time: fakeTime, Raw: []byte(`{"id":9}`), Replayed: true, ReplayedSequence: 120,
		Violations: []*ingestionv1.RecordViolation{{Field: "amount", Rule: "required"}, {Field: "customer", Rule: "required"}, {Field: "x", Rule: "unknown_field"}, {Field: "y", Rule: "unknown_field"}}},
}

func (f *fakeIngestion) ListQuarantine(_ context.Context, req *ingestionv1.ListQuarantineRequest) (*ingestionv1.ListQuarantineResponse, error) {
	f.record(req)
	if req.GetPageToken() == "" {
		return &ingestionv1.ListQuarantineResponse{Records: fakeQuarantined[:1], NextPageToken: "p2"}, nil
	}
	return &ingestionv1.ListQuarantineResponse{Records: fakeQuarantined[1:]}, nil
}

func (f *fakeIngestion) GetQuarantined(_ context.Context, req *ingestionv1.GetQuarantinedRequest) (*ingestionv1.GetQuarantinedResponse, error) {
	f.record(req)
	for _, r := range fakeQuarantined {
		if r.GetSequence() == req.GetSequence() {
			return &ingestionv1.GetQuarantinedResponse{Record: r}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "no quarantined record %d", req.GetSequence())
}

func (f *fakeIngestion) ReplayQuarantine(_ context.Context, req *ingestionv1.ReplayQuarantineRequest) (*ingestionv1.ReplayQuarantineResponse, error) {
	f.record(req)
	return &ingestionv1.ReplayQuarantineResponse{
		Results: []*ingestionv1.ReplayResult{
			{Sequence: 7, Outcome: ingestionv1.Outcome_OUTCOME_STORED, DataSequence: 130},
			{Sequence: 8, Outcome: ingestionv1.Outcome_OUTCOME_REJECTED, Violations: fakeQuarantined[1].GetViolations()},
			{Sequence: 9, Outcome: ingestionv1.Outcome_OUTCOME_DUPLICATE},
		},
		Stored: 1, StillRejected: 1, AlreadyReplayed: 1, ContractVersion: "1.3.0",
	}, nil
}
