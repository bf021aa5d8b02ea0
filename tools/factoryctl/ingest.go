package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion/records"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
)

func newIngestCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Write records into data products and watch their ingestion",
		Example: `  factoryctl ingest file --product sales/orders orders.csv
  factoryctl ingest stats sales/orders`,
		Args: noArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(newIngestFileCmd(a), newIngestStatsCmd(a))
	return cmd
}

// withIngestion dials the mesh and runs fn with an ingestion client.
func (a *app) withIngestion(fn func(ingestionv1.IngestionServiceClient) error) error {
	conn, err := a.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(ingestionv1.NewIngestionServiceClient(conn))
}

// Input formats of `ingest file`.
const (
	formatCSV   = records.FormatCSV
	formatJSONL = records.FormatJSONL
)

// formatOf picks the input format: the --format flag, else the file's
// extension.
func formatOf(flag, file string) (string, error) {
	switch f := strings.ToLower(flag); f {
	case formatCSV, formatJSONL:
		return f, nil
	case "ndjson":
		return formatJSONL, nil
	case "":
	default:
		return "", usageErrorf("invalid --format %q: allowed values are csv, jsonl", flag)
	}
	if f := records.FormatOf(file); f != "" {
		return f, nil
	}
	return "", usageErrorf("cannot tell the format of %s from its extension (.csv, .jsonl, .ndjson, .json): pass --format csv or --format jsonl", file)
}

// ingestFileFlags are the flags of `ingest file`.
type ingestFileFlags struct {
	product        string
	port           string
	format         string
	eventTimeField string
	batch          int
	inflight       int
	retries        int
	resume         bool
	checkpoint     string
	verbose        bool
}

// shownProblems is how many problems `ingest file` prints without -v.
const shownProblems = 10

func newIngestFileCmd(a *app) *cobra.Command {
	var fl ingestFileFlags
	cmd := &cobra.Command{
		Use:   "file --product DOMAIN/NAME FILE",
		Short: "Load a CSV or JSON Lines file into a data product, resumably",
		Long: `Load a CSV (header row = field names) or JSON Lines file into a data
product through the governed write path: each record is validated against
the contract of the output port; valid ones are stored exactly once, invalid
ones quarantined (see 'factoryctl quarantine').

The file is streamed in batches (--batch), with up to --inflight batches
awaiting their acknowledgement. After each acknowledged batch the position
is saved to a checkpoint file (FILE.factory-checkpoint): an interrupted load
continues where it stopped with --resume, and records sent twice are
reported as duplicates, never stored twice. When the server becomes
unavailable during the load, the stream is reopened automatically (up to
--retries times) and only unacknowledged batches are sent again.

An acknowledgement overdue by --timeout (at least 30s) counts as a broken
stream too.

Records that cannot be read (bad JSON, wrong number of CSV columns, too
large) are counted as rejected under the rule "unreadable" and the load
goes on. The command exits 0 when the whole file was processed, even with
rejected records, and 1 when the load could not complete.`,
		Example: `  factoryctl ingest file --product sales/orders orders.csv
  factoryctl ingest file --product sales/orders --port v2 --event-time-field ordered_at orders.jsonl
  factoryctl ingest file --product sales/orders --resume orders.csv
  factoryctl ingest file --product sales/orders -o json orders.csv`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.ingestFile(cmd, fl, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.product, "product", "", "target data product DOMAIN/NAME")
	f.StringVar(&fl.port, "port", "", "output port, e.g. v1 (default: the newest active port)")
	f.StringVar(&fl.format, "format", "", "input format: csv or jsonl (default: from the file's extension)")
	f.StringVar(&fl.eventTimeField, "event-time-field", "", "record field holding the event time")
	f.IntVar(&fl.batch, "batch", 1000, "records per batch (at most 10000)")
	f.IntVar(&fl.inflight, "inflight", 4, "batches sent ahead of their acknowledgement")
	f.IntVar(&fl.retries, "retries", 10, "times in a row to reconnect when the server is unavailable")
	f.BoolVar(&fl.resume, "resume", false, "continue an interrupted load from its checkpoint")
	f.StringVar(&fl.checkpoint, "checkpoint", "", "checkpoint file (default FILE"+checkpointSuffix+")")
	f.BoolVarP(&fl.verbose, "verbose", "v", false, "list every unreadable, rejected or failed record, not just the first 10")
	_ = cmd.MarkFlagRequired("product")
	return cmd
}

// ingestTuning holds what tests shorten: the reconnect backoff.
var ingestTuning = struct {
	backoff, maxBackoff time.Duration
	now                 func() time.Time
}{500 * time.Millisecond, 15 * time.Second, time.Now}

func (a *app) ingestFile(cmd *cobra.Command, fl ingestFileFlags, file string) error {
	target, err := productArg(fl.product)
	if err != nil {
		return err
	}
	switch {
	case fl.batch < 1 || fl.batch > maxBatchRecords:
		return usageErrorf("--batch must be between 1 and %d, got %d", maxBatchRecords, fl.batch)
	case fl.inflight < 1:
		return usageErrorf("--inflight must be at least 1, got %d", fl.inflight)
	case fl.retries < 0:
		return usageErrorf("--retries must not be negative, got %d", fl.retries)
	}
	format, err := formatOf(fl.format, file)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()

	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return usageErrorf("%s is not a regular file: ingest file needs a file it can seek in to resume", file)
	}
	ckptPath := fl.checkpoint
	if ckptPath == "" {
		ckptPath = defaultCheckpointPath(file)
	}
	ckpt, err := readCheckpoint(ckptPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ckpt = nil
		if fl.resume {
			fmt.Fprintf(stderr, "No checkpoint at %s: loading %s from the start.\n", ckptPath, file)
		}
	case err != nil:
		return err
	case !fl.resume:
		return fmt.Errorf("a checkpoint of an earlier, unfinished load of %s exists (%s, up to line %d, run %s): continue it with --resume, or delete the checkpoint to load the file from the start",
			file, ckptPath, ckpt.Line, ckpt.RunID)
	default:
		if err := ckpt.verify(ckptPath, fi, target.String(), format); err != nil {
			return err
		}
	}

	abs, _ := filepath.Abs(file)
	base := checkpoint{
		File: abs, Size: fi.Size(), MTime: fi.ModTime(), Format: format,
		Product: target.String(), Port: fl.port, RunID: uuid.NewString(),
	}
	if ckpt != nil {
		base.Offset, base.Line, base.NextLine, base.RunID, base.Counters = ckpt.Offset, ckpt.Line, ckpt.NextLine, ckpt.RunID, ckpt.Counters
		fmt.Fprintf(stderr, "Resuming run %s after line %d (%s of %s).\n", ckpt.RunID, ckpt.Line, progress.Bytes(ckpt.Offset), progress.Bytes(fi.Size()))
	}
	items, err := openItems(f, format, base.Offset, base.NextLine)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}

	keep := shownProblems
	if fl.verbose {
		keep = -1
	}
	start := ingestTuning.now()
	bar := progress.New(stderr, progress.Snapshot{Records: base.Counters.Read, Bytes: base.Offset, TotalBytes: fi.Size()}, progress.ForWriter(stderr))
	opts := loadOptions{
		Open: &ingestionv1.StreamOpen{
			Target: &ingestionv1.Target{
				Domain: target.Domain, Product: target.Name, Port: fl.port,
				EventTimeField: fl.eventTimeField, CoerceText: format == formatCSV,
			},
			Source: filepath.Base(file),
			RunId:  base.RunID,
		},
		BatchSize: fl.batch, Inflight: fl.inflight, Retries: fl.retries,
		Backoff: ingestTuning.backoff, MaxBackoff: ingestTuning.maxBackoff,
		AckTimeout:   max(a.timeout, 30*time.Second),
		KeepProblems: keep,
		Start:        loadState{Offset: base.Offset, Line: base.Line, NextLine: base.NextLine, RunID: base.RunID, Counters: base.Counters},
		OnAck: func(st loadState) error {
			c := base
			c.Offset, c.Line, c.NextLine, c.RunID, c.Counters, c.Updated = st.Offset, st.Line, st.NextLine, st.RunID, st.Counters, time.Now().UTC()
			return writeCheckpoint(ckptPath, &c)
		},
		Notify: bar.Println,
		Addr:   a.addr,
	}

	return a.withIngestion(func(cl ingestionv1.IngestionServiceClient) error {
		l := newLoader(cl, items, opts)
		ctx, cancel := context.WithCancel(cmd.Context())
		defer cancel()
		tickerDone := make(chan struct{})
		go func() {
			defer close(tickerDone)
			t := time.NewTicker(progress.TerminalInterval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					bar.Update(l.snapshot(fi.Size()))
				}
			}
		}()
		err := l.run(ctx)
		cancel()
		<-tickerDone
		bar.Update(l.snapshot(fi.Size()))
		bar.Finish()

		st, problems, contract, subject := l.result()
		// Problems are kept for this invocation only.
		newProblems := st.Counters.Rejected + st.Counters.Errors - base.Counters.Rejected - base.Counters.Errors
		if err != nil {
			if len(problems) > 0 {
				fmt.Fprintln(stderr, "Records not stored so far:")
				output.WriteProblems(stderr, problems, newProblems, moreHint(fl.verbose))
			}
			if _, serr := os.Stat(ckptPath); serr == nil {
				fmt.Fprintf(stderr, "The load stopped after line %d; %s holds its progress: run the same command with --resume to continue.\n", st.Line, ckptPath)
			}
			if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				return errors.New("interrupted")
			}
			return err
		}
		if err := os.Remove(ckptPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "Warning: the load completed but its checkpoint could not be removed: %v\n", err)
		}
		elapsed := ingestTuning.now().Sub(start)
		l.mu.Lock()
		reconnects := l.reconnects
		l.mu.Unlock()
		sum := &output.IngestSummary{
			File: file, Product: target.String(), Port: portOf(fl.port, subject), RunID: st.RunID,
			ContractVersion: contract, Subject: subject, Resumed: ckpt != nil, Reconnects: reconnects,
			Read: st.Counters.Read, Stored: st.Counters.Stored, Duplicates: st.Counters.Duplicates,
			Rejected: st.Counters.Rejected, RejectedByRule: st.Counters.RejectedByRule,
			Unreadable: st.Counters.Unreadable, Errors: st.Counters.Errors,
			ElapsedSeconds: elapsed.Seconds(), Problems: problems,
		}
		if secs := elapsed.Seconds(); secs > 0 {
			sum.RecordsPerSecond = float64(st.Counters.Read-base.Counters.Read) / secs
		}
		if len(problems) > 0 {
			output.WriteProblems(stderr, problems, newProblems, moreHint(fl.verbose))
		}
		return output.PrintValue(cmd.OutOrStdout(), a.format.F, sum, func(w io.Writer) error {
			return output.IngestSummaryTable(w, sum)
		})
	})
}

func moreHint(verbose bool) string {
	if verbose {
		return ""
	}
	return " (-v lists them all)"
}

func newIngestStatsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "stats DOMAIN/NAME",
		Short: "Show a data product's ingestion counters and freshness",
		Example: `  factoryctl ingest stats sales/orders
  factoryctl ingest stats sales/orders -o json`,
		Args: exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			return a.withIngestion(func(cl ingestionv1.IngestionServiceClient) error {
				resp, err := unary(a, cmd, cl.GetProductStats, &ingestionv1.GetProductStatsRequest{Domain: r.Domain, Product: r.Name})
				if err != nil {
					return err
				}
				return a.print(cmd, resp, func(w io.Writer) error { return output.StatsDetail(w, resp.GetStats()) })
			})
		},
	}
}

// portOf is the port a load wrote to: the one asked for, else the last
// token of the data subject (data.<domain>.<product>.<port>).
func portOf(asked, subject string) string {
	if asked != "" || subject == "" {
		return asked
	}
	return subject[strings.LastIndexByte(subject, '.')+1:]
}
