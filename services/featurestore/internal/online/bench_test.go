package online_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aifactory/aifactory/libs/testenv"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/online"
)

// Benchmarks against the Redis at FACTORY_TEST_REDIS_URL: ours vs the raw
// go-redis floor on the same keys (BENCHMARKS.md). Sizes: one view with 20
// field features, reads of 1 and 100 entities, writes of 100-row batches.

const (
	benchView     = "bench_v"
	benchEntities = 100
	benchFeatures = 20
)

var benchT0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func benchFields() []string {
	f := make([]string, benchFeatures)
	for i := range f {
		f[i] = fmt.Sprintf("feature_%02d", i)
	}
	return f
}

// benchRows returns benchEntities rows of 20 features: 8 doubles, 6
// int64s, 4 short strings, 2 bools.
func benchRows(at time.Time, seq uint64) []online.Latest {
	fields := benchFields()
	rows := make([]online.Latest, benchEntities)
	for i := range rows {
		vals := make(map[string]*featurestorev1.Value, benchFeatures)
		for j, f := range fields {
			var v *featurestorev1.Value
			switch {
			case j < 8:
				v = &featurestorev1.Value{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: float64(i*j) * 1.5}}
			case j < 14:
				v = &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: int64(i*1000 + j)}}
			case j < 18:
				v = &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: "segment-" + strconv.Itoa(i%7)}}
			default:
				v = &featurestorev1.Value{Kind: &featurestorev1.Value_BoolValue{BoolValue: (i+j)%2 == 0}}
			}
			vals[f] = v
		}
		rows[i] = online.Latest{Entity: "customer-" + strconv.Itoa(i), EventTime: at, Seq: seq, Values: vals}
	}
	return rows
}

// seededRedis returns a store with the bench rows written, plus a raw
// client and the hash keys of the rows.
func seededRedis(b *testing.B) (*online.Redis, *redis.Client, []string) {
	b.Helper()
	url := testenv.RedisURL(b)
	s := newRedisStore(b, url)
	opt, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	raw := redis.NewClient(opt)
	b.Cleanup(func() { _ = raw.Close() })
	if err := s.PutLatest(context.Background(), benchView, benchRows(benchT0, 1)); err != nil {
		b.Fatal(err)
	}
	keys := make([]string, benchEntities)
	for i := range keys {
		keys[i] = prefixOf(b, raw, i)
	}
	return s, raw, keys
}

// prefixOf finds the hash key of entity i (the store's prefix is random).
func prefixOf(b *testing.B, raw *redis.Client, i int) string {
	b.Helper()
	keys, _, err := raw.Scan(context.Background(), 0, "onlinetest:*:fs:{"+benchView+"}:customer-"+strconv.Itoa(i), 1<<20).Result()
	if err != nil || len(keys) != 1 {
		b.Fatalf("find bench key %d: %v %v", i, keys, err)
	}
	return keys[0]
}

func BenchmarkReadRedis(b *testing.B) {
	s, _, _ := seededRedis(b)
	fields := benchFields()
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("%dx%d", n, benchFeatures), func(b *testing.B) {
			reqs := make([]online.ReadRequest, n)
			for i := range reqs {
				reqs[i] = online.ReadRequest{View: benchView, Entity: "customer-" + strconv.Itoa(i), Fields: fields}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Read(ctx, reqs)
				if err != nil {
					b.Fatal(err)
				}
				if !res[n-1].Found {
					b.Fatal("not found")
				}
			}
		})
	}
}

// BenchmarkRawHMGET is the floor of BenchmarkReadRedis: go-redis pipelined
// HMGET of the same keys and fields, without decoding.
func BenchmarkRawHMGET(b *testing.B) {
	_, raw, keys := seededRedis(b)
	fields := benchFields()
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("%dx%d", n, benchFeatures), func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				pipe := raw.Pipeline()
				for _, k := range keys[:n] {
					pipe.HMGet(ctx, k, fields...)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutLatestRedis writes batches of 100 rows of 20 features, each
// newer than the last (so every row is applied).
func BenchmarkPutLatestRedis(b *testing.B) {
	s, _, _ := seededRedis(b)
	batches := make([][]online.Latest, 64)
	for i := range batches {
		batches[i] = benchRows(benchT0, 0)
	}
	ctx := context.Background()
	b.ReportAllocs()
	seq := uint64(1)
	for b.Loop() {
		seq++
		rows := batches[seq%uint64(len(batches))]
		for i := range rows {
			rows[i].EventTime, rows[i].Seq = benchT0.Add(time.Duration(seq)), seq
		}
		if err := s.PutLatest(ctx, benchView, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchEntities)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRawHSET is the floor of BenchmarkPutLatestRedis: go-redis
// pipelined HSET of the same keys and encoded values, without the
// newer-wins check.
func BenchmarkRawHSET(b *testing.B) {
	_, raw, keys := seededRedis(b)
	rows := benchRows(benchT0, 0)
	args := make([][]any, len(rows))
	for i, r := range rows {
		args[i] = []any{"__ts", "0", "__seq", "0"}
		for name, v := range r.Values {
			args[i] = append(args[i], name, encodeForBench(v))
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	seq := 1
	for b.Loop() {
		seq++
		pipe := raw.Pipeline()
		for i, k := range keys {
			a := args[i]
			a[1], a[3] = strconv.FormatInt(benchT0.Add(time.Duration(seq)).UnixNano(), 10), strconv.Itoa(seq)
			pipe.HSet(ctx, k, a...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchEntities)/b.Elapsed().Seconds(), "rows/s")
}

// encodeForBench gives values of the same size as the store's encoding
// (a tag byte plus payload) for the raw floor.
func encodeForBench(v *featurestorev1.Value) string {
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_StringValue:
		return "s" + k.StringValue
	case *featurestorev1.Value_Int64Value:
		return "i" + strconv.FormatInt(k.Int64Value, 36)
	case *featurestorev1.Value_DoubleValue:
		return "d12345678"
	default:
		return "T"
	}
}

func BenchmarkReadMemory(b *testing.B) {
	s := online.NewMemory()
	if err := s.PutLatest(context.Background(), benchView, benchRows(benchT0, 1)); err != nil {
		b.Fatal(err)
	}
	fields := benchFields()
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("%dx%d", n, benchFeatures), func(b *testing.B) {
			reqs := make([]online.ReadRequest, n)
			for i := range reqs {
				reqs[i] = online.ReadRequest{View: benchView, Entity: "customer-" + strconv.Itoa(i), Fields: fields}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Read(context.Background(), reqs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
