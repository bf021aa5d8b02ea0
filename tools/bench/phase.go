package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// phaseCommand is the hidden command that runs one measured phase in a
// child process: bench _phase '<phaseParams as JSON>'. The child prints its
// phaseResult as JSON on stdout.
const phaseCommand = "_phase"

// phaseParams is what a phase child is asked to do.
type phaseParams struct {
	Phase      string // a key of phases
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
}

// MsgsPerSec is the phase's throughput.
func (r phaseResult) MsgsPerSec() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Records) / r.Seconds
}

var phases = map[string]func(context.Context, phaseParams) (phaseResult, error){
	"ingest-floor": runIngestFloor,
	"ingest-ours":  runIngestOurs,
}

// runChild runs one phase in a child process and returns its result.
func runChild(ctx context.Context, p phaseParams) (phaseResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return phaseResult{}, err
	}
	arg, err := json.Marshal(p)
	if err != nil {
		return phaseResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe, phaseCommand, string(arg))
	// On interrupt let the child clean up its temporary files first.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childProcAttr()
	out, err := cmd.Output()
	if err != nil {
		return phaseResult{}, fmt.Errorf("phase %s: %w", p.Phase, err)
	}
	var r phaseResult
	if err := json.Unmarshal(out, &r); err != nil {
		return phaseResult{}, fmt.Errorf("phase %s: reading its result %q: %w", p.Phase, out, err)
	}
	return r, nil
}

// runPhase is the child side of runChild.
func runPhase(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New(phaseCommand + ": want one JSON argument")
	}
	var p phaseParams
	if err := json.Unmarshal([]byte(args[0]), &p); err != nil {
		return fmt.Errorf("%s: %w", phaseCommand, err)
	}
	run, ok := phases[p.Phase]
	if !ok {
		return fmt.Errorf("%s: unknown phase %q", phaseCommand, p.Phase)
	}
	r, err := run(ctx, p)
	if err != nil {
		return fmt.Errorf("phase %s: %w", p.Phase, err)
	}
	if r.PeakRSS, err = PeakRSS("self"); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
