// Package onlinetest is the conformance suite every online.Store passes:
// newer-wins with Seq tie-breaks, idempotent redelivery, event windows,
// batched reads, concurrent writers and value round-trips.
package onlinetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
	"github.com/aifactory/aifactory/services/featurestore/internal/online"
)

// Run runs the suite; newStore returns an empty store and arranges its
// cleanup (each subtest gets its own).
func Run(t *testing.T, newStore func(t *testing.T) online.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s online.Store)
	}{
		{"NewerWins", testNewerWins},
		{"OutOfOrder", testOutOfOrder},
		{"SeqTieBreak", testSeqTieBreak},
		{"Redelivery", testRedelivery},
		{"MergeKeepsAbsentFeatures", testMerge},
		{"ValueTypesRoundTrip", testValueTypes},
		{"MissingKeys", testMissing},
		{"ViewsAreSeparate", testViewsSeparate},
		{"ManyKeysOneRead", testManyKeys},
		{"EventsIdempotent", testEventsIdempotent},
		{"EventsTrimmed", testEventsTrimmed},
		{"EventsSinceAndOrder", testEventsSince},
		{"EventsWithoutWindow", testEventsNoWindow},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentEvents", testConcurrentEvents},
		{"InvalidArguments", testInvalid},
		{"EmptyBatches", testEmpty},
		{"Ping", func(t *testing.T, s online.Store) {
			if err := s.Ping(ctx(t)); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

const view = "orders_v"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func str(s string) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: s}}
}

func i64(x int64) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: x}}
}

func f64(x float64) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: x}}
}

func boolean(b bool) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_BoolValue{BoolValue: b}}
}

func ts(t time.Time) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(t)}}
}

func row(entity string, at time.Time, seq uint64, kv ...any) online.Latest {
	r := online.Latest{Entity: entity, EventTime: at, Seq: seq, Values: map[string]*featurestorev1.Value{}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Values[kv[i].(string)] = kv[i+1].(*featurestorev1.Value)
	}
	return r
}

func put(t *testing.T, s online.Store, rows ...online.Latest) {
	t.Helper()
	if err := s.PutLatest(ctx(t), view, rows); err != nil {
		t.Fatalf("PutLatest: %v", err)
	}
}

func read1(t *testing.T, s online.Store, entity string, fields ...string) online.ReadResult {
	t.Helper()
	res, err := s.Read(ctx(t), []online.ReadRequest{{View: view, Entity: entity, Fields: fields}})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("Read returned %d results for 1 request", len(res))
	}
	return res[0]
}

// wantRow checks a found row's event time and values.
func wantRow(t *testing.T, got online.ReadResult, at time.Time, want ...*featurestorev1.Value) {
	t.Helper()
	if !got.Found {
		t.Fatalf("row not found")
	}
	if !got.EventTime.Equal(at) {
		t.Errorf("EventTime = %v, want %v", got.EventTime, at)
	}
	if len(got.Values) != len(want) {
		t.Fatalf("got %d values, want %d", len(got.Values), len(want))
	}
	for i := range want {
		if !sameValue(got.Values[i], want[i]) {
			t.Errorf("value %d = %v, want %v", i, got.Values[i], want[i])
		}
	}
}

// sameValue compares Values, treating NaN as equal to NaN and nil as "not
// stored" (distinct from a stored null).
func sameValue(a, b *featurestorev1.Value) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	x, okx := a.GetKind().(*featurestorev1.Value_DoubleValue)
	y, oky := b.GetKind().(*featurestorev1.Value_DoubleValue)
	if okx && oky {
		if math.IsNaN(x.DoubleValue) || math.IsNaN(y.DoubleValue) {
			return math.IsNaN(x.DoubleValue) && math.IsNaN(y.DoubleValue)
		}
		return math.Float64bits(x.DoubleValue) == math.Float64bits(y.DoubleValue)
	}
	return proto.Equal(a, b)
}

func testNewerWins(t *testing.T, s online.Store) {
	put(t, s, row("c1", t0, 1, "amount", f64(1), "status", str("new")))
	put(t, s, row("c1", t0.Add(time.Second), 1, "amount", f64(2), "status", str("paid")))
	wantRow(t, read1(t, s, "c1", "amount", "status"), t0.Add(time.Second), f64(2), str("paid"))

	// Older rows change nothing, whatever their Seq.
	put(t, s, row("c1", t0, 99, "amount", f64(3), "status", str("stale")))
	put(t, s, row("c1", t0.Add(time.Second-time.Nanosecond), math.MaxUint64, "amount", f64(4)))
	wantRow(t, read1(t, s, "c1", "amount", "status"), t0.Add(time.Second), f64(2), str("paid"))

	// A newer row by one nanosecond wins even with a smaller Seq.
	put(t, s, row("c1", t0.Add(time.Second+time.Nanosecond), 0, "amount", f64(5)))
	wantRow(t, read1(t, s, "c1", "amount", "status"), t0.Add(time.Second+time.Nanosecond), f64(5), str("paid"))
}

func testOutOfOrder(t *testing.T, s online.Store) {
	// Within one batch and across batches, in shuffled order.
	var rows []online.Latest
	for i := range 50 {
		rows = append(rows, row("c1", t0.Add(time.Duration(i)*time.Minute), uint64(i), "n", i64(int64(i))))
		rows = append(rows, row("c2", t0.Add(time.Duration(i)*time.Minute), uint64(i), "n", i64(int64(-i))))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	put(t, s, rows[:40]...)
	put(t, s, rows[40:]...)
	for _, r := range rows {
		put(t, s, r) // one by one again, still shuffled
	}
	last := t0.Add(49 * time.Minute)
	wantRow(t, read1(t, s, "c1", "n"), last, i64(49))
	wantRow(t, read1(t, s, "c2", "n"), last, i64(-49))
}

func testSeqTieBreak(t *testing.T, s online.Store) {
	put(t, s, row("c1", t0, 5, "v", str("seq5")))
	put(t, s, row("c1", t0, 3, "v", str("seq3")))
	wantRow(t, read1(t, s, "c1", "v"), t0, str("seq5"))
	put(t, s, row("c1", t0, 5, "v", str("seq5-again")))
	wantRow(t, read1(t, s, "c1", "v"), t0, str("seq5"))
	put(t, s, row("c1", t0, 7, "v", str("seq7")))
	wantRow(t, read1(t, s, "c1", "v"), t0, str("seq7"))
	// Seqs beyond 2^53 and of different lengths compare exactly.
	put(t, s, row("c1", t0, 1<<60, "v", str("big")))
	put(t, s, row("c1", t0, 1<<60-1, "v", str("big-1")))
	put(t, s, row("c1", t0, 999, "v", str("short")))
	wantRow(t, read1(t, s, "c1", "v"), t0, str("big"))
	put(t, s, row("c1", t0, math.MaxUint64, "v", str("max")))
	wantRow(t, read1(t, s, "c1", "v"), t0, str("max"))
}

func testRedelivery(t *testing.T, s online.Store) {
	r := row("c1", t0, 10, "v", i64(1), "w", str("x"))
	for range 3 {
		put(t, s, r, r)
	}
	wantRow(t, read1(t, s, "c1", "v", "w"), t0, i64(1), str("x"))
	put(t, s, row("c1", t0.Add(time.Hour), 11, "v", i64(2), "w", str("y")))
	put(t, s, r) // redelivered after a newer row
	wantRow(t, read1(t, s, "c1", "v", "w"), t0.Add(time.Hour), i64(2), str("y"))
}

func testMerge(t *testing.T, s online.Store) {
	put(t, s, row("c1", t0, 1, "a", i64(1), "b", i64(2)))
	put(t, s, row("c1", t0.Add(time.Second), 1, "b", i64(3), "c", &featurestorev1.Value{}))
	wantRow(t, read1(t, s, "c1", "a", "b", "c"), t0.Add(time.Second), i64(1), i64(3), &featurestorev1.Value{})
	// A row with no values still advances the event time.
	put(t, s, row("c1", t0.Add(2*time.Second), 1))
	wantRow(t, read1(t, s, "c1", "a"), t0.Add(2*time.Second), i64(1))
}

func testValueTypes(t *testing.T, s online.Store) {
	null := &featurestorev1.Value{}
	cases := []struct {
		name string
		v    *featurestorev1.Value
	}{
		{"str_empty", str("")},
		{"str_ascii", str("hello")},
		{"str_unicode", str("héllo, 世界 🚀")},
		{"str_binary", str("a|b\x00c\xff{}:")},
		{"str_long", str(string(make([]byte, 100_000)))},
		{"int_zero", i64(0)},
		{"int_neg", i64(-1)},
		{"int_min", i64(math.MinInt64)},
		{"int_max", i64(math.MaxInt64)},
		{"dbl_zero", f64(0)},
		{"dbl_negzero", f64(math.Copysign(0, -1))},
		{"dbl_pi", f64(math.Pi)},
		{"dbl_tiny", f64(math.SmallestNonzeroFloat64)},
		{"dbl_max", f64(-math.MaxFloat64)},
		{"dbl_inf", f64(math.Inf(1))},
		{"dbl_nan", f64(math.NaN())},
		{"bool_true", boolean(true)},
		{"bool_false", boolean(false)},
		{"ts_now", ts(t0)},
		{"ts_epoch", ts(time.Unix(0, 0))},
		{"ts_before_epoch", ts(time.Date(1901, 1, 2, 3, 4, 5, 999999999, time.UTC))},
		{"ts_far", ts(time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC))},
		{"null", null},
	}
	r := online.Latest{Entity: "c1", EventTime: t0, Values: map[string]*featurestorev1.Value{"nil_is_null": nil}}
	fields := []string{"nil_is_null"}
	want := []*featurestorev1.Value{null}
	for _, c := range cases {
		r.Values[c.name] = c.v
		fields = append(fields, c.name)
		want = append(want, c.v)
	}
	put(t, s, r)
	got := read1(t, s, "c1", fields...)
	wantRow(t, got, t0, want...)

	// Events carry the same types.
	ev := online.AggEvent{Entity: "c1", ID: "e1", EventTime: t0, Inputs: append([]*featurestorev1.Value{nil}, want[1:]...)}
	if err := s.AddEvents(ctx(t), view, time.Hour, []online.AggEvent{ev}); err != nil {
		t.Fatalf("AddEvents: %v", err)
	}
	res, err := s.Read(ctx(t), []online.ReadRequest{{View: view, Entity: "c1", WithEvents: true}})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if n := len(res[0].Events); n != 1 {
		t.Fatalf("got %d events, want 1", n)
	}
	e := res[0].Events[0]
	if e.ID != "e1" || e.Entity != "c1" || !e.EventTime.Equal(t0) || len(e.Inputs) != len(want) {
		t.Fatalf("event = %+v", e)
	}
	for i := range want {
		if !sameValue(e.Inputs[i], want[i]) {
			t.Errorf("input %d = %v, want %v", i, e.Inputs[i], want[i])
		}
	}

	// Returned Values are the caller's to modify.
	got.Values[1].Kind = &featurestorev1.Value_StringValue{StringValue: "mutated"}
	wantRow(t, read1(t, s, "c1", fields[1]), t0, want[1])
}

func testMissing(t *testing.T, s online.Store) {
	put(t, s, row("c1", t0, 1, "a", i64(1)))
	res, err := s.Read(ctx(t), []online.ReadRequest{
		{View: view, Entity: "nobody", Fields: []string{"a", "b"}},
		{View: view, Entity: "c1", Fields: []string{"b", "a"}},
		{View: view, Entity: "nobody", Fields: []string{"a"}, WithEvents: true},
		{View: view, Entity: "c1"}, // existence only
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if r := res[0]; r.Found || !r.EventTime.IsZero() || len(r.Values) != 2 || r.Values[0] != nil || r.Values[1] != nil {
		t.Errorf("missing entity: %+v", r)
	}
	wantRow(t, res[1], t0, nil, i64(1))
	if r := res[2]; r.Found || len(r.Events) != 0 || len(r.Values) != 1 || r.Values[0] != nil {
		t.Errorf("missing entity with events: %+v", r)
	}
	if r := res[3]; !r.Found || !r.EventTime.Equal(t0) || len(r.Values) != 0 {
		t.Errorf("existence-only read: %+v", r)
	}
	if res, err := s.Read(ctx(t), nil); err != nil || len(res) != 0 {
		t.Errorf("Read(nil) = %v, %v", res, err)
	}
}

func testViewsSeparate(t *testing.T, s online.Store) {
	c := ctx(t)
	if err := s.PutLatest(c, "v1", []online.Latest{row("k", t0, 1, "f", i64(1))}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLatest(c, "v2", []online.Latest{row("k", t0.Add(-time.Hour), 1, "f", i64(2))}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvents(c, "v1", time.Hour, []online.AggEvent{{Entity: "k", ID: "e", EventTime: t0}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Read(c, []online.ReadRequest{
		{View: "v1", Entity: "k", Fields: []string{"f"}, WithEvents: true},
		{View: "v2", Entity: "k", Fields: []string{"f"}, WithEvents: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRow(t, res[0], t0, i64(1))
	wantRow(t, res[1], t0.Add(-time.Hour), i64(2))
	if len(res[0].Events) != 1 || len(res[1].Events) != 0 {
		t.Errorf("events leak across views: %d, %d", len(res[0].Events), len(res[1].Events))
	}
}

func testManyKeys(t *testing.T, s online.Store) {
	const n = 300
	var rows []online.Latest
	var events []online.AggEvent
	fields := make([]string, 20)
	for j := range fields {
		fields[j] = fmt.Sprintf("f%02d", j)
	}
	for i := range n {
		r := online.Latest{Entity: fmt.Sprintf("e%d", i), EventTime: t0.Add(time.Duration(i) * time.Millisecond), Values: map[string]*featurestorev1.Value{}}
		for j, f := range fields {
			r.Values[f] = i64(int64(i*100 + j))
		}
		rows = append(rows, r)
		for k := range i % 4 {
			events = append(events, online.AggEvent{Entity: r.Entity, ID: fmt.Sprint(k), EventTime: t0.Add(time.Duration(k) * time.Second), Inputs: []*featurestorev1.Value{i64(int64(k))}})
		}
	}
	put(t, s, rows...)
	if err := s.AddEvents(ctx(t), view, 24*time.Hour, events); err != nil {
		t.Fatalf("AddEvents: %v", err)
	}
	var reqs []online.ReadRequest
	for i := n - 1; i >= -20; i-- { // reverse order, plus 20 missing entities
		reqs = append(reqs, online.ReadRequest{View: view, Entity: fmt.Sprintf("e%d", i), Fields: fields, WithEvents: i%2 == 0})
	}
	res, err := s.Read(ctx(t), reqs)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("got %d results for %d requests", len(res), len(reqs))
	}
	for k, r := range res {
		i := n - 1 - k
		if i < 0 {
			if r.Found {
				t.Errorf("entity e%d found", i)
			}
			continue
		}
		want := make([]*featurestorev1.Value, len(fields))
		for j := range fields {
			want[j] = i64(int64(i*100 + j))
		}
		wantRow(t, r, t0.Add(time.Duration(i)*time.Millisecond), want...)
		wantEvents := 0
		if i%2 == 0 {
			wantEvents = i % 4
		}
		if len(r.Events) != wantEvents {
			t.Errorf("entity e%d: %d events, want %d", i, len(r.Events), wantEvents)
		}
	}
}

func events(t *testing.T, s online.Store, entity string, since time.Time) []online.AggEvent {
	t.Helper()
	res, err := s.Read(ctx(t), []online.ReadRequest{{View: view, Entity: entity, WithEvents: true, Since: since}})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if res[0].Found || res[0].Values != nil {
		t.Errorf("events-only read returned a row: %+v", res[0])
	}
	return res[0].Events
}

func ids(evs []online.AggEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func wantIDs(t *testing.T, evs []online.AggEvent, want ...string) {
	t.Helper()
	got := ids(evs)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("event ids = %v, want %v", got, want)
	}
}

func ev(entity, id string, at time.Time, inputs ...*featurestorev1.Value) online.AggEvent {
	return online.AggEvent{Entity: entity, ID: id, EventTime: at, Inputs: inputs}
}

func addEvents(t *testing.T, s online.Store, window time.Duration, evs ...online.AggEvent) {
	t.Helper()
	if err := s.AddEvents(ctx(t), view, window, evs); err != nil {
		t.Fatalf("AddEvents: %v", err)
	}
}

func testEventsIdempotent(t *testing.T, s online.Store) {
	e1 := ev("c1", "o-1", t0, f64(10))
	e2 := ev("c1", "o-2", t0.Add(time.Minute), f64(20))
	addEvents(t, s, time.Hour, e1, e2, e1)
	addEvents(t, s, time.Hour, e2, e1)
	got := events(t, s, "c1", time.Time{})
	wantIDs(t, got, "o-1", "o-2")
	if len(got) == 2 && (!sameValue(got[1].Inputs[0], f64(20)) || !got[1].EventTime.Equal(t0.Add(time.Minute))) {
		t.Errorf("event o-2 = %+v", got[1])
	}
}

func testEventsTrimmed(t *testing.T, s online.Store) {
	w := time.Hour
	addEvents(t, s, w, ev("c1", "a", t0), ev("c1", "b", t0.Add(30*time.Minute)), ev("c2", "x", t0))
	wantIDs(t, events(t, s, "c1", time.Time{}), "a", "b")
	// The newest event moves the window: a is older than newest-1h.
	addEvents(t, s, w, ev("c1", "c", t0.Add(90*time.Minute)))
	wantIDs(t, events(t, s, "c1", time.Time{}), "b", "c")
	// Exactly at the boundary stays.
	addEvents(t, s, w, ev("c1", "d", t0.Add(150*time.Minute)))
	wantIDs(t, events(t, s, "c1", time.Time{}), "c", "d")
	// A late event already outside the window is not kept.
	addEvents(t, s, w, ev("c1", "late", t0.Add(10*time.Minute)))
	wantIDs(t, events(t, s, "c1", time.Time{}), "c", "d")
	// Other entities are not trimmed by c1's events.
	wantIDs(t, events(t, s, "c2", time.Time{}), "x")
	// Out-of-order adds within a batch keep the window of the newest.
	addEvents(t, s, w, ev("c3", "new", t0.Add(5*time.Hour)), ev("c3", "old", t0), ev("c3", "mid", t0.Add(4*time.Hour+time.Minute)))
	wantIDs(t, events(t, s, "c3", time.Time{}), "mid", "new")
}

func testEventsSince(t *testing.T, s online.Store) {
	var evs []online.AggEvent
	for i := 9; i >= 0; i-- {
		evs = append(evs, ev("c1", fmt.Sprintf("e%d", i), t0.Add(time.Duration(i)*time.Minute+time.Duration(i)*time.Nanosecond)))
	}
	evs = append(evs, ev("c1", "e5b", t0.Add(5*time.Minute+5*time.Nanosecond))) // same time as e5
	addEvents(t, s, 24*time.Hour, evs...)
	wantIDs(t, events(t, s, "c1", time.Time{}), "e0", "e1", "e2", "e3", "e4", "e5", "e5b", "e6", "e7", "e8", "e9")
	// Since is inclusive and nanosecond-exact.
	wantIDs(t, events(t, s, "c1", t0.Add(7*time.Minute+7*time.Nanosecond)), "e7", "e8", "e9")
	wantIDs(t, events(t, s, "c1", t0.Add(7*time.Minute+8*time.Nanosecond)), "e8", "e9")
	wantIDs(t, events(t, s, "c1", t0.Add(time.Hour)))
	for _, e := range events(t, s, "c1", time.Time{}) {
		if e.Entity != "c1" || e.Inputs != nil && len(e.Inputs) != 0 {
			t.Errorf("event %+v", e)
		}
	}
}

func testEventsNoWindow(t *testing.T, s online.Store) {
	old := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	addEvents(t, s, 0, ev("c1", "old", old), ev("c1", "new", t0))
	wantIDs(t, events(t, s, "c1", time.Time{}), "old", "new")
	if got := events(t, s, "c1", time.Time{}); len(got) == 2 && !got[0].EventTime.Equal(old) {
		t.Errorf("old event time = %v", got[0].EventTime)
	}
}

func testConcurrentWriters(t *testing.T, s online.Store) {
	const writers = 20
	type version struct {
		at  time.Time
		seq uint64
	}
	var all []version
	for i := range writers {
		for j := range 5 {
			all = append(all, version{t0.Add(time.Duration(i%7) * time.Second), uint64(i*5 + j)})
		}
	}
	maxV := version{t0.Add(6 * time.Second), 0}
	for _, v := range all {
		if v.at.Equal(maxV.at) && v.seq > maxV.seq {
			maxV = v
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := w; k < len(all); k += writers {
				v := all[k]
				r := row("hot", v.at, v.seq, "seq", i64(int64(v.seq)), "w", i64(int64(w)))
				if err := s.PutLatest(context.Background(), view, []online.Latest{r}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("PutLatest: %v", err)
	}
	got := read1(t, s, "hot", "seq")
	wantRow(t, got, maxV.at, i64(int64(maxV.seq)))
}

func testConcurrentEvents(t *testing.T, s online.Store) {
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every writer adds the same 30 events, from a different start.
			var evs []online.AggEvent
			for k := range 30 {
				i := (k + w) % 30
				evs = append(evs, ev("hot", fmt.Sprintf("e%02d", i), t0.Add(time.Duration(i)*time.Second), i64(int64(i))))
			}
			if err := s.AddEvents(context.Background(), view, time.Hour, evs); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AddEvents: %v", err)
	}
	got := events(t, s, "hot", time.Time{})
	if len(got) != 30 {
		t.Fatalf("got %d events, want 30: %v", len(got), ids(got))
	}
	for i, e := range got {
		if e.ID != fmt.Sprintf("e%02d", i) {
			t.Errorf("event %d = %s", i, e.ID)
		}
	}
}

func testInvalid(t *testing.T, s online.Store) {
	c := ctx(t)
	ok := row("c1", t0, 1, "f", i64(1))
	checks := []struct {
		name string
		err  error
	}{
		{"empty view", s.PutLatest(c, "", []online.Latest{ok})},
		{"brace view", s.PutLatest(c, "a}b", []online.Latest{ok})},
		{"empty entity", s.PutLatest(c, view, []online.Latest{row("", t0, 1)})},
		{"reserved field", s.PutLatest(c, view, []online.Latest{row("c1", t0, 1, "__ts", i64(1))})},
		{"empty field", s.PutLatest(c, view, []online.Latest{row("c1", t0, 1, "", i64(1))})},
		{"zero time", s.PutLatest(c, view, []online.Latest{row("c1", time.Time{}, 1)})},
		{"bar in id", s.AddEvents(c, view, time.Hour, []online.AggEvent{ev("c1", "a|b", t0)})},
		{"empty id", s.AddEvents(c, view, time.Hour, []online.AggEvent{ev("c1", "", t0)})},
		{"event view", s.AddEvents(c, "{x}", time.Hour, []online.AggEvent{ev("c1", "a", t0)})},
	}
	_, err := s.Read(c, []online.ReadRequest{{View: view, Entity: "c1", Fields: []string{"__seq"}}})
	checks = append(checks, struct {
		name string
		err  error
	}{"read reserved field", err})
	_, err = s.Read(c, []online.ReadRequest{{View: view, Entity: ""}})
	checks = append(checks, struct {
		name string
		err  error
	}{"read empty entity", err})
	for _, ch := range checks {
		if !errors.Is(ch.err, online.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", ch.name, ch.err)
		}
	}
	// A batch with one bad row writes nothing.
	if err := s.PutLatest(c, view, []online.Latest{ok, row("", t0, 1)}); !errors.Is(err, online.ErrInvalidArgument) {
		t.Errorf("bad batch: err = %v", err)
	}
	if r := read1(t, s, "c1", "f"); r.Found {
		t.Errorf("a rejected batch wrote a row")
	}
}

func testEmpty(t *testing.T, s online.Store) {
	if err := s.PutLatest(ctx(t), view, nil); err != nil {
		t.Errorf("PutLatest(nil): %v", err)
	}
	if err := s.AddEvents(ctx(t), view, time.Hour, nil); err != nil {
		t.Errorf("AddEvents(nil): %v", err)
	}
}
