package pit

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aifactory/aifactory/services/featurestore/internal/features"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

const (
	tString = featurestorev1.ValueType_VALUE_TYPE_STRING
	tInt64  = featurestorev1.ValueType_VALUE_TYPE_INT64
	tDouble = featurestorev1.ValueType_VALUE_TYPE_DOUBLE
	tBool   = featurestorev1.ValueType_VALUE_TYPE_BOOL
	tTime   = featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP

	present  = featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
	notFound = featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
	expired  = featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED

	aCount     = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT
	aSum       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM
	aAvg       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG
	aMin       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MIN
	aMax       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MAX
	aLast      = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_LAST
	aDistinct  = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DISTINCT_COUNT
	aDaysSince = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

var customer = &featurestorev1.Entity{Name: "customer", JoinKeys: []*featurestorev1.JoinKey{{Name: "customer_id", Type: tString}}}

func compile(t testing.TB, entity *featurestorev1.Entity, name string, ttl time.Duration, fs ...*featurestorev1.Feature) *features.View {
	t.Helper()
	v, err := features.Compile(&featurestorev1.FeatureView{
		Name: name, Entity: entity.GetName(), TimestampField: "ts", Ttl: durationpb.New(ttl), Features: fs,
	}, entity)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func field(name string, typ featurestorev1.ValueType) *featurestorev1.Feature {
	return &featurestorev1.Feature{Name: name, Type: typ}
}

func agg(name string, typ featurestorev1.ValueType, fn featurestorev1.AggregationFunction, fieldName string, window time.Duration) *featurestorev1.Feature {
	return &featurestorev1.Feature{Name: name, Type: typ, Field: fieldName, Aggregation: fn, Window: durationpb.New(window)}
}

// ev builds an event of a one-slot-per-feature view.
func ev(key string, at time.Time, seq uint64, vals ...*featurestorev1.Value) features.Event {
	return features.Event{EntityKey: key, EventTime: at, Seq: seq, Values: vals}
}

type result struct {
	values   []*featurestorev1.Value
	statuses []featurestorev1.FeatureStatus
	times    []time.Time
}

// join runs JoinSorted over unsorted slices and returns results by Index.
func join(t testing.TB, rows []Row, views []*features.View, events [][]features.Event) []result {
	t.Helper()
	rows = slices.Clone(rows)
	SortRows(rows)
	var ins []ViewInput
	for i, v := range views {
		es := slices.Clone(events[i])
		SortEvents(es)
		ins = append(ins, ViewInput{View: v, Events: SliceEvents(es)})
	}
	out := make([]result, len(rows))
	err := JoinSorted(SliceRows(rows), ins, func(r *JoinedRow) error {
		out[r.Index] = result{slices.Clone(r.Values), slices.Clone(r.Statuses), slices.Clone(r.EventTimes)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestJoinEdges(t *testing.T) {
	i64 := features.Int64Value
	str := features.StringValue
	view := compile(t, customer, "v", 10*time.Second, field("x", tString))
	tests := []struct {
		name   string
		events []features.Event
		row    Row
		want   *featurestorev1.Value
		status featurestorev1.FeatureStatus
		at     time.Time
	}{
		{"event at row time is visible", []features.Event{ev("a", sec(5), 1, str("now"))}, Row{"a", sec(5), 0}, str("now"), present, sec(5)},
		{"future event invisible", []features.Event{ev("a", sec(6), 1, str("future"))}, Row{"a", sec(5), 0}, nil, notFound, time.Time{}},
		{"future event 1ns", []features.Event{ev("a", sec(1), 1, str("old")), ev("a", sec(5).Add(1), 2, str("future"))}, Row{"a", sec(5), 0}, str("old"), present, sec(1)},
		{"equal event times: greater seq wins", []features.Event{ev("a", sec(3), 9, str("later")), ev("a", sec(3), 2, str("earlier"))}, Row{"a", sec(5), 0}, str("later"), present, sec(3)},
		{"late arrival does not override newer event time", []features.Event{ev("a", sec(4), 1, str("new")), ev("a", sec(2), 7, str("late"))}, Row{"a", sec(5), 0}, str("new"), present, sec(4)},
		{"late arrival visible before newer", []features.Event{ev("a", sec(4), 1, str("new")), ev("a", sec(2), 7, str("late"))}, Row{"a", sec(3), 0}, str("late"), present, sec(2)},
		{"ttl exactly: present", []features.Event{ev("a", sec(0), 1, str("v"))}, Row{"a", sec(10), 0}, str("v"), present, sec(0)},
		{"ttl + 1ns: expired", []features.Event{ev("a", sec(0), 1, str("v"))}, Row{"a", sec(10).Add(1), 0}, nil, expired, sec(0)},
		{"null value of newest event is present", []features.Event{ev("a", sec(1), 1, str("v")), ev("a", sec(2), 2, nil)}, Row{"a", sec(3), 0}, nil, present, sec(2)},
		{"entity without events", []features.Event{ev("b", sec(1), 1, str("v"))}, Row{"a", sec(3), 0}, nil, notFound, time.Time{}},
		{"row before first event", []features.Event{ev("a", sec(4), 1, str("v"))}, Row{"a", sec(3), 0}, nil, notFound, time.Time{}},
		{"other entities ignored", []features.Event{ev("a", sec(1), 1, str("a")), ev("b", sec(2), 2, str("b")), ev("c", sec(2), 3, str("c"))}, Row{"b", sec(3), 0}, str("b"), present, sec(2)},
	}
	_ = i64
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := join(t, []Row{tc.row}, []*features.View{view}, [][]features.Event{tc.events})[0]
			if !proto.Equal(got.values[0], tc.want) || got.statuses[0] != tc.status || !got.times[0].Equal(tc.at) {
				t.Errorf("got %v %v %v, want %v %v %v", got.values[0], got.statuses[0], got.times[0], tc.want, tc.status, tc.at)
			}
		})
	}
}

func TestJoinTTLZeroNeverExpires(t *testing.T) {
	view := compile(t, customer, "v", 0, field("x", tInt64))
	got := join(t, []Row{{"a", sec(1e9), 0}}, []*features.View{view}, [][]features.Event{{ev("a", sec(0), 1, features.Int64Value(7))}})[0]
	if got.statuses[0] != present || got.values[0].GetInt64Value() != 7 {
		t.Fatalf("got %v %v", got.values[0], got.statuses[0])
	}
}

func TestJoinWindowEdges(t *testing.T) {
	w := 10 * time.Second
	view := compile(t, customer, "v", 0,
		agg("n", tInt64, aCount, "", w),
		agg("s", tInt64, aSum, "x", w),
		agg("last", tInt64, aLast, "x", w),
		agg("days", tDouble, aDaysSince, "", w),
	)
	i64 := features.Int64Value
	events := []features.Event{
		ev("a", sec(0), 1, nil, i64(1), i64(1), nil),
		ev("a", sec(1), 2, nil, i64(2), i64(2), nil),
		ev("a", sec(1), 3, nil, i64(4), i64(4), nil),
	}
	tests := []struct {
		name   string
		at     time.Time
		want   []*featurestorev1.Value
		status featurestorev1.FeatureStatus
	}{
		{"before any event", sec(-1), []*featurestorev1.Value{nil, nil, nil, nil}, notFound},
		{"all in", sec(1), []*featurestorev1.Value{i64(3), i64(7), i64(4), features.DoubleValue(0)}, present},
		{"first exactly window old: out", sec(10), []*featurestorev1.Value{i64(2), i64(6), i64(4), features.DoubleValue(9.0 / 86400)}, present},
		{"window - 1ns: in", sec(10).Add(-1), []*featurestorev1.Value{i64(3), i64(7), i64(4), features.DoubleValue(float64(9*time.Second-1) / float64(24*time.Hour))}, present},
		{"all out: present with count 0", sec(11), []*featurestorev1.Value{i64(0), i64(0), nil, nil}, present},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := join(t, []Row{{"a", tc.at, 0}}, []*features.View{view}, [][]features.Event{events})[0]
			for i := range tc.want {
				if !valuesClose(got.values[i], tc.want[i]) || got.statuses[i] != tc.status {
					t.Errorf("feature %d: got %v %v, want %v %v", i, got.values[i], got.statuses[i], tc.want[i], tc.status)
				}
			}
		})
	}
}

func TestJoinUnsorted(t *testing.T) {
	view := compile(t, customer, "v", 0, field("x", tInt64))
	noop := func(*JoinedRow) error { return nil }
	err := JoinSorted(SliceRows([]Row{{"b", sec(1), 0}, {"a", sec(1), 1}}), []ViewInput{{View: view, Events: SliceEvents(nil)}}, noop)
	if err == nil {
		t.Error("unsorted rows: no error")
	}
	err = JoinSorted(SliceRows([]Row{{"a", sec(2), 0}, {"a", sec(1), 1}}), []ViewInput{{View: view, Events: SliceEvents(nil)}}, noop)
	if err == nil {
		t.Error("rows unsorted by time: no error")
	}
	bad := []features.Event{ev("a", sec(1), 2, nil), ev("a", sec(1), 1, nil)}
	err = JoinSorted(SliceRows([]Row{{"a", sec(2), 0}}), []ViewInput{{View: view, Events: SliceEvents(bad)}}, noop)
	if err == nil {
		t.Error("events unsorted by seq: no error")
	}
	other := compile(t, &featurestorev1.Entity{Name: "product", JoinKeys: []*featurestorev1.JoinKey{{Name: "sku", Type: tString}}}, "p", 0, field("x", tInt64))
	err = JoinSorted(SliceRows(nil), []ViewInput{{View: view, Events: SliceEvents(nil)}, {View: other, Events: SliceEvents(nil)}}, noop)
	if err == nil {
		t.Error("mixed entities: no error")
	}
	err = JoinSorted(SliceRows(nil), []ViewInput{{View: view, Features: []int{3}, Events: SliceEvents(nil)}}, noop)
	if err == nil {
		t.Error("bad feature index: no error")
	}
	stop := errors.New("stop")
	err = JoinSorted(SliceRows([]Row{{"a", sec(1), 0}}), []ViewInput{{View: view, Events: SliceEvents(nil)}}, func(*JoinedRow) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("emit error: got %v", err)
	}
}

func TestJoinFeatureSubsetAndOrder(t *testing.T) {
	view := compile(t, customer, "v", 0, field("a", tInt64), field("b", tInt64), agg("n", tInt64, aCount, "", time.Hour))
	i64 := features.Int64Value
	events := []features.Event{ev("k", sec(0), 1, i64(1), i64(2), nil)}
	rows := []Row{{"k", sec(1), 0}}
	var got []*featurestorev1.Value
	err := JoinSorted(SliceRows(rows), []ViewInput{{View: view, Features: []int{2, 1}, Events: SliceEvents(events)}}, func(r *JoinedRow) error {
		got = slices.Clone(r.Values)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].GetInt64Value() != 1 || got[1].GetInt64Value() != 2 {
		t.Fatalf("got %v", got)
	}
}

// ---- property test against a brute-force reference ----

var region = &featurestorev1.Entity{Name: "customer", JoinKeys: []*featurestorev1.JoinKey{
	{Name: "region", Type: tString}, {Name: "customer_id", Type: tInt64},
}}

// featureMenu are the features a random view picks from; the record fields
// are s (string), n (int64), x (double), b (bool), at (timestamp), p, q
// (times, compared by the expression).
func featureMenu(r *rand.Rand) []*featurestorev1.Feature {
	win := func() time.Duration {
		return []time.Duration{time.Second, 3 * time.Second, 10 * time.Second, 25 * time.Second, 7*time.Second + 500*time.Millisecond, time.Hour}[r.IntN(6)]
	}
	return []*featurestorev1.Feature{
		{Name: "s", Type: tString},
		{Name: "n", Type: tInt64},
		{Name: "x", Type: tDouble},
		{Name: "b", Type: tBool},
		{Name: "at", Type: tTime},
		{Name: "late", Type: tInt64, Expression: "p > q"},
		agg("cnt", tInt64, aCount, "", win()),
		agg("sum_n", tInt64, aSum, "n", win()),
		agg("sum_x", tDouble, aSum, "x", win()),
		agg("avg_x", tDouble, aAvg, "x", win()),
		agg("min_n", tInt64, aMin, "n", win()),
		agg("max_x", tDouble, aMax, "x", win()),
		agg("min_x", tDouble, aMin, "x", win()),
		agg("max_n", tInt64, aMax, "n", win()),
		agg("last_s", tString, aLast, "s", win()),
		agg("distinct_s", tInt64, aDistinct, "s", win()),
		agg("days", tDouble, aDaysSince, "", win()),
		{Name: "late_sum", Type: tDouble, Expression: "p > q", Aggregation: aSum, Window: durationpb.New(win())},
	}
}

func randomView(t testing.TB, r *rand.Rand, name string) *features.View {
	menu := featureMenu(r)
	r.Shuffle(len(menu), func(i, j int) { menu[i], menu[j] = menu[j], menu[i] })
	menu = menu[:1+r.IntN(len(menu))]
	ttl := []time.Duration{0, time.Second, 5 * time.Second, 20 * time.Second}[r.IntN(4)]
	return compile(t, region, name, ttl, menu...)
}

func maybe(r *rand.Rand, v any) any {
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		return "missing"
	}
	return v
}

func randomEvents(t testing.TB, r *rand.Rand, v *features.View, keys [][2]any, n int) []features.Event {
	events := make([]features.Event, 0, n)
	for i := range n {
		k := keys[r.IntN(len(keys))]
		rec := map[string]any{"region": k[0], "customer_id": k[1], "ts": sec(r.IntN(60)).Add(time.Duration(r.IntN(2)) * 500 * time.Millisecond).Format(time.RFC3339Nano)}
		for name, val := range map[string]any{
			"s":  []string{"a", "b", "c", "d"}[r.IntN(4)],
			"n":  r.IntN(21) - 10,
			"x":  fmt.Sprintf("%.2f", r.Float64()*20-10),
			"b":  r.IntN(2) == 1,
			"at": sec(r.IntN(100)).Format(time.RFC3339),
			"p":  sec(r.IntN(5)).Format(time.RFC3339),
			"q":  sec(r.IntN(5)).Format(time.DateTime) + "Z",
		} {
			if m := maybe(r, val); m != "missing" {
				rec[name] = m
			}
		}
		data, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		e, err := v.Extract(data)
		if err != nil {
			t.Fatalf("extract %s: %v", data, err)
		}
		e.Seq = uint64(i) // arrival order: random with respect to event time
		events = append(events, e)
	}
	return events
}

// bruteForce computes one view's features for one row by scanning every
// event.
func bruteForce(v *features.View, events []features.Event, row Row) result {
	var vis []features.Event
	for _, e := range events {
		if e.EntityKey == row.EntityKey && !e.EventTime.After(row.Timestamp) {
			vis = append(vis, e)
		}
	}
	slices.SortFunc(vis, func(a, b features.Event) int {
		if c := a.EventTime.Compare(b.EventTime); c != 0 {
			return c
		}
		return int(a.Seq) - int(b.Seq)
	})
	// Newest by (time, seq), found by scanning, not by relying on order.
	var newest *features.Event
	for i := range vis {
		e := &vis[i]
		if newest == nil || e.EventTime.After(newest.EventTime) || (e.EventTime.Equal(newest.EventTime) && e.Seq > newest.Seq) {
			newest = e
		}
	}
	var res result
	for i, f := range v.Features {
		switch {
		case newest == nil:
			res.values = append(res.values, nil)
			res.statuses = append(res.statuses, notFound)
			res.times = append(res.times, time.Time{})
		case f.Aggregated():
			res.values = append(res.values, features.Aggregate(f.Aggregation, f.Type, vis, i, row.Timestamp, f.Window))
			res.statuses = append(res.statuses, present)
			var at time.Time
			for _, e := range vis {
				if e.EventTime.After(row.Timestamp.Add(-f.Window)) && e.EventTime.After(at) {
					at = e.EventTime
				}
			}
			res.times = append(res.times, at)
		case v.TTL > 0 && row.Timestamp.Sub(newest.EventTime) > v.TTL:
			res.values = append(res.values, nil)
			res.statuses = append(res.statuses, expired)
			res.times = append(res.times, newest.EventTime)
		default:
			res.values = append(res.values, newest.Values[i])
			res.statuses = append(res.statuses, present)
			res.times = append(res.times, newest.EventTime)
		}
	}
	return res
}

func valuesClose(a, b *featurestorev1.Value) bool {
	if da, ok := a.GetKind().(*featurestorev1.Value_DoubleValue); ok {
		db, ok := b.GetKind().(*featurestorev1.Value_DoubleValue)
		return ok && math.Abs(da.DoubleValue-db.DoubleValue) <= 1e-9*math.Max(1, math.Abs(db.DoubleValue))
	}
	return proto.Equal(a, b)
}

func TestJoinMatchesBruteForce(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 42))
		var keys [][2]any
		for i := range 1 + r.IntN(8) {
			keys = append(keys, [2]any{[]string{"eu", "us", "e\x1fu"}[r.IntN(3)], i % 4})
		}
		nViews := 1 + r.IntN(3)
		var views []*features.View
		var events [][]features.Event
		for i := range nViews {
			v := randomView(t, r, fmt.Sprintf("v%d", i))
			views = append(views, v)
			events = append(events, randomEvents(t, r, v, keys, r.IntN(80)))
		}
		var rows []Row
		for i := range r.IntN(60) {
			k := keys[r.IntN(len(keys))]
			if r.IntN(10) == 0 {
				k = [2]any{"nobody", 99} // entity without events
			}
			key, err := features.KeyFromRow(map[string]*featurestorev1.Value{
				"region": features.StringValue(k[0].(string)), "customer_id": features.Int64Value(int64(k[1].(int))),
			}, region)
			if err != nil {
				t.Fatal(err)
			}
			at := sec(r.IntN(70) - 5)
			if r.IntN(4) == 0 {
				at = at.Add(time.Duration(r.IntN(3)-1) * 500 * time.Millisecond)
			}
			rows = append(rows, Row{EntityKey: key, Timestamp: at, Index: int64(i)})
		}
		got := join(t, rows, views, events)
		for _, row := range rows {
			var want result
			for i, v := range views {
				b := bruteForce(v, events[i], row)
				want.values = append(want.values, b.values...)
				want.statuses = append(want.statuses, b.statuses...)
				want.times = append(want.times, b.times...)
			}
			g := got[row.Index]
			for j := range want.values {
				if !valuesClose(g.values[j], want.values[j]) || g.statuses[j] != want.statuses[j] || !g.times[j].Equal(want.times[j]) {
					t.Fatalf("seed %d row %d (%q@%s) feature %d %+v: got %v %v %v, want %v %v %v", seed, row.Index, row.EntityKey, row.Timestamp, j, describeFeature(views, j),
						g.values[j], g.statuses[j], g.times[j], want.values[j], want.statuses[j], want.times[j])
				}
			}
		}
	}
}

// ---- benchmark ----

// BenchmarkJoin joins 1M rows with 2M events of one view with 10 field
// features over 100k entities (20 events and 10 rows per entity).
func BenchmarkJoin(b *testing.B) {
	const (
		entities   = 100_000
		perEntityE = 20
		perEntityR = 10
		nFeatures  = 10
	)
	var fs []*featurestorev1.Feature
	for i := range nFeatures {
		fs = append(fs, field(fmt.Sprintf("f%d", i), tDouble))
	}
	view := compile(b, customer, "bench", 24*time.Hour, fs...)
	// Events share a pool of value vectors: the join never copies values.
	pool := make([][]*featurestorev1.Value, 1024)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range pool {
		pool[i] = make([]*featurestorev1.Value, nFeatures)
		for j := range pool[i] {
			pool[i][j] = features.DoubleValue(r.Float64())
		}
	}
	events := make([]features.Event, 0, entities*perEntityE)
	rows := make([]Row, 0, entities*perEntityR)
	for e := range entities {
		key := fmt.Sprintf("c%07d", e)
		for i := range perEntityE {
			at := t0.Add(time.Duration(i)*time.Hour + time.Duration(r.IntN(3600))*time.Second)
			events = append(events, features.Event{EntityKey: key, EventTime: at, Seq: uint64(len(events)), Values: pool[r.IntN(len(pool))]})
		}
		for range perEntityR {
			rows = append(rows, Row{EntityKey: key, Timestamp: t0.Add(time.Duration(r.IntN(24*3600)) * time.Second), Index: int64(len(rows))})
		}
	}
	SortEvents(events)
	SortRows(rows)
	var sink float64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		err := JoinSorted(SliceRows(rows), []ViewInput{{View: view, Events: SliceEvents(events)}}, func(jr *JoinedRow) error {
			if v := jr.Values[0]; v != nil {
				sink += v.GetDoubleValue()
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)), "ns/row")
	_ = sink
}

func describeFeature(views []*features.View, j int) string {
	for _, v := range views {
		if j < len(v.Features) {
			f := v.Features[j]
			return fmt.Sprintf("%s:%s %s w=%s ttl=%s", v.Name, f.Name, f.Aggregation, f.Window, v.TTL)
		}
		j -= len(v.Features)
	}
	return "?"
}
