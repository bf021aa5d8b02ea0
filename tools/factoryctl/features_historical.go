package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/trainingset"
)

// errInterrupted reports a command stopped by the user (Ctrl-C).
var errInterrupted = errors.New("interrupted")

// historicalFlags are the flags of `features historical`.
type historicalFlags struct {
	sel      *featureSelection
	entities string
	tsColumn string
	out      string
}

func newFeaturesHistoricalCmd(a *app) *cobra.Command {
	var fl historicalFlags
	cmd := &cobra.Command{
		Use:   "historical --entities FILE.csv (--service NAME | --features view:feature,...) --out FILE.csv|FILE.parquet",
		Short: "Build a point-in-time correct training set from entity rows",
		Long: `Build a training set: join the requested features to entity rows point in
time correctly, each row getting the feature values known at its timestamp
and never a later one.

--entities is a CSV file with a header row. Its columns named like a join
key of the requested features hold the keys (sent as integers for int64
join keys, else as strings); --timestamp-column (default event_timestamp)
holds each row's point in time, RFC 3339 (2025-03-01T12:00:00Z, fraction
optional, "T" or a space) or a date (2025-03-01, midnight UTC), a time
without zone being UTC; any other column (labels, ids…) is extra. The file
is checked completely before anything is sent: bad rows are listed with
their line numbers. At most 2,000,000 rows.

The training set (--out) holds the rows in the order of the file: every
input column unchanged, then one column per feature, named view__feature
(customer_orders__spend_7d), as Feast names them with full feature names.
Its format follows the extension:

  .csv       RFC 4180, a header row; a null feature value (not found,
             expired or null) is an empty cell; timestamps RFC 3339 UTC
  .parquet   input columns as optional strings, features as optional
             string, int64, double, boolean or timestamp (int64
             microseconds, TIMESTAMP(MICROS, UTC)) columns; nulls are null

The file is written under a temporary name and renamed when complete, so
that an interrupted or failed run leaves no partial training set. Progress
goes to stderr; the summary (per feature: rows present, not found,
expired) to stdout in the -o format. The stream is not bounded by
--timeout, which applies to the look-ups before it: a large join takes a
while; interrupt it with Ctrl-C.`,
		Example: `  factoryctl features historical --entities customers.csv --service churn_v1 --out train.parquet
  factoryctl features historical --entities customers.csv \
    --features customer_orders:spend_7d,customer_orders:orders_7d --out train.csv
  factoryctl features historical --entities labels.csv --timestamp-column label_ts \
    --service churn_v1 --out train.parquet -o json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.historical(cmd, fl)
		},
	}
	fl.sel = addFeatureSelectionFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&fl.entities, "entities", "", "CSV file of entity rows: join key columns, a timestamp column, extra columns")
	f.StringVar(&fl.tsColumn, "timestamp-column", "event_timestamp", "column of --entities holding each row's point in time")
	f.StringVar(&fl.out, "out", "", "training set to write: FILE.csv or FILE.parquet")
	_ = cmd.MarkFlagRequired("entities")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// featureColumn names the column of a "view:feature" reference:
// view__feature.
func featureColumn(ref string) string {
	return strings.Replace(ref, ":", "__", 1)
}

// openEntities opens the entity file and reads its header.
func openEntities(path string, keys []*featurestorev1.JoinKey, tsColumn string) (*os.File, *entityCSV, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	c, err := openEntityCSV(bufio.NewReaderSize(f, 1<<20), path, keys, tsColumn)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, c, nil
}

// checkEntities reads the whole entity file once, before anything is sent,
// and returns its number of rows; bad rows are a usage error listing them.
func checkEntities(path string, keys []*featurestorev1.JoinKey, tsColumn string) (*entityCSV, int64, error) {
	f, c, err := openEntities(path, keys, tsColumn)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	errs := &rowErrors{file: path}
	var n int64
	for {
		record, line, err := c.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		c.historicalRow(record, line, errs)
		n++
	}
	if err := errs.err(); err != nil {
		return nil, 0, err
	}
	switch {
	case n == 0:
		return nil, 0, usageErrorf("%s has no entity rows", path)
	case n > maxHistoricalRows:
		return nil, 0, usageErrorf("%s has %d entity rows; the limit of one request is %d: split it", path, n, maxHistoricalRows)
	}
	return c, n, nil
}

// historicalRun is the state of one GetHistoricalFeatures stream shared
// by its sender, its receiver and the progress bar.
type historicalRun struct {
	total, sent, received atomic.Int64
	receiving             atomic.Bool

	mu  sync.Mutex
	err error // the first error, which stopped the run
}

func (r *historicalRun) fail(err error, cancel context.CancelFunc) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	cancel()
}

// line renders the progress of the run.
func (r *historicalRun) line(elapsed time.Duration) string {
	total, sent, received := r.total.Load(), r.sent.Load(), r.received.Load()
	speed := progress.Rate(sent, elapsed)
	if r.receiving.Load() {
		speed = progress.Rate(received, elapsed)
	}
	return joinParts(
		fractionBar(float64(received)/float64(max(total, 1))),
		"sent "+progress.Count(sent)+"/"+progress.Count(total)+" rows",
		"received "+progress.Count(received),
		speed,
	)
}

func (a *app) historical(cmd *cobra.Command, fl historicalFlags) error {
	if err := fl.sel.check(); err != nil {
		return err
	}
	if fl.entities == "-" {
		return usageErrorf("--entities must name a file: it is read again to write its columns to the training set")
	}
	if fl.tsColumn == "" {
		return usageErrorf("--timestamp-column must not be empty")
	}
	format, err := trainingset.FormatOf(fl.out)
	if err != nil {
		return &usageError{err}
	}
	return a.withFeatures(func(cl featurestorev1.FeatureStoreServiceClient) error {
		plan, err := a.resolveFeatures(cmd, cl, fl.sel)
		if err != nil {
			return err
		}
		c, total, err := checkEntities(fl.entities, plan.joinKeys, fl.tsColumn)
		if err != nil {
			return err
		}
		for _, ref := range plan.refs {
			for _, h := range c.header {
				if h == featureColumn(ref) {
					return usageErrorf("column %q of %s has the name of the column of feature %s: rename it", h, fl.entities, ref)
				}
			}
		}
		start := time.Now()
		sum, err := a.streamHistorical(cmd, cl, fl, plan, format, total)
		if err != nil {
			return err
		}
		sum.ElapsedSeconds = time.Since(start).Seconds()
		if sum.ElapsedSeconds > 0 {
			sum.RowsPerSecond = float64(sum.Rows) / sum.ElapsedSeconds
		}
		return output.PrintValue(cmd.OutOrStdout(), a.format.F, sum, func(w io.Writer) error {
			return output.HistoricalSummaryTable(w, sum)
		})
	})
}

// streamHistorical sends the entity rows and writes the joined rows to
// the training set as they come back.
func (a *app) streamHistorical(cmd *cobra.Command, cl featurestorev1.FeatureStoreServiceClient, fl historicalFlags,
	plan *featurePlan, format trainingset.Format, total int64) (*output.HistoricalSummary, error) {
	out, err := os.CreateTemp(filepath.Dir(fl.out), "."+filepath.Base(fl.out)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create the training set: %w", err)
	}
	// CreateTemp makes the file private; a training set is an ordinary
	// file, as os.Create would make it.
	if err := out.Chmod(0o644); err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, fmt.Errorf("create the training set: %w", err)
	}
	done := false
	defer func() {
		if !done {
			out.Close()
			os.Remove(out.Name())
		}
	}()

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	stream, err := cl.GetHistoricalFeatures(ctx)
	if err != nil {
		return nil, ctxErr(cmd.Context(), err)
	}
	run := &historicalRun{}
	run.total.Store(total)
	stderr := cmd.ErrOrStderr()
	bar := progress.NewLine(stderr, progress.ForWriter(stderr), run.line)
	barCtx, stopBar := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { bar.Run(barCtx) })
	wg.Go(func() {
		if err := sendHistorical(stream, fl, plan, run); err != nil {
			run.fail(err, cancel)
		}
	})
	sum, err := receiveHistorical(stream, out, fl, plan, format, run)
	if err != nil {
		run.fail(err, cancel)
	}
	stopBar()
	wg.Wait()
	bar.Finish()
	if run.err != nil {
		if cmd.Context().Err() != nil {
			return nil, errInterrupted
		}
		return nil, run.err
	}
	if err := out.Close(); err != nil {
		return nil, fmt.Errorf("write the training set: %w", err)
	}
	if err := os.Rename(out.Name(), fl.out); err != nil {
		return nil, fmt.Errorf("write the training set: %w", err)
	}
	done = true
	sum.FeatureService = fl.sel.service
	return sum, nil
}

// sendHistorical sends the header, then the entity rows in chunks of at
// most maxRowsPerMessage rows and maxMessageBytes bytes.
func sendHistorical(stream featurestorev1.FeatureStoreService_GetHistoricalFeaturesClient, fl historicalFlags, plan *featurePlan, run *historicalRun) error {
	header := &featurestorev1.HistoricalHeader{FeatureService: fl.sel.service, Features: fl.sel.features}
	if err := stream.Send(&featurestorev1.GetHistoricalFeaturesRequest{Msg: &featurestorev1.GetHistoricalFeaturesRequest_Header{Header: header}}); err != nil {
		return sendError(err)
	}
	f, c, err := openEntities(fl.entities, plan.joinKeys, fl.tsColumn)
	if err != nil {
		return err
	}
	defer f.Close()
	errs := &rowErrors{file: fl.entities}
	chunk, size := &featurestorev1.HistoricalRows{}, 0
	flush := func() error {
		if len(chunk.GetRows()) == 0 {
			return nil
		}
		if err := stream.Send(&featurestorev1.GetHistoricalFeaturesRequest{Msg: &featurestorev1.GetHistoricalFeaturesRequest_Rows{Rows: chunk}}); err != nil {
			return err
		}
		run.sent.Add(int64(len(chunk.GetRows())))
		chunk, size = &featurestorev1.HistoricalRows{}, 0
		return nil
	}
	for {
		record, line, err := c.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		row := c.historicalRow(record, line, errs)
		if row == nil {
			return fmt.Errorf("%s changed while it was read: %w", fl.entities, errs.err())
		}
		n := proto.Size(row) + 8 // the row's tag and length
		if len(chunk.GetRows()) == maxRowsPerMessage || (size+n > maxMessageBytes && len(chunk.GetRows()) > 0) {
			if err := flush(); err != nil {
				return sendError(err)
			}
		}
		chunk.Rows = append(chunk.Rows, row)
		size += n
	}
	if err := flush(); err != nil {
		return sendError(err)
	}
	return stream.CloseSend()
}

// sendError is nil for io.EOF, which tells that the server ended the
// stream: the receiver gets its status.
func sendError(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// receiveHistorical writes the joined rows to out in request order, each
// input record, read again from the entity file, followed by its features.
func receiveHistorical(stream featurestorev1.FeatureStoreService_GetHistoricalFeaturesClient, out io.Writer, fl historicalFlags,
	plan *featurePlan, format trainingset.Format, run *historicalRun) (*output.HistoricalSummary, error) {
	f, c, err := openEntities(fl.entities, plan.joinKeys, fl.tsColumn)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	total := run.total.Load()
	sum := &output.HistoricalSummary{Entities: fl.entities, Out: fl.out, Format: string(format), TimestampColumn: fl.tsColumn}
	var (
		w     trainingset.Writer
		names []string
		next  int64
	)
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		run.receiving.Store(true)
		if w == nil {
			names = resp.GetFeatureNames()
			if len(names) == 0 {
				return nil, errors.New("the feature store's first answer named no features")
			}
			cols := make([]trainingset.Column, len(names))
			for i, n := range names {
				cols[i] = trainingset.Column{Name: featureColumn(n), Type: plan.featureType(n)}
				sum.Features = append(sum.Features, output.FeatureStats{Feature: n, Column: cols[i].Name})
			}
			if w, err = trainingset.New(format, bw, c.header, cols); err != nil {
				return nil, err
			}
			sum.Columns = len(c.header) + len(cols)
		}
		for _, jr := range resp.GetRows() {
			if jr.GetIndex() != next {
				return nil, fmt.Errorf("the feature store answered row %d where row %d was due", jr.GetIndex(), next)
			}
			record, _, err := c.next()
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("the feature store answered more rows than the %d sent", total)
			}
			if err != nil {
				return nil, err
			}
			vec := jr.GetFeatures()
			values := vec.GetValues()
			if len(values) != len(names) {
				return nil, fmt.Errorf("the feature store answered row %d with %d values for %d features", next, len(values), len(names))
			}
			for i, st := range vec.GetStatuses() {
				if i >= len(sum.Features) {
					break
				}
				switch st {
				case featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT:
					sum.Features[i].Present++
				case featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND:
					sum.Features[i].NotFound++
				case featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED:
					sum.Features[i].Expired++
				}
			}
			if err := w.Write(record, values); err != nil {
				return nil, fmt.Errorf("write row %d of the training set: %w", next, err)
			}
			next++
			run.received.Store(next)
		}
	}
	if w == nil {
		return nil, errors.New("the feature store ended the stream without an answer")
	}
	if next != total {
		return nil, fmt.Errorf("the feature store answered %d of the %d rows sent", next, total)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("write the training set: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write the training set: %w", err)
	}
	sum.Rows = next
	return sum, nil
}
