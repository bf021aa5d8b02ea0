package main

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
)

func newFeaturesBackfillCmd(a *app) *cobra.Command {
	var startFlag, endFlag string
	cmd := &cobra.Command{
		Use:   "backfill VIEW [--start T] [--end T]",
		Short: "Materialize a feature view into the online store from its product's history",
		Long: `Materialize a feature view into the online store from the stream history
of its data product, over an event-time range: --start (default: from the
beginning) to --end (default: now), each RFC 3339 or a date (midnight UTC).

Progress (records read, materialized, skipped as out of range or
unreadable) goes to stderr, the totals to stdout in the -o format. The
stream is not bounded by --timeout; interrupt it with Ctrl-C.`,
		Example: `  factoryctl features backfill customer_orders
  factoryctl features backfill customer_orders --start 2025-01-01 --end 2025-02-01T00:00:00Z
  factoryctl features backfill product_reviews -o json`,
		Args: exactArgs("VIEW"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &featurestorev1.BackfillRequest{FeatureView: args[0]}
			for _, t := range []struct {
				flag, value string
				dst         **timestamppb.Timestamp
			}{{"--start", startFlag, &req.Start}, {"--end", endFlag, &req.End}} {
				if t.value == "" {
					continue
				}
				ts, err := parseTime(t.value)
				if err != nil {
					return usageErrorf("%s: %v", t.flag, err)
				}
				*t.dst = timestamppb.New(ts)
			}
			if req.Start != nil && req.End != nil && !req.Start.AsTime().Before(req.End.AsTime()) {
				return usageErrorf("--start must be before --end")
			}
			return a.withFeatures(func(cl featurestorev1.FeatureStoreServiceClient) error {
				return a.backfill(cmd, cl, req)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&startFlag, "start", "", "first event time to materialize (default: from the beginning)")
	f.StringVar(&endFlag, "end", "", "last event time to materialize (default: now)")
	return cmd
}

func (a *app) backfill(cmd *cobra.Command, cl featurestorev1.FeatureStoreServiceClient, req *featurestorev1.BackfillRequest) error {
	start := time.Now()
	stream, err := cl.Backfill(cmd.Context(), req)
	if err != nil {
		return ctxErr(cmd.Context(), err)
	}
	var last atomic.Pointer[featurestorev1.BackfillResponse]
	last.Store(&featurestorev1.BackfillResponse{})
	stderr := cmd.ErrOrStderr()
	bar := progress.NewLine(stderr, progress.ForWriter(stderr), func(elapsed time.Duration) string {
		return backfillLine(last.Load(), elapsed)
	})
	var wg sync.WaitGroup
	barCtx, stopBar := context.WithCancel(cmd.Context())
	wg.Go(func() { bar.Run(barCtx) })
	for {
		resp, rerr := stream.Recv()
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			err = ctxErr(cmd.Context(), rerr)
			break
		}
		last.Store(resp)
	}
	stopBar()
	wg.Wait()
	bar.Finish()
	if err != nil {
		return err
	}
	final := last.Load()
	if !final.GetDone() {
		return errors.New("the backfill stream ended before the feature store reported it done")
	}
	secs := time.Since(start).Seconds()
	sum := &output.BackfillSummary{
		FeatureView: req.GetFeatureView(), Start: output.Time(req.GetStart()), End: output.Time(req.GetEnd()),
		Read: final.GetRead(), Materialized: final.GetMaterialized(), Skipped: final.GetSkipped(),
		LastSequence: final.GetLastSequence(), Done: final.GetDone(), ElapsedSeconds: secs,
	}
	if secs > 0 {
		sum.RecordsPerSecond = float64(sum.Read) / secs
	}
	return output.PrintValue(cmd.OutOrStdout(), a.format.F, sum, func(w io.Writer) error {
		return output.BackfillSummaryTable(w, sum)
	})
}

// backfillLine renders a backfill's progress: how far through the source
// stream it is (when the stream's last sequence is known), then its
// counts and read rate.
func backfillLine(r *featurestorev1.BackfillResponse, elapsed time.Duration) string {
	bar := ""
	if last := r.GetLastSequence(); last > 0 {
		bar = fractionBar(float64(r.GetStreamSequence()) / float64(last))
	}
	return joinParts(bar,
		"read "+progress.Count(r.GetRead()),
		"materialized "+progress.Count(r.GetMaterialized()),
		"skipped "+progress.Count(r.GetSkipped()),
		progress.Rate(r.GetRead(), elapsed))
}
