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

// childCommand is the hidden command that runs one measured step of a
// benchmark in a child process, so that its peak RSS is its own: bench
// _child <name> '<params as JSON>'. The child prints its result as JSON on
// stdout.
const childCommand = "_child"

// childSteps are the steps a child can run: params in, result out.
var childSteps = map[string]func(ctx context.Context, params json.RawMessage) (any, error){
	"features-ours": runFeaturesChild,
	"ingest-floor":  phaseStep(runIngestFloor),
	"ingest-ours":   phaseStep(runIngestOurs),
}

// runJSONChild runs step name in a child process with params and decodes
// its result into result.
func runJSONChild(ctx context.Context, name string, params, result any) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	arg, err := json.Marshal(params)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, childCommand, name, string(arg))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childProcAttr()
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := json.Unmarshal(out, result); err != nil {
		return fmt.Errorf("%s: reading its result %q: %w", name, out, err)
	}
	return nil
}

// runChildStep is the child side of runJSONChild.
func runChildStep(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return errors.New(childCommand + ": want a step name and one JSON argument")
	}
	step, ok := childSteps[args[0]]
	if !ok {
		return fmt.Errorf("%s: unknown step %q", childCommand, args[0])
	}
	r, err := step(ctx, json.RawMessage(args[1]))
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
