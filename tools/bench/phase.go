package main

import (
	"context"
	"encoding/json"
	"time"
)

// phaseParams is what a phase child is asked to do.
type phaseParams struct {
	Phase      string // a key of childSteps
	NATSURL    string
	Records    int64
	Batch      int
	Inflight   int
	RecordSize int
	Seed       uint64
	CPUProfile string `json:",omitempty"`
}

// phaseResult is what a phase child measured.
type phaseResult struct {
	Records int64
	// Seconds from the first batch sent to the last batch acknowledged.
	Seconds  float64
	Batches  uint64
	P50, P99 time.Duration
	// PeakRSS is the child's VmHWM in bytes: the whole process.
	PeakRSS int64
	// StreamMsgs and StreamBytes are what DATA_BENCH holds after the run
	// (bytes as the server counts them: subject, headers, data).
	StreamMsgs, StreamBytes uint64
	// Duplicates is DATA_BENCH's Nats-Msg-Id deduplication window.
	Duplicates time.Duration
	// CPU is the child's CPU time (user + system) over Seconds; NATSCPU is
	// nats-server's over the whole child run (set by the parent).
	CPU, NATSCPU time.Duration
}

// MsgsPerSec is the phase's throughput.
func (r phaseResult) MsgsPerSec() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Records) / r.Seconds
}

// runChild runs one ingest phase in a child process (see runJSONChild)
// and returns its result.
func runChild(ctx context.Context, p phaseParams) (phaseResult, error) {
	var r phaseResult
	err := runJSONChild(ctx, p.Phase, p, &r)
	return r, err
}

// phaseStep adapts an ingest phase to a child step: its params in, its
// result with the child's peak RSS out.
func phaseStep(run func(context.Context, phaseParams) (phaseResult, error)) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var p phaseParams
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		r, err := run(ctx, p)
		if err != nil {
			return nil, err
		}
		if r.PeakRSS, err = PeakRSS("self"); err != nil {
			return nil, err
		}
		return r, nil
	}
}
