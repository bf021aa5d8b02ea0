// Command bench runs the project's end-to-end benchmarks: each measures ours
// and the floor (the raw dependency doing the same work) in the same run, on
// the same data, and prints one RESULT line per figure in the format of
// docs/benchmarks.md:
//
//	RESULT <name> ours=<value><unit> floor=<value><unit> ratio=<ours/floor> [key=value…]
//
// Usage:
//
//	go run ./tools/bench [flags] <name>   # ingest, features, pit, or all
//	go run ./tools/bench list             # the names
//
// Each measured phase runs in a child process (this binary re-executed with
// the hidden "_child" command) so that its peak RSS is its own. RESULT lines
// go to stdout, progress to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// benchmark is one named benchmark.
type benchmark struct {
	name string
	run  func(ctx context.Context, o options) error
}

// benchmarks lists every benchmark in the order `all` runs them.
var benchmarks = []benchmark{
	{"ingest", runIngest},
	{"features", runFeatures},
	{"pit", runPIT},
}

// options are the command-line flags.
type options struct {
	records     int64
	recordsList []int64
	batch       int
	inflight    int
	recordSize  int
	seed        uint64
	natsServer  string
	cpuProfile  string
	natsProfile string
	rounds      int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == childCommand {
		return runChildStep(ctx, args[1:])
	}
	var (
		o       options
		records string
	)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Int64Var(&o.records, "records", 200_000, "records per measured phase")
	fs.StringVar(&records, "records-list", "", "comma-separated record counts to run one after the other, e.g. 100000,5000000 (overrides --records; prints how peak RSS changes)")
	fs.IntVar(&o.batch, "batch", 1000, "records per batch")
	fs.IntVar(&o.inflight, "inflight", 4, "batches in flight (sent, not yet acknowledged)")
	fs.IntVar(&o.recordSize, "record-size", 256, "bytes per JSON record")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the record generator")
	fs.StringVar(&o.natsServer, "nats-server", "", "nats-server binary (default: <repo>/.tools/bin/nats-server, installed at "+natsServerVersion+" when missing)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the ours phase's measured loop to this file (with --records-list: one per size, suffixed .<records>)")
	fs.IntVar(&o.rounds, "rounds", 3, "ingest: floor-then-ours rounds per size; the RESULT is the round with the median ratio (every round's ratio is listed)")
	fs.StringVar(&o.natsProfile, "nats-cpuprofile", "", "ingest: write a CPU profile of nats-server during each phase to this file, suffixed .<phase>.<records> (the first 8 s of the phase)")
	registerFeatureFlags(fs)
	registerPITFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./tools/bench [flags] <name>\n\nnames: %s, all (every one), list (print the names)\n\nflags:\n", strings.Join(names(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Flags may also follow the name: bench ingest --records 1000.
	rest := fs.Args()
	if len(rest) > 1 {
		if err := fs.Parse(rest[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			fs.Usage()
			return fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		rest = rest[:1]
	}
	if len(rest) != 1 {
		fs.Usage()
		return errors.New("name one benchmark, or all")
	}
	name := rest[0]
	if name == "list" {
		for _, n := range names() {
			fmt.Println(n)
		}
		return nil
	}
	if name != "all" && !slices.Contains(names(), name) {
		return fmt.Errorf("unknown benchmark %q (have %s, all)", name, strings.Join(names(), ", "))
	}
	if err := o.parseRecordsList(records); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	for _, b := range benchmarks {
		if name == "all" || name == b.name {
			if err := b.run(ctx, o); err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
		}
	}
	return nil
}

func names() []string {
	out := make([]string, len(benchmarks))
	for i, b := range benchmarks {
		out[i] = b.name
	}
	return out
}

func (o *options) parseRecordsList(s string) error {
	if s == "" {
		o.recordsList = []int64{o.records}
		return nil
	}
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("--records-list: %q is not a positive count", f)
		}
		o.recordsList = append(o.recordsList, n)
	}
	return nil
}

func (o *options) validate() error {
	switch {
	case o.records <= 0:
		return errors.New("--records must be positive")
	case o.batch <= 0 || o.batch > 10_000:
		return errors.New("--batch must be 1..10000 (ingestion's per-batch limit)")
	case o.rounds <= 0:
		return errors.New("--rounds must be positive")
	case o.inflight <= 0:
		return errors.New("--inflight must be positive")
	case o.recordSize <= 0 || o.recordSize > 1<<20:
		return errors.New("--record-size must be 1..1048576")
	}
	return nil
}

// logf prints a progress line to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
