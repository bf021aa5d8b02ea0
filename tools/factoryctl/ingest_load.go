package main

import (
	"context"
	"errors"
	"fmt"
	batchresults "github.com/aifactory/aifactory/services/ingestion/results"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/client"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
)

// Limits of one batch. The server takes at most 10,000 records and 16 MiB
// per batch; gRPC servers receive messages of at most 4 MiB by default, so
// batches are cut before that.
const (
	maxBatchRecords = 10_000
	maxBatchBytes   = 3 << 20
)

// unreadableRule is the rule under which records the client could not read
// are counted as rejected.
const unreadableRule = "unreadable"

// loadOptions configure a loader.
type loadOptions struct {
	Open      *ingestionv1.StreamOpen
	BatchSize int
	// Inflight is how many batches may be sent and not yet acknowledged.
	Inflight int
	// Retries is how many times in a row a stream that failed with
	// Unavailable is reopened.
	Retries int
	// Backoff is the delay before the first retry; it doubles up to
	// MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// AckTimeout is how long a sent batch may wait for its
	// acknowledgement before the stream counts as broken; 0: forever.
	AckTimeout time.Duration
	// KeepProblems is how many problems (unreadable, rejected or failed
	// records) are kept for the report; < 0 keeps all.
	KeepProblems int
	// Start is where a resumed load continues: the position after its last
	// acknowledged record and its counters.
	Start loadState
	// OnAck is called, in order, after each acknowledged batch with the
	// load's new position; an error stops the load.
	OnAck func(loadState) error
	// Notify prints a line for the user (reconnects).
	Notify func(string)
	// Addr names the server in an UnreachableError.
	Addr string
}

// loadState is the position of a load after its last acknowledged batch.
type loadState struct {
	Offset int64
	// Line is the line of the last record; NextLine the line at Offset.
	Line     int64
	NextLine int64
	RunID    string
	Counters loadCounters
}

// pendingBatch is a batch read and sent but not yet acknowledged. It is
// kept until its acknowledgement, to be sent again on a new stream.
type pendingBatch struct {
	id    uint64
	req   *ingestionv1.IngestStreamRequest // nil: no records (unreadable ones only); never sent
	lines []int64                          // line of each record
	// local counts what the client itself found while reading the batch:
	// the records read and the unreadable ones.
	local    loadCounters
	problems []output.LoadProblem
	// endOffset, endLine and endNext are the position after the batch's
	// last item: its Offset, Line and NextLine.
	endOffset, endLine, endNext int64
}

// loader streams the records of an itemReader through IngestStream,
// keeping up to Inflight batches unacknowledged, and reopens the stream
// after Unavailable, sending again only the batches not acknowledged.
type loader struct {
	cl    ingestionv1.IngestionServiceClient
	opts  loadOptions
	items itemReader

	// Reading state, owned by the sending goroutine.
	held     *item // read but not yet batched
	eof      bool
	lastLine int64 // line of the last item read
	nextID   uint64

	acked chan struct{} // signalled after each acknowledgement

	reportMu sync.Mutex
	reported int64 // Counters.Read of the last position reported

	mu         sync.Mutex
	pending    []*pendingBatch
	readDone   bool // every item was read and batched
	state      loadState
	problems   []output.LoadProblem
	contract   string
	subject    string
	connected  bool // a response arrived at some point
	reconnects int
}

func newLoader(cl ingestionv1.IngestionServiceClient, items itemReader, opts loadOptions) *loader {
	if opts.Inflight < 1 {
		opts.Inflight = 1
	}
	if opts.BatchSize < 1 {
		opts.BatchSize = 1
	}
	return &loader{
		cl: cl, opts: opts, items: items,
		acked: make(chan struct{}, 1), reported: -1,
		state: loadState{
			Offset: opts.Start.Offset, Line: opts.Start.Line, NextLine: opts.Start.NextLine,
			RunID: opts.Open.GetRunId(), Counters: opts.Start.Counters.clone(),
		},
	}
}

// snapshot returns the load's progress for the progress bar.
func (l *loader) snapshot(total int64) progress.Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.state.Counters
	return progress.Snapshot{
		Records: c.Read, Bytes: l.state.Offset, TotalBytes: total,
		Stored: c.Stored, Duplicates: c.Duplicates, Rejected: c.Rejected, Errors: c.Errors,
	}
}

// result returns the final position, the problems kept, and the contract
// version and subject of the last batch.
func (l *loader) result() (loadState, []output.LoadProblem, string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state
	st.Counters = st.Counters.clone()
	return st, slices.Clone(l.problems), l.contract, l.subject
}

// run loads every record. It returns nil once every batch was
// acknowledged.
func (l *loader) run(ctx context.Context) error {
	failures := 0
	for {
		progressed, err := l.session(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if status.Code(err) != codes.Unavailable {
			return err
		}
		l.mu.Lock()
		connected, unacked := l.connected, l.unsentCountLocked()
		l.mu.Unlock()
		if !connected && client.IsConnectionError(err) {
			return &client.UnreachableError{Addr: l.opts.Addr, Err: err}
		}
		if progressed {
			failures = 0
		}
		failures++
		if failures > l.opts.Retries {
			l.notify(fmt.Sprintf("Giving up after %d retries.", l.opts.Retries))
			return err
		}
		delay := l.backoff(failures)
		l.notify(fmt.Sprintf("Stream interrupted (%s): reconnecting in %s (retry %d of %d), resending %d unacknowledged batch(es)",
			status.Convert(err).Message(), delay, failures, l.opts.Retries, unacked))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		l.mu.Lock()
		l.reconnects++
		l.mu.Unlock()
	}
}

func (l *loader) backoff(failures int) time.Duration {
	d := l.opts.Backoff
	for i := 1; i < failures && d < l.opts.MaxBackoff; i++ {
		d *= 2
	}
	if l.opts.MaxBackoff > 0 {
		d = min(d, l.opts.MaxBackoff)
	}
	return d
}

func (l *loader) notify(msg string) {
	if l.opts.Notify != nil {
		l.opts.Notify(msg)
	}
}

// errStalled ends a stream on which an acknowledgement is overdue.
var errStalled = errors.New("acknowledgement overdue")

// session runs one stream: it opens it, sends again the batches still
// unacknowledged, then reads and sends new batches while a receiver
// applies the acknowledgements. progressed reports that at least one batch
// was acknowledged.
func (l *loader) session(ctx context.Context) (progressed bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The stream lives in the group's context: when either side fails,
	// the other one's Send or Recv returns.
	g, gctx := errgroup.WithContext(ctx)
	stream, err := l.cl.IngestStream(gctx)
	if err != nil {
		return false, err
	}
	var watchdog *time.Timer
	if l.opts.AckTimeout > 0 {
		watchdog = time.AfterFunc(l.opts.AckTimeout, func() { cancel(errStalled) })
		watchdog.Stop()
		defer watchdog.Stop()
	}
	// arm starts the watchdog when something awaits an acknowledgement.
	arm := func() {
		if watchdog == nil {
			return
		}
		l.mu.Lock()
		n := l.unsentCountLocked()
		l.mu.Unlock()
		if n > 0 {
			watchdog.Reset(l.opts.AckTimeout)
		} else {
			watchdog.Stop()
		}
	}

	open := &ingestionv1.IngestStreamRequest{Msg: &ingestionv1.IngestStreamRequest_Open{Open: l.openMsg()}}
	var acks int
	g.Go(func() error {
		return l.send(gctx, stream, open, arm)
	})
	g.Go(func() error {
		for {
			resp, err := stream.Recv()
			if err == io.EOF {
				l.mu.Lock()
				n, done := l.unsentCountLocked(), l.readDone
				l.mu.Unlock()
				if n > 0 || !done {
					return status.Errorf(codes.Unavailable, "the server ended the stream with %d batch(es) unacknowledged", n)
				}
				return nil
			}
			if err != nil {
				return err
			}
			acked, err := l.ack(resp)
			if err != nil {
				return err
			}
			if acked {
				acks++
				arm()
			}
		}
	})
	err = g.Wait()
	if errors.Is(context.Cause(ctx), errStalled) {
		err = status.Errorf(codes.Unavailable, "no acknowledgement from the server within %s", l.opts.AckTimeout)
	}
	return acks > 0, err
}

// openMsg is the session's StreamOpen, with the run id of the load (which
// the server may have chosen on the first stream).
func (l *loader) openMsg() *ingestionv1.StreamOpen {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &ingestionv1.StreamOpen{Target: l.opts.Open.GetTarget(), Source: l.opts.Open.GetSource(), RunId: l.state.RunID}
}

// send sends the open message, the batches still pending from an earlier
// stream, then new batches as long as fewer than Inflight are
// unacknowledged, and finally closes its side of the stream.
func (l *loader) send(ctx context.Context, stream ingestionv1.IngestionService_IngestStreamClient, open *ingestionv1.IngestStreamRequest, arm func()) error {
	// A failed Send reports io.EOF; the stream's status comes from Recv,
	// so the sender just stops.
	if err := stream.Send(open); err != nil {
		return nil
	}
	l.mu.Lock()
	resend := slices.Clone(l.pending)
	l.mu.Unlock()
	for _, b := range resend {
		if b.req == nil {
			continue
		}
		if err := stream.Send(b.req); err != nil {
			return nil
		}
		arm()
	}
	for {
		l.mu.Lock()
		n, done := l.unsentCountLocked(), l.readDone
		l.mu.Unlock()
		if done {
			break
		}
		if n >= l.opts.Inflight {
			select {
			case <-l.acked:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		b, err := l.nextBatch()
		if err != nil {
			return err
		}
		l.mu.Lock()
		if b == nil {
			l.readDone = true
		} else {
			l.pending = append(l.pending, b)
		}
		l.commitLocalLocked()
		st := l.state
		st.Counters = st.Counters.clone()
		l.mu.Unlock()
		if b == nil {
			break
		}
		if b.req == nil {
			// Unreadable records only, at the end: nothing to send. When it
			// was committed right away, report the new position.
			if err := l.reportCommitted(st); err != nil {
				return err
			}
			continue
		}
		if err := stream.Send(b.req); err != nil {
			return nil
		}
		arm()
	}
	if err := stream.CloseSend(); err != nil {
		return nil
	}
	return nil
}

// reportCommitted hands a new position to OnAck. The sender (for a tail
// of unreadable records) and the receiver both commit, so the calls are
// serialized here and a position older than one already reported is
// dropped.
func (l *loader) reportCommitted(st loadState) error {
	if l.opts.OnAck == nil {
		return nil
	}
	l.reportMu.Lock()
	defer l.reportMu.Unlock()
	if st.Counters.Read <= l.reported {
		return nil
	}
	l.reported = st.Counters.Read
	st.Counters = st.Counters.clone()
	return l.opts.OnAck(st)
}

// unsentCountLocked counts the pending batches that await an
// acknowledgement.
func (l *loader) unsentCountLocked() int {
	n := 0
	for _, b := range l.pending {
		if b.req != nil {
			n++
		}
	}
	return n
}

// nextBatch reads the next batch: up to BatchSize records (fewer to stay
// under maxBatchBytes) with the unreadable items between them. It returns
// nil at the end of the input.
func (l *loader) nextBatch() (*pendingBatch, error) {
	if l.eof && l.held == nil {
		return nil, nil
	}
	l.nextID++
	b := &pendingBatch{id: l.nextID}
	var (
		recs  []*ingestionv1.Record
		size  int
		empty = true
	)
	for len(recs) < l.opts.BatchSize {
		var it item
		if l.held != nil {
			it, l.held = *l.held, nil
		} else {
			if l.eof {
				break
			}
			var err error
			it, err = l.items.Next()
			if err == io.EOF {
				l.eof = true
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read the input after line %d: %w", l.lastLine, err)
			}
		}
		if it.Err == nil && len(recs) > 0 && size+len(it.JSON) > maxBatchBytes {
			l.held = &it
			break
		}
		empty = false
		l.lastLine = it.Line
		b.local.Read++
		b.endOffset, b.endLine, b.endNext = it.Offset, it.Line, it.NextLine
		if it.Err != nil {
			b.local.Rejected++
			b.local.Unreadable++
			b.local.addRule(unreadableRule, 1)
			// The reader's errors may name the line, which the report does too.
			detail := strings.TrimPrefix(it.Err.Error(), fmt.Sprintf("line %d: ", it.Line))
			b.problems = append(b.problems, output.LoadProblem{Line: it.Line, Outcome: unreadableRule, Detail: detail})
			continue
		}
		size += len(it.JSON)
		recs = append(recs, &ingestionv1.Record{Json: it.JSON})
		b.lines = append(b.lines, it.Line)
	}
	if empty {
		return nil, nil
	}
	if len(recs) > 0 {
		b.req = &ingestionv1.IngestStreamRequest{Msg: &ingestionv1.IngestStreamRequest_Batch{
			Batch: &ingestionv1.Batch{BatchId: b.id, Records: recs},
		}}
	}
	return b, nil
}

// ack applies one response. acked is false for a response that
// acknowledges no batch (the server's answer to the open message).
func (l *loader) ack(resp *ingestionv1.IngestStreamResponse) (acked bool, err error) {
	l.mu.Lock()
	l.connected = true
	if id := resp.GetRunId(); id != "" {
		l.state.RunID = id
	}
	recs := batchresults.Expand(resp.GetRecords())
	if resp.GetBatchId() == 0 && len(recs) == 0 {
		l.mu.Unlock()
		return false, nil
	}
	if len(l.pending) == 0 || l.pending[0].req == nil || l.pending[0].id != resp.GetBatchId() {
		want := "none"
		if len(l.pending) > 0 {
			want = fmt.Sprint(l.pending[0].id)
		}
		l.mu.Unlock()
		return false, fmt.Errorf("protocol error: the server acknowledged batch %d, expected %s", resp.GetBatchId(), want)
	}
	b := l.pending[0]
	if n := len(b.lines); len(recs) != n {
		l.mu.Unlock()
		return false, fmt.Errorf("protocol error: %d results for batch %d of %d records", len(recs), b.id, n)
	}
	l.pending = l.pending[1:]
	c := b.local.clone()
	problems := b.problems
	for _, r := range recs {
		line := int64(0)
		if i := int(r.GetIndex()); i >= 0 && i < len(b.lines) {
			line = b.lines[i]
		}
		switch r.GetOutcome() {
		case ingestionv1.Outcome_OUTCOME_STORED:
			c.Stored++
		case ingestionv1.Outcome_OUTCOME_DUPLICATE:
			c.Duplicates++
		case ingestionv1.Outcome_OUTCOME_REJECTED:
			c.Rejected++
			var vs []string
			for _, v := range r.GetViolations() {
				c.addRule(v.GetRule(), 1)
				vs = append(vs, violationText(v))
			}
			problems = append(problems, output.LoadProblem{Line: line, Outcome: "rejected", Detail: strings.Join(vs, "; "), Sequence: r.GetSequence()})
		default:
			c.Errors++
			problems = append(problems, output.LoadProblem{Line: line, Outcome: "error", Detail: r.GetError()})
		}
	}
	if s := resp.GetSummary(); s != nil {
		l.contract, l.subject = s.GetContractVersion(), s.GetSubject()
	}
	l.commitLocked(b, c, problems)
	l.commitLocalLocked()
	st := l.state
	st.Counters = st.Counters.clone()
	l.mu.Unlock()

	select {
	case l.acked <- struct{}{}:
	default:
	}
	return true, l.reportCommitted(st)
}

// violationText is "field: rule (value)".
func violationText(v *ingestionv1.RecordViolation) string {
	s := v.GetRule()
	if f := v.GetField(); f != "" {
		s = f + ": " + s
	}
	if d := v.GetDescription(); d != "" {
		s += " (" + d + ")"
	}
	return s
}

// commitLocked moves the load's position past b.
func (l *loader) commitLocked(b *pendingBatch, c loadCounters, problems []output.LoadProblem) {
	l.state.Counters.add(c)
	l.state.Offset, l.state.Line, l.state.NextLine = b.endOffset, b.endLine, b.endNext
	slices.SortStableFunc(problems, func(x, y output.LoadProblem) int { return int(x.Line - y.Line) })
	for _, p := range problems {
		if l.opts.KeepProblems >= 0 && len(l.problems) >= l.opts.KeepProblems {
			break
		}
		l.problems = append(l.problems, p)
	}
}

// commitLocalLocked commits the batches at the head of the queue that had
// no records to send.
func (l *loader) commitLocalLocked() {
	for len(l.pending) > 0 && l.pending[0].req == nil {
		b := l.pending[0]
		l.pending = l.pending[1:]
		l.commitLocked(b, b.local, b.problems)
	}
}
