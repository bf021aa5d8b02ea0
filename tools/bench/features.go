package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/aifactory/aifactory/services/featurestore/columns"
	batchresults "github.com/aifactory/aifactory/services/ingestion/results"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion"
)

// fsOptions are the features benchmark's flags.
type fsOptions struct {
	entities      int
	calls, warmup int
	redisURL      string
	redisServer   string
	externalRedis bool
}

var fsOpts fsOptions

func registerFeatureFlags(fs *flag.FlagSet) {
	def := os.Getenv("FACTORY_BENCH_REDIS_URL")
	if def == "" {
		def = "redis://127.0.0.1:6379"
	}
	fs.IntVar(&fsOpts.entities, "entities", 10_000, "features: distinct entities of the --records records materialized (and read online)")
	fs.IntVar(&fsOpts.calls, "online-calls", 5000, "features: measured GetOnlineFeatures calls per size (and as many floor round trips)")
	fs.IntVar(&fsOpts.warmup, "online-warmup", 500, "features: unmeasured warm-up calls per size (their answers are checked)")
	fs.StringVar(&fsOpts.redisServer, "redis-server", "redis-server", "features: redis-server binary to start on a free port (no persistence)")
	fs.StringVar(&fsOpts.redisURL, "redis-url", def, "features: Redis to use when redis-server is missing or with --external-redis (default $FACTORY_BENCH_REDIS_URL)")
	fs.BoolVar(&fsOpts.externalRedis, "external-redis", false, "features: use --redis-url instead of starting redis-server")
}

// fsParams is what the features child is asked to do.
type fsParams struct {
	NATSURL, RedisURL string
	Prefix            string // Redis key prefix of this run (ours; the floor adds "floor:")
	Records           int64
	Entities          int
	Calls, Warmup     int
	Inflight          int
	Seed              uint64
	CPUProfile        string `json:",omitempty"`
}

// onlineResult is one online size: latency distributions of ours, and of
// the floor's two parts and their per-iteration sum.
type onlineResult struct {
	Entities, Calls                        int
	OursP50, OursP99                       time.Duration
	FloorP50, FloorP99                     time.Duration // empty gRPC call + HMGET, summed per iteration
	EmptyP50, EmptyP99, HMGetP50, HMGetP99 time.Duration
}

// fsResult is what the features child measured.
type fsResult struct {
	Records         int64
	Entities        int // entities with at least one record
	IngestSeconds   float64
	OursSeconds     float64 // materialization: Apply → every record acked
	FloorSeconds    float64 // pipelined HSET, Exec time only
	HashesCompared  int
	Online          []onlineResult
	PeakRSS         int64
	RedisUsedMemory string
}

func runFeatures(ctx context.Context, o options) error {
	fo := fsOpts
	switch {
	case fo.entities <= 0 || int64(fo.entities) > o.records:
		return errors.New("--entities must be 1..--records")
	case fo.calls <= 0 || fo.warmup < 0:
		return errors.New("--online-calls must be positive, --online-warmup not negative")
	case fo.entities < 100:
		return errors.New("--entities must be at least 100 (the 100-entity reads)")
	}
	natsPath, err := natsServerBinary(ctx, o.natsServer)
	if err != nil {
		return err
	}
	nats, err := startNATS(ctx, natsPath, false)
	if err != nil {
		return err
	}
	defer nats.Stop()
	rs, err := startRedis(ctx, fo.redisServer, fo.redisURL, fo.externalRedis)
	if err != nil {
		return err
	}
	defer rs.Stop()
	redisWhere := "spawned"
	prefix := "bench:"
	if rs.cmd == nil {
		redisWhere = "external"
		var b [4]byte
		_, _ = rand.Read(b[:])
		prefix = "bench-" + hex.EncodeToString(b[:]) + ":" // a shared server: keys of this run only
	}
	p := fsParams{NATSURL: nats.URL, RedisURL: rs.URL, Prefix: prefix, Records: o.records, Entities: fo.entities,
		Calls: fo.calls, Warmup: fo.warmup, Inflight: o.inflight, Seed: o.seed}
	if o.cpuProfile != "" {
		if p.CPUProfile, err = filepath.Abs(o.cpuProfile + ".features"); err != nil {
			return err
		}
	}
	logf("features: %d records over %d entities, %d×20 features; Redis %s (%s) at %s", o.records, fo.entities, fsFeatures, rs.Version, redisWhere, rs.URL)
	var r fsResult
	if err := runJSONChild(ctx, "features-ours", p, &r); err != nil {
		return err
	}
	if p.CPUProfile != "" {
		logf("features: CPU profile of the materialization and online reads in %s", p.CPUProfile)
	}
	natsRSS, _ := nats.PeakRSS()
	printFeatures(os.Stdout, r, rs, redisWhere, natsRSS)
	return nil
}

func printFeatures(w *os.File, r fsResult, rs *redisServer, where string, natsRSS int64) {
	redisTag := fmt.Sprintf("redis=%s redis_server=%s", rs.Version, where)
	for _, on := range r.Online {
		name := fmt.Sprintf("online-%dx%d", on.Entities, fsFeatures)
		rt := ratio(ms(on.OursP50), ms(on.FloorP50))
		fmt.Fprintf(w, "RESULT %s ours=%.3fms floor=%.3fms ratio=%.2f entities=%d features=%d calls=%d p99_ours=%.3fms p99_floor=%.3fms p50_grpc_empty=%.3fms p50_hmget=%.3fms p99_grpc_empty=%.3fms p99_hmget=%.3fms p99_ratio=%.2f %s\n",
			name, ms(on.OursP50), ms(on.FloorP50), rt, on.Entities, fsFeatures, on.Calls, ms(on.OursP99), ms(on.FloorP99),
			ms(on.EmptyP50), ms(on.HMGetP50), ms(on.EmptyP99), ms(on.HMGetP99), ratio(ms(on.OursP99), ms(on.FloorP99)), redisTag)
		verdict := "met"
		if rt > 1.5 {
			verdict = "NOT met"
		}
		fmt.Fprintf(w, "features: %s: p50 ours/floor %.2f (target ≤ 1.50: %s)\n", name, rt, verdict)
	}
	ours := float64(r.Records) / r.OursSeconds
	floor := float64(r.Records) / r.FloorSeconds
	fmt.Fprintf(w, "RESULT materialize ours=%.0fevents/s floor=%.0fevents/s ratio=%.2f records=%d entities=%d features=%d offline=sqlite batch=500 ours_s=%.2f floor_s=%.2f rss_ours=%.1fMiB nats_rss=%.1fMiB redis_rss=%.1fMiB %s\n",
		ours, floor, ratio(ours, floor), r.Records, r.Entities, fsFeatures, r.OursSeconds, r.FloorSeconds,
		mib(r.PeakRSS), mib(natsRSS), mib(rs.PeakRSS()), redisTag)
	fmt.Fprintf(w, "features: ingestion of the %d records (untimed set-up) took %.1fs; %d entity hashes of ours and the floor compared equal (all fields but __seq)\n",
		r.Records, r.IngestSeconds, r.HashesCompared)
}

// runFeaturesChild runs in the child process: the mesh, the data, the
// materialization (ours, then the floor), then the online reads.
func runFeaturesChild(ctx context.Context, raw json.RawMessage) (any, error) {
	var p fsParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	// The process runs as the services' binaries do (as in the ingest
	// benchmark's ours phase).
	service.TuneGC()
	m, err := startMesh(ctx, meshOptions{natsURL: p.NATSURL, featureStore: true, redisURL: p.RedisURL, redisPrefix: p.Prefix, durablePrefix: "bench"})
	if err != nil {
		return nil, err
	}
	defer m.stop()
	rdb, err := newBenchRedis(p.RedisURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	defer cleanupRedis(context.WithoutCancel(ctx), rdb, p.Prefix)

	tok, err := m.signer.Issue(auth.Principal{Name: "bench", Roles: []string{auth.RoleAdmin}}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	conn, err := service.Dial(m.addr, service.StaticToken(tok), grpc.WithDefaultCallOptions(
		grpc.MaxCallSendMsgSize(ingestion.MaxMessageBytes), grpc.MaxCallRecvMsgSize(ingestion.MaxMessageBytes)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	in := ingestionv1.NewIngestionServiceClient(conn)
	fsc := featurestorev1.NewFeatureStoreServiceClient(conn)
	if err := fsPublishContract(ctx, catalogv1.NewCatalogServiceClient(conn), in); err != nil {
		return nil, err
	}

	// Set-up: every record on the data stream, through ingestion.
	gen := newFSGen(p.Seed, p.Entities)
	res := fsResult{Records: p.Records}
	start := time.Now()
	latest, err := fsIngest(ctx, in, gen, p)
	if err != nil {
		return nil, err
	}
	res.IngestSeconds = time.Since(start).Seconds()
	res.Entities = len(latest)
	stream, err := m.bus.JetStream().Stream(ctx, bus.DataStream(fsDomain).Name)
	if err != nil {
		return nil, err
	}
	si, err := stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	if si.State.Msgs != uint64(p.Records) {
		return nil, fmt.Errorf("%s holds %d messages, want %d", si.Config.Name, si.State.Msgs, p.Records)
	}
	logf("features: %d records ingested in %.1fs; materializing", p.Records, res.IngestSeconds)

	if p.CPUProfile != "" {
		f, err := os.Create(p.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}

	// Ours: apply the view (its consumer starts from the stream's first
	// record) and wait until the consumer acknowledged the last one; the
	// feature store acks a batch after the offline history and Redis hold it.
	version, elapsed, err := fsMaterialize(ctx, fsc, stream, si.State.LastSeq)
	if err != nil {
		return nil, err
	}
	res.OursSeconds = elapsed.Seconds()
	ns := fsView + "@" + strconv.FormatInt(version, 10)
	logf("features: ours materialized %d records in %.2fs (%.0f events/s)", p.Records, elapsed.Seconds(), float64(p.Records)/elapsed.Seconds())

	// Floor: raw pipelined HSET of the same rows, in batches of 500.
	floorPrefix := p.Prefix + "floor:"
	if res.FloorSeconds, err = fsFloorHSET(ctx, rdb, gen, p.Records, floorPrefix, ns); err != nil {
		return nil, err
	}
	logf("features: floor HSET %d rows in %.2fs", p.Records, res.FloorSeconds)
	if res.HashesCompared, err = fsCompareHashes(ctx, rdb, gen, latest, p.Prefix, floorPrefix, ns); err != nil {
		return nil, err
	}
	if mem, err := rdb.Info(ctx, "memory").Result(); err == nil {
		res.RedisUsedMemory = infoField(mem, "used_memory_human")
	}

	// Online reads, on a quiet process: the offline history's consumer
	// (SQL, slower than Redis) may still be catching up, and its CPU would
	// be measured as read latency.
	offlineStart := time.Now()
	if err := fsConsumerDone(ctx, stream, fmt.Sprintf("bench-%s-v%d-offline", fsView, version), si.State.LastSeq); err != nil {
		return nil, err
	}
	logf("features: waited %.1fs for the offline history to catch up before the online reads", time.Since(offlineStart).Seconds())
	health := healthpb.NewHealthClient(conn)
	keys := make([]string, 0, len(latest))
	for e := range p.Entities {
		if _, ok := latest[fsEntityKey(e)]; ok {
			keys = append(keys, fsEntityKey(e))
		}
	}
	for _, n := range []int{1, 100} {
		on, err := fsOnline(ctx, fsc, health, rdb, gen, latest, keys, p, ns, n)
		if err != nil {
			return nil, err
		}
		logf("features: online %d×%d: p50 ours %.3fms floor %.3fms", n, fsFeatures, ms(on.OursP50), ms(on.FloorP50))
		res.Online = append(res.Online, on)
	}
	pprof.StopCPUProfile()
	if res.PeakRSS, err = PeakRSS("self"); err != nil {
		return nil, err
	}
	return res, nil
}

// fsPublishContract creates the domain and product, publishes the contract
// and waits until ingestion enforces it.
func fsPublishContract(ctx context.Context, cat catalogv1.CatalogServiceClient, in ingestionv1.IngestionServiceClient) error {
	if _, err := cat.CreateDomain(ctx, &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{Name: fsDomain, Description: "tools/bench features"}}); err != nil {
		return fmt.Errorf("create domain: %w", err)
	}
	if _, err := cat.CreateDataProduct(ctx, &catalogv1.CreateDataProductRequest{Product: &catalogv1.DataProduct{Domain: fsDomain, Name: fsProduct}}); err != nil {
		return fmt.Errorf("create product: %w", err)
	}
	pub, err := cat.PublishContract(ctx, &catalogv1.PublishContractRequest{
		Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: fsContractYAML()}})
	if err != nil {
		return fmt.Errorf("publish contract: %w", err)
	}
	want := pub.GetContract().GetVersion()
	target := &ingestionv1.Target{Domain: fsDomain, Product: fsProduct, EventTimeField: fsTSField}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := in.Ingest(ctx, &ingestionv1.IngestRequest{Target: target})
		if err == nil && resp.GetSummary().GetContractVersion() == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ingestion does not enforce contract %s after 30s: %v", want, err)
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// fsIngest writes every record through IngestionService.Ingest in batches
// of 1000, inflight batches at a time, and returns each entity's newest
// record index.
func fsIngest(ctx context.Context, in ingestionv1.IngestionServiceClient, gen *fsGen, p fsParams) (map[string]int64, error) {
	latest := make(map[string]int64, p.Entities)
	const batch = 1000
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(p.Inflight, 1))
	target := &ingestionv1.Target{Domain: fsDomain, Product: fsProduct, EventTimeField: fsTSField}
	for first := int64(0); first < p.Records; first += batch {
		n := min(batch, p.Records-first)
		recs := make([]*ingestionv1.Record, n)
		for j := range n {
			rec := gen.record(first + j)
			latest[rec.entity] = first + j // records are generated in index order
			recs[j] = &ingestionv1.Record{Json: rec.appendJSON(nil, p.Seed)}
		}
		g.Go(func() error {
			resp, err := in.Ingest(gctx, &ingestionv1.IngestRequest{Target: target, Records: recs})
			if err != nil {
				return fmt.Errorf("ingest records %d..: %w", first, err)
			}
			if s := resp.GetSummary(); s.GetStored() != int32(n) {
				prob := ""
				for _, r := range batchresults.Expand(resp.GetRecords()) {
					if r.GetOutcome() != ingestionv1.Outcome_OUTCOME_STORED {
						prob = fmt.Sprintf("record %d: %v %s %v", r.GetIndex(), r.GetOutcome(), r.GetError(), r.GetViolations())
						break
					}
				}
				return fmt.Errorf("ingest records %d..: %d of %d stored: %s", first, s.GetStored(), n, prob)
			}
			return nil
		})
	}
	return latest, g.Wait()
}

// fsMaterialize applies the feature view and waits until its consumer has
// acknowledged every record up to lastSeq. The clock starts just before
// the Apply that succeeds (the feature store starts the consumer when it
// applies the view).
func fsMaterialize(ctx context.Context, fsc featurestorev1.FeatureStoreServiceClient, stream jetstream.Stream, lastSeq uint64) (int64, time.Duration, error) {
	var (
		start   time.Time
		version int64
	)
	for deadline := time.Now().Add(30 * time.Second); ; {
		start = time.Now()
		resp, err := fsc.Apply(ctx, &featurestorev1.ApplyRequest{Yaml: fsFeaturesYAML()})
		if err == nil {
			for _, c := range resp.GetChanges() {
				if c.GetKind() == "feature_view" && c.GetName() == fsView {
					version = c.GetVersion()
				}
			}
			if version == 0 {
				return 0, 0, fmt.Errorf("apply: no feature view %s in %v", fsView, resp.GetChanges())
			}
			break
		}
		// The feature store's catalog view may not know the contract yet.
		if c := status.Code(err); (c != codes.FailedPrecondition && c != codes.InvalidArgument && c != codes.NotFound) || time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("apply: %w", err)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
	// "Into Redis": the online sink's consumer (the offline history has its own).
	if err := fsConsumerDone(ctx, stream, fmt.Sprintf("bench-%s-v%d-online", fsView, version), lastSeq); err != nil {
		return 0, 0, err
	}
	return version, time.Since(start), nil
}

// fsConsumerDone waits until durable has acknowledged every record up to
// lastSeq.
func fsConsumerDone(ctx context.Context, stream jetstream.Stream, durable string, lastSeq uint64) error {
	var last *jetstream.ConsumerInfo
	for deadline := time.Now().Add(30 * time.Minute); ; {
		c, err := stream.Consumer(ctx, durable)
		if err == nil {
			info, err := c.Info(ctx)
			if err == nil {
				last = info
				if info.AckFloor.Stream >= lastSeq && info.NumAckPending == 0 && info.NumPending == 0 {
					return nil
				}
			}
		} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("consumer %s not done after 30 minutes: %+v", durable, last)
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}

// fsFloorHSET writes every record's latest row with raw pipelined HSETs
// (500 per pipeline, as the feature store batches), timing the Execs only.
func fsFloorHSET(ctx context.Context, rdb *redis.Client, gen *fsGen, records int64, prefix, ns string) (float64, error) {
	const batch = 500
	var total time.Duration
	for first := int64(0); first < records; first += batch {
		n := min(batch, records-first)
		pipe := rdb.Pipeline()
		for j := range n {
			rec := gen.record(first + j)
			pipe.HSet(ctx, fsLatestKey(prefix, ns, rec.entity), rec.hsetArgs(uint64(first+j+1))...)
		}
		start := time.Now()
		_, err := pipe.Exec(ctx)
		total += time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("floor HSET: %w", err)
		}
	}
	return total.Seconds(), nil
}

// fsCompareHashes checks that every entity's hash written by the feature
// store equals the floor's (but for __seq, the stream sequence there) and
// holds the entity's newest record.
func fsCompareHashes(ctx context.Context, rdb *redis.Client, gen *fsGen, latest map[string]int64, prefix, floorPrefix, ns string) (int, error) {
	ents := make([]string, 0, len(latest))
	for e := range latest {
		ents = append(ents, e)
	}
	compared := 0
	for len(ents) > 0 {
		chunk := ents[:min(1000, len(ents))]
		ents = ents[len(chunk):]
		pipe := rdb.Pipeline()
		ours := make([]*redis.MapStringStringCmd, len(chunk))
		floor := make([]*redis.MapStringStringCmd, len(chunk))
		for i, e := range chunk {
			ours[i] = pipe.HGetAll(ctx, fsLatestKey(prefix, ns, e))
			floor[i] = pipe.HGetAll(ctx, fsLatestKey(floorPrefix, ns, e))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return 0, err
		}
		for i, e := range chunk {
			o, f := ours[i].Val(), floor[i].Val()
			rec := gen.record(latest[e])
			if o["__ts"] != strconv.FormatInt(rec.ts.UnixNano(), 10) {
				return 0, fmt.Errorf("entity %s: ours holds __ts %q, want the newest record's %d", e, o["__ts"], rec.ts.UnixNano())
			}
			if len(o) != len(f) || len(o) != fsFeatures+2 {
				return 0, fmt.Errorf("entity %s: ours has %d fields, floor %d, want %d", e, len(o), len(f), fsFeatures+2)
			}
			for k, v := range o {
				if k != "__seq" && f[k] != v {
					return 0, fmt.Errorf("entity %s field %s: ours %q, floor %q", e, k, v, f[k])
				}
			}
			compared++
		}
	}
	return compared, nil
}

// fsOnline measures n-entity reads: per iteration, ours (GetOnlineFeatures
// of the 20 features), then the floor's empty gRPC round trip (health
// Check on the same connection) and its pipelined HMGET of the same keys
// and fields (__ts + the 20, as the feature store asks).
func fsOnline(ctx context.Context, fsc featurestorev1.FeatureStoreServiceClient, health healthpb.HealthClient, rdb *redis.Client,
	gen *fsGen, latest map[string]int64, keys []string, p fsParams, ns string, n int) (onlineResult, error) {
	refs := make([]string, fsFeatures)
	fields := []string{"__ts"}
	for j := range fsFeatures {
		refs[j] = fsView + ":" + fsFeatureName(j)
		fields = append(fields, fsFeatureName(j))
	}
	rnd := mrand.New(mrand.NewPCG(p.Seed, uint64(n)))
	var ours, floor, empty, hmget Latencies
	picked := make(map[int]bool, n)
	idx := make([]int, n)
	for it := range p.Warmup + p.Calls {
		ents := make([]string, n)
		for k, e := range sampleDistinct(rnd, len(keys), idx, picked) {
			ents[k] = keys[e]
		}
		// Column-major entities, as a client reading many entities sends them.
		req := &featurestorev1.GetOnlineFeaturesRequest{Features: refs,
			EntityColumns: []*featurestorev1.JoinKeyColumn{{Name: fsKey, Strings: ents}}}

		t0 := time.Now()
		resp, err := fsc.GetOnlineFeatures(ctx, req)
		dOurs := time.Since(t0)
		if err != nil {
			return onlineResult{}, fmt.Errorf("GetOnlineFeatures: %w", err)
		}
		t1 := time.Now()
		if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			return onlineResult{}, fmt.Errorf("health Check: %w", err)
		}
		dEmpty := time.Since(t1)
		t2 := time.Now()
		pipe := rdb.Pipeline()
		cmds := make([]*redis.SliceCmd, n)
		for k, e := range ents {
			cmds[k] = pipe.HMGet(ctx, fsLatestKey(p.Prefix, ns, e), fields...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return onlineResult{}, fmt.Errorf("floor HMGET: %w", err)
		}
		dHMGet := time.Since(t2)
		if got := columns.Entities(resp); got != n {
			return onlineResult{}, fmt.Errorf("GetOnlineFeatures: %d results for %d entities", got, n)
		}
		if it < p.Warmup || it == p.Warmup+p.Calls-1 {
			if err := fsCheckOnline(gen, latest, ents, resp, cmds); err != nil {
				return onlineResult{}, err
			}
			if it < p.Warmup {
				continue
			}
		}
		ours.Add(dOurs)
		empty.Add(dEmpty)
		hmget.Add(dHMGet)
		floor.Add(dEmpty + dHMGet)
	}
	return onlineResult{
		Entities: n, Calls: p.Calls,
		OursP50: ours.Quantile(0.5), OursP99: ours.Quantile(0.99),
		FloorP50: floor.Quantile(0.5), FloorP99: floor.Quantile(0.99),
		EmptyP50: empty.Quantile(0.5), EmptyP99: empty.Quantile(0.99),
		HMGetP50: hmget.Quantile(0.5), HMGetP99: hmget.Quantile(0.99),
	}, nil
}

// sampleDistinct fills idx with distinct random indexes below n, reusing
// picked: the harness allocates next to nothing per call, so the garbage
// collector it would start does not run during the measured calls.
func sampleDistinct(rnd *mrand.Rand, n int, idx []int, picked map[int]bool) []int {
	clear(picked)
	for k := range idx {
		e := rnd.IntN(n)
		for picked[e] {
			e = rnd.IntN(n)
		}
		picked[e] = true
		idx[k] = e
	}
	return idx
}

// fsCheckOnline checks that ours answered every entity's newest record and
// the floor read the same encoded values.
func fsCheckOnline(gen *fsGen, latest map[string]int64, ents []string, resp *featurestorev1.GetOnlineFeaturesResponse, cmds []*redis.SliceCmd) error {
	for k, e := range ents {
		rec := gen.record(latest[e])
		raw := cmds[k].Val()
		for j := range fsFeatures {
			col := resp.GetColumns()[j]
			if st := columns.Status(col, k); st != featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT {
				return fmt.Errorf("online: entity %s feature %s: status %v", e, fsFeatureName(j), st)
			}
			v := columns.Value(col, k)
			ok := false
			switch j % 3 {
			case 0:
				ok = v.GetDoubleValue() == rec.vals[j].f
			case 1:
				ok = v.GetInt64Value() == rec.vals[j].i
			default:
				ok = v.GetStringValue() == rec.vals[j].s
			}
			if !ok {
				return fmt.Errorf("online: entity %s feature %s: got %v, want record %d's value", e, fsFeatureName(j), v, rec.id)
			}
			if s, _ := raw[j+1].(string); s != rec.encoded(j) {
				return fmt.Errorf("floor: entity %s feature %s: HMGET read %q, want %q", e, fsFeatureName(j), s, rec.encoded(j))
			}
		}
	}
	return nil
}

// cleanupRedis deletes this run's keys (an external server is shared; a
// spawned one dies with the run anyway).
func cleanupRedis(ctx context.Context, rdb *redis.Client, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			rdb.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Unlink(ctx, batch...)
	}
}
