package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ingestRun is one size of the ingest benchmark: both phases.
type ingestRun struct {
	records             int64
	ours, floor         phaseResult
	natsOurs, natsFloor int64 // peak RSS of each phase's nats-server
	// ratios are the throughput ratios of every round, in the order run.
	ratios []float64
}

// runIngest is the ingest benchmark: ~256-byte JSON records valid against a
// 10-field contract into a real nats-server with file storage, once through
// ours (gRPC IngestStream → validate → JetStream, acked) and once as the
// floor (raw async JetStream publish of the same bytes, acked). Each phase
// gets a fresh nats-server and runs in its own child process.
func runIngest(ctx context.Context, o options) error {
	path, err := natsServerBinary(ctx, o.natsServer)
	if err != nil {
		return err
	}
	version, err := natsVersion(ctx, path)
	if err != nil {
		return err
	}
	if version != natsServerVersion {
		logf("warning: %s is nats-server %s; the project embeds %s", path, version, natsServerVersion)
	}
	var runs []ingestRun
	for _, n := range o.recordsList {
		var rounds []ingestRun
		for round := 1; round <= o.rounds; round++ {
			r, err := ingestRound(ctx, o, path, version, n, round)
			if err != nil {
				return err
			}
			rounds = append(rounds, r)
		}
		r := medianRound(rounds)
		printIngest(os.Stdout, r, o)
		runs = append(runs, r)
	}
	printRSSFlatness(os.Stdout, runs)
	return nil
}

// ingestRound runs the floor then ours once for n records.
func ingestRound(ctx context.Context, o options, path, version string, n int64, round int) (ingestRun, error) {
	r := ingestRun{records: n}
	p := phaseParams{Records: n, Batch: o.batch, Inflight: o.inflight, RecordSize: o.recordSize, Seed: o.seed}
	of := ""
	if o.rounds > 1 {
		of = fmt.Sprintf(" (round %d of %d)", round, o.rounds)
	}
	var err error
	p.Phase = "ingest-floor"
	logf("ingest: floor, %d records (raw JetStream PublishMsgAsync, nats-server %s)%s", n, version, of)
	if r.floor, r.natsFloor, err = ingestPhase(ctx, path, p, o.natsProfile); err != nil {
		return r, err
	}
	p.Phase = "ingest-ours"
	if o.cpuProfile != "" {
		p.CPUProfile = o.cpuProfile
		if len(o.recordsList) > 1 {
			p.CPUProfile += "." + strconv.FormatInt(n, 10)
		}
		if o.rounds > 1 {
			p.CPUProfile += "." + strconv.Itoa(round)
		}
		if p.CPUProfile, err = filepath.Abs(p.CPUProfile); err != nil {
			return r, err
		}
	}
	logf("ingest: ours, %d records (gRPC IngestStream → validate → JetStream)%s", n, of)
	if r.ours, r.natsOurs, err = ingestPhase(ctx, path, p, o.natsProfile); err != nil {
		return r, err
	}
	if p.CPUProfile != "" {
		logf("ingest: CPU profile of the ours phase in %s (go tool pprof -top %s)", p.CPUProfile, p.CPUProfile)
	}
	if r.ours.Duplicates != r.floor.Duplicates {
		logf("warning: DATA_BENCH dedup window differs: ours %s, floor %s", r.ours.Duplicates, r.floor.Duplicates)
	}
	logf("ingest: %d records%s: ours %.0f msgs/s, floor %.0f msgs/s, ratio %.2f", n, of, r.ours.MsgsPerSec(), r.floor.MsgsPerSec(), r.throughputRatio())
	return r, nil
}

// medianRound is the round with the median throughput ratio (the lower
// middle of an even count), carrying every round's ratio and the highest
// peak RSS of all rounds. On a shared machine one phase can be slowed by a
// neighbour; each round pairs a floor with the ours run right after it.
func medianRound(rounds []ingestRun) ingestRun {
	sorted := slices.Clone(rounds)
	slices.SortFunc(sorted, func(a, b ingestRun) int { return cmp.Compare(a.throughputRatio(), b.throughputRatio()) })
	m := sorted[(len(sorted)-1)/2]
	for _, r := range rounds {
		m.ratios = append(m.ratios, r.throughputRatio())
		m.ours.PeakRSS = max(m.ours.PeakRSS, r.ours.PeakRSS)
		m.floor.PeakRSS = max(m.floor.PeakRSS, r.floor.PeakRSS)
		m.natsOurs, m.natsFloor = max(m.natsOurs, r.natsOurs), max(m.natsFloor, r.natsFloor)
	}
	return m
}

func (r ingestRun) throughputRatio() float64 { return ratio(r.ours.MsgsPerSec(), r.floor.MsgsPerSec()) }

// ingestPhase runs one phase against a fresh nats-server and checks that
// the data stream holds exactly the records written. It returns the
// server's peak RSS too.
// With profile set, it writes a CPU profile of the server too.
func ingestPhase(ctx context.Context, natsPath string, p phaseParams, profile string) (phaseResult, int64, error) {
	srv, err := startNATS(ctx, natsPath, profile != "")
	if err != nil {
		return phaseResult{}, 0, err
	}
	defer srv.Stop()
	p.NATSURL = srv.URL
	natsCPU := srv.cpuWindow()
	if profile != "" {
		file, err := filepath.Abs(fmt.Sprintf("%s.%s.%d", profile, p.Phase, p.Records))
		if err != nil {
			return phaseResult{}, 0, err
		}
		defer srv.profileCPU(ctx, 8*time.Second, file)()
	}
	r, err := runChild(ctx, p)
	if err != nil {
		return phaseResult{}, 0, err
	}
	r.NATSCPU = natsCPU.done()
	if r.StreamMsgs != uint64(p.Records) {
		return phaseResult{}, 0, fmt.Errorf("%s: %s holds %d messages, want %d", p.Phase, benchStream, r.StreamMsgs, p.Records)
	}
	natsRSS, err := srv.PeakRSS()
	if err != nil {
		logf("warning: nats-server peak RSS: %v", err)
	}
	return r, natsRSS, nil
}

// printIngest prints the RESULT lines of one size.
func printIngest(w *os.File, r ingestRun, o options) {
	common := fmt.Sprintf("records=%d batch=%d inflight=%d record_size=%d", r.records, o.batch, o.inflight, o.recordSize)
	var rs []string
	for _, x := range r.ratios {
		rs = append(rs, fmt.Sprintf("%.2f", x))
	}
	fmt.Fprintf(w, "RESULT ingest ours=%.0fmsgs/s floor=%.0fmsgs/s ratio=%.2f %s rounds=%d round_ratios=%s p50_ours=%.2fms p50_floor=%.2fms p99_ours=%.2fms p99_floor=%.2fms rss_ours=%.1fMiB rss_floor=%.1fMiB\n",
		r.ours.MsgsPerSec(), r.floor.MsgsPerSec(), ratio(r.ours.MsgsPerSec(), r.floor.MsgsPerSec()), common, len(r.ratios), strings.Join(rs, ","),
		ms(r.ours.P50), ms(r.floor.P50), ms(r.ours.P99), ms(r.floor.P99), mib(r.ours.PeakRSS), mib(r.floor.PeakRSS))
	fmt.Fprintf(w, "RESULT ingest-p50 ours=%.2fms floor=%.2fms ratio=%.2f %s batches=%d\n",
		ms(r.ours.P50), ms(r.floor.P50), ratio(ms(r.ours.P50), ms(r.floor.P50)), common, r.ours.Batches)
	fmt.Fprintf(w, "RESULT ingest-p99 ours=%.2fms floor=%.2fms ratio=%.2f %s batches=%d\n",
		ms(r.ours.P99), ms(r.floor.P99), ratio(ms(r.ours.P99), ms(r.floor.P99)), common, r.ours.Batches)
	// ours is one process hosting catalog + ingestion + the gRPC client;
	// floor is the publisher process. nats-server is measured apart.
	// CPU per message tells which process limits a phase on a small machine.
	fmt.Fprintf(w, "RESULT ingest-cpu ours=%.2fus/msg floor=%.2fus/msg ratio=%.2f %s nats_ours=%.2fus/msg nats_floor=%.2fus/msg scope_ours=server+client scope_floor=publisher\n",
		usPerMsg(r.ours.CPU, r.records), usPerMsg(r.floor.CPU, r.records), ratio(usPerMsg(r.ours.CPU, r.records), usPerMsg(r.floor.CPU, r.records)), common,
		usPerMsg(r.ours.NATSCPU, r.records), usPerMsg(r.floor.NATSCPU, r.records))
	fmt.Fprintf(w, "RESULT ingest-rss ours=%.1fMiB floor=%.1fMiB ratio=%.2f %s scope_ours=server+client scope_floor=publisher nats_rss_ours=%.1fMiB nats_rss_floor=%.1fMiB\n",
		mib(r.ours.PeakRSS), mib(r.floor.PeakRSS), ratio(mib(r.ours.PeakRSS), mib(r.floor.PeakRSS)), common,
		mib(r.natsOurs), mib(r.natsFloor))
	verdict := "met"
	if ratio(r.ours.MsgsPerSec(), r.floor.MsgsPerSec()) < 0.8 {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "ingest: %d records: ours/floor throughput %.2f (target ≥ 0.80: %s); ours %.2fs, floor %.2fs; stored bytes per message ours %d, floor %d\n",
		r.records, ratio(r.ours.MsgsPerSec(), r.floor.MsgsPerSec()), verdict, r.ours.Seconds, r.floor.Seconds,
		r.ours.StreamBytes/uint64(r.records), r.floor.StreamBytes/uint64(r.records))
}

// printRSSFlatness compares peak RSS across the sizes run (the target: flat
// from 100k to 5M records).
func printRSSFlatness(w *os.File, runs []ingestRun) {
	if len(runs) < 2 {
		return
	}
	line := func(who string, rss func(ingestRun) int64) string {
		var parts []string
		for _, r := range runs {
			parts = append(parts, fmt.Sprintf("%d=%.1fMiB", r.records, mib(rss(r))))
		}
		growth := ratio(float64(rss(runs[len(runs)-1])), float64(rss(runs[0])))
		return fmt.Sprintf("%s %s (×%.2f)", who, strings.Join(parts, " "), growth)
	}
	fmt.Fprintf(w, "ingest: peak RSS by records: %s; %s\n",
		line("ours", func(r ingestRun) int64 { return r.ours.PeakRSS }),
		line("floor", func(r ingestRun) int64 { return r.floor.PeakRSS }))
}

// usPerMsg is CPU time per record in microseconds.
func usPerMsg(d time.Duration, records int64) float64 {
	if records == 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(records)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
