package features

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

const (
	tString = featurestorev1.ValueType_VALUE_TYPE_STRING
	tBool   = featurestorev1.ValueType_VALUE_TYPE_BOOL
	tTime   = featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP
)

func TestConvert(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	tests := []struct {
		raw  any
		typ  featurestorev1.ValueType
		want *featurestorev1.Value
	}{
		{"x", tString, StringValue("x")},
		{json.Number("19.90"), tString, StringValue("19.90")},
		{true, tString, StringValue("true")},
		{map[string]any{}, tString, nil},
		{nil, tString, nil},
		{json.Number("42"), typInt64, Int64Value(42)},
		{json.Number("42.0"), typInt64, Int64Value(42)},
		{"42", typInt64, Int64Value(42)},
		{" -7 ", typInt64, Int64Value(-7)},
		{"4.5", typInt64, nil},
		{json.Number("9223372036854775807"), typInt64, Int64Value(math.MaxInt64)},
		{json.Number("9223372036854775808"), typInt64, nil},
		{json.Number("1e300"), typInt64, nil},
		{true, typInt64, nil},
		{"abc", typInt64, nil},
		{json.Number("1.5"), typDouble, DoubleValue(1.5)},
		{"19.90", typDouble, DoubleValue(19.9)},
		{"NaN", typDouble, nil},
		{"Inf", typDouble, nil},
		{"x", typDouble, nil},
		{true, tBool, BoolValue(true)},
		{"FALSE", tBool, BoolValue(false)},
		{json.Number("1"), tBool, BoolValue(true)},
		{json.Number("2"), tBool, nil},
		{"yes", tBool, nil},
		{"2026-01-02T03:04:05.6Z", tTime, TimestampValue(ts)},
		{"2026-01-02 03:04:05.6Z", tTime, TimestampValue(ts)},
		{"2026-01-02T04:04:05.6+01:00", tTime, TimestampValue(ts)},
		{"2026-01-02", tTime, TimestampValue(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))},
		{"2026-01-02T03:04:05", tTime, nil},
		{json.Number("1700000000"), tTime, nil},
		{"x", featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED, nil},
	}
	for _, tc := range tests {
		got := Convert(tc.raw, tc.typ)
		if !proto.Equal(got, tc.want) {
			t.Errorf("Convert(%#v, %s) = %v, want %v", tc.raw, tc.typ, got, tc.want)
		}
	}
}

func TestParseExpr(t *testing.T) {
	tests := []struct {
		in      string
		want    string // canonical form, "" for an error
		errPart string
	}{
		{"delivered_at > promised_at", "delivered_at > promised_at", ""},
		{"rating>=4", "rating >= 4", ""},
		{"  a.b.c != 'x y'  ", `a.b.c != "x y"`, ""},
		{`status == "it's \"ok\""`, `status == "it's \"ok\""`, ""},
		{"-1.5e3 < amount", "-1.5e3 < amount", ""},
		{"flag == true", "flag == true", ""},
		{"a <= b", "a <= b", ""},
		{"a < b", "a < b", ""},
		{"", "", "missing operand"},
		{"a", "", "missing operator"},
		{"a >", "", "missing operand"},
		{"a = b", "", "expected an operator"},
		{"a > b c", "", "unexpected"},
		{"1 > 2", "", "at least one operand must be a field"},
		{"a > 'x", "", "unterminated"},
		{`a > "x`, "", "unterminated"},
		{`a > "\q"`, "", "invalid string"},
		{"a > 1.2.3", "", "invalid number"},
		{"a > 1_000", "", "invalid number"},
		{"a. > 1", "", "empty field path segment"},
		{"a > #", "", "unexpected"},
		{"a > b && c", "", "unexpected"},
		{strings.Repeat("a", MaxExprLen+1) + " > 1", "", "longer than"},
	}
	for _, tc := range tests {
		e, err := ParseExpr(tc.in)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("ParseExpr(%q) error = %v, want one containing %q", tc.in, err, tc.errPart)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tc.in, err)
			continue
		}
		if e.String() != tc.want {
			t.Errorf("ParseExpr(%q) = %q, want %q", tc.in, e.String(), tc.want)
		}
	}
}

func TestEval(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{
		"delivered_at": "2026-01-03T00:00:00Z", "promised_at": "2026-01-02T23:59:59.5+00:00",
		"promised_date": "2026-01-04", "rating": 4, "price": "19.90", "cheap": "5.00", "big": 9007199254740993,
		"name": "bob", "other": "alice", "flag": true, "nothing": null, "nested": {"n": 3}, "obj": {}
	}`))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		t.Fatal(err)
	}
	const null = -1
	tests := []struct {
		expr string
		want int64
	}{
		{"delivered_at > promised_at", 1},   // chronological, different layouts
		{"delivered_at < promised_date", 1}, // timestamp vs date
		{"delivered_at == '2026-01-03 01:00:00+01:00'", 1},
		{"rating >= 4", 1},
		{"rating > 4", 0},
		{"rating == 4.0", 1},
		{"price > cheap", 1}, // decimal strings compare numerically ("19.90" < "5.00" lexically)
		{"price > 100", 0},
		{"rating < '10'", 1}, // number vs numeric string
		{"name > other", 1},  // lexical
		{"name == 'bob'", 1},
		{"name != \"bob\"", 0},
		{"flag == true", 1},
		{"flag != false", 1},
		{"nested.n >= 3", 1},
		{"big > 9007199254740992", 1}, // integers compare exactly
		{"nothing == nothing", null},
		{"missing > 1", null},
		{"nested.missing.x > 1", null},
		{"name > 1", null},   // incomparable
		{"flag > 1", null},   // incomparable
		{"obj == obj", null}, // objects are incomparable
	}
	for _, tc := range tests {
		e, err := ParseExpr(tc.expr)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		got, ok := e.Eval(rec)
		if !ok {
			got = null
		}
		if got != tc.want {
			t.Errorf("%q = %d, want %d", tc.expr, got, tc.want)
		}
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"a > b", "x.y >= -1.5", `s == "q\"x"`, "f != 'z'", "b == true", "a<=1e9", "a", "> 1"} {
		f.Add(s, `{"a": 1, "b": "2", "x": {"y": null}, "s": "q", "f": "2026-01-01"}`)
	}
	f.Fuzz(func(t *testing.T, expr, record string) {
		e, err := ParseExpr(expr)
		if err != nil {
			var ee *ExprError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *ExprError", err)
			}
			return
		}
		// The canonical form parses to the same canonical form.
		again, err := ParseExpr(e.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", e.String(), expr, err)
		}
		if again.String() != e.String() {
			t.Fatalf("canonical form unstable: %q → %q", e.String(), again.String())
		}
		dec := json.NewDecoder(strings.NewReader(record))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) == nil {
			r, ok := e.Eval(m)
			if ok && r != 0 && r != 1 {
				t.Fatalf("Eval = %d", r)
			}
		}
	})
}

var composite = &featurestorev1.Entity{Name: "store_sku", JoinKeys: []*featurestorev1.JoinKey{
	{Name: "store", Type: tString}, {Name: "sku_id", Type: typInt64},
}}

func ordersView(t *testing.T) *View {
	t.Helper()
	v, err := Compile(&featurestorev1.FeatureView{
		Name: "orders", Entity: "store_sku", TimestampField: "meta.ts", Ttl: durationpb.New(24 * time.Hour),
		Features: []*featurestorev1.Feature{
			{Name: "spend_7d", Type: typDouble, Field: "unit_price", Aggregation: aggSum, Window: durationpb.New(7 * day)},
			{Name: "orders_7d", Type: typInt64, Aggregation: aggCount, Window: durationpb.New(7 * day)},
			{Name: "channel", Type: tString},
			{Name: "qty", Type: typInt64, Field: "line.qty"},
			{Name: "late", Type: typInt64, Expression: "delivered_at > promised_at"},
			{Name: "avg_qty", Type: typDouble, Field: "line.qty", Aggregation: aggAvg, Window: durationpb.New(day)},
			{Name: "channels", Type: typInt64, Field: "channel", Aggregation: aggDistinct, Window: durationpb.New(day)},
			{Name: "late_share", Type: typDouble, Expression: "delivered_at > promised_at", Aggregation: aggAvg, Window: durationpb.New(day)},
			{Name: "since", Type: typDouble, Aggregation: aggDaysSince, Window: durationpb.New(day)},
		},
	}, composite)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestExtract(t *testing.T) {
	v := ordersView(t)
	ev, err := v.Extract([]byte(`{"store": "s1", "sku_id": "00042", "meta": {"ts": "2026-02-01T10:00:00.123Z"},
		"unit_price": "19.90", "channel": "web", "line": {"qty": 3},
		"delivered_at": "2026-02-03T00:00:00Z", "promised_at": "2026-02-02T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.EntityKey != EncodeKey([]string{"s1", "42"}) {
		t.Errorf("key %q", ev.EntityKey)
	}
	if !ev.EventTime.Equal(time.Date(2026, 2, 1, 10, 0, 0, 123e6, time.UTC)) {
		t.Errorf("time %v", ev.EventTime)
	}
	want := []*featurestorev1.Value{
		DoubleValue(19.9), nil, StringValue("web"), Int64Value(3), Int64Value(1),
		DoubleValue(3), StringValue("web"), DoubleValue(1), nil,
	}
	if len(ev.Values) != len(want) {
		t.Fatalf("%d values, want %d", len(ev.Values), len(want))
	}
	for i := range want {
		if !proto.Equal(ev.Values[i], want[i]) {
			t.Errorf("value %d (%s) = %v, want %v", i, v.Features[i].Name, ev.Values[i], want[i])
		}
	}

	// Missing and null inputs are nulls, not errors.
	ev, err = v.Extract([]byte(`{"store": "s1", "sku_id": 42, "meta": {"ts": "2026-02-01"}, "channel": null, "line": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	for i, val := range ev.Values {
		if val != nil {
			t.Errorf("value %d = %v, want null", i, val)
		}
	}

	for _, bad := range []string{
		`{"sku_id": 42, "meta": {"ts": "2026-02-01"}}`,                // key missing
		`{"store": null, "sku_id": 42, "meta": {"ts": "2026-02-01"}}`, // key null
		`{"store": "s", "sku_id": "x", "meta": {"ts": "2026-02-01"}}`, // key not an int64
		`{"store": "s", "sku_id": 4.5, "meta": {"ts": "2026-02-01"}}`, // key not an int64
		`{"store": "s", "sku_id": 1}`,                                 // time missing
		`{"store": "s", "sku_id": 1, "meta": {"ts": "yesterday"}}`,    // time unparseable
		`{"store": "s", "sku_id": 1, "meta": {"ts": 1700000000}}`,     // time not a string
		`[1, 2]`, `null`, `{`, ``,
	} {
		if _, err := v.Extract([]byte(bad)); err == nil {
			t.Errorf("Extract(%s): no error", bad)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	ent := &featurestorev1.Entity{Name: "c", JoinKeys: []*featurestorev1.JoinKey{{Name: "id", Type: tString}}}
	ok := func() *featurestorev1.FeatureView {
		return &featurestorev1.FeatureView{Name: "v", Entity: "c", TimestampField: "ts", Features: []*featurestorev1.Feature{{Name: "f", Type: tString}}}
	}
	tests := map[string]func(v *featurestorev1.FeatureView){
		"entity mismatch":   func(v *featurestorev1.FeatureView) { v.Entity = "d" },
		"no timestamp":      func(v *featurestorev1.FeatureView) { v.TimestampField = "" },
		"negative ttl":      func(v *featurestorev1.FeatureView) { v.Ttl = durationpb.New(-time.Second) },
		"no type":           func(v *featurestorev1.FeatureView) { v.Features[0].Type = 0 },
		"duplicate feature": func(v *featurestorev1.FeatureView) { v.Features = append(v.Features, v.Features[0]) },
		"no window":         func(v *featurestorev1.FeatureView) { v.Features[0].Aggregation = aggLast },
		"window w/o agg":    func(v *featurestorev1.FeatureView) { v.Features[0].Window = durationpb.New(time.Hour) },
		"sum of strings": func(v *featurestorev1.FeatureView) {
			v.Features[0].Aggregation, v.Features[0].Window = aggSum, durationpb.New(time.Hour)
		},
		"bad expression": func(v *featurestorev1.FeatureView) { v.Features[0].Expression = "a >" },
		"unknown agg": func(v *featurestorev1.FeatureView) {
			v.Features[0].Aggregation, v.Features[0].Window = 99, durationpb.New(time.Hour)
		},
	}
	if _, err := Compile(ok(), ent); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range tests {
		v := ok()
		mutate(v)
		if _, err := Compile(v, ent); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Compile(ok(), &featurestorev1.Entity{Name: "c"}); err == nil {
		t.Error("entity without keys: no error")
	}
	if _, err := Compile(nil, ent); err == nil {
		t.Error("nil view: no error")
	}
}

func TestKeys(t *testing.T) {
	lists := [][]string{{"a"}, {"a", "b"}, {"a\x1fb"}, {"a", "\x1fb"}, {"a\x1e", "b"}, {"a", "\x1eb"}, {""}, {"", ""}, {"\x1e"}, {"\x1f"}, {"a\x1e\x1fb"}}
	seen := map[string][]string{}
	for _, l := range lists {
		k := EncodeKey(l)
		if prev, dup := seen[k]; dup {
			t.Errorf("EncodeKey(%q) = EncodeKey(%q) = %q", l, prev, k)
		}
		seen[k] = l
		if back := DecodeKey(k); strings.Join(back, "|") != strings.Join(l, "|") || len(back) != len(l) {
			t.Errorf("DecodeKey(EncodeKey(%q)) = %q", l, back)
		}
	}
	if EncodeKey([]string{"c42"}) != "c42" {
		t.Error("single clean value is not itself")
	}

	k, err := KeyFromRow(map[string]*featurestorev1.Value{"store": StringValue("s1"), "sku_id": StringValue("42"), "other": Int64Value(1)}, composite)
	if err != nil || k != EncodeKey([]string{"s1", "42"}) {
		t.Errorf("KeyFromRow = %q, %v", k, err)
	}
	k2, _ := KeyFromRow(map[string]*featurestorev1.Value{"store": StringValue("s1"), "sku_id": Int64Value(42)}, composite)
	if k2 != k {
		t.Errorf("int64 and string forms differ: %q vs %q", k2, k)
	}
	for _, row := range []map[string]*featurestorev1.Value{
		{"store": StringValue("s1")},
		{"store": StringValue("s1"), "sku_id": {}},
		{"store": StringValue("s1"), "sku_id": StringValue("x")},
		{"store": StringValue("s1"), "sku_id": DoubleValue(1.5)},
	} {
		if _, err := KeyFromRow(row, composite); err == nil {
			t.Errorf("KeyFromRow(%v): no error", row)
		}
	}
}

func TestAggregateTable(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	evs := []Event{
		{EventTime: at(0), Seq: 1, Values: []*featurestorev1.Value{Int64Value(5)}},
		{EventTime: at(2), Seq: 2, Values: []*featurestorev1.Value{nil}},
		{EventTime: at(4), Seq: 3, Values: []*featurestorev1.Value{Int64Value(-3)}},
		{EventTime: at(4), Seq: 4, Values: []*featurestorev1.Value{Int64Value(5)}},
		{EventTime: at(9), Seq: 5, Values: []*featurestorev1.Value{Int64Value(100)}}, // after t: ignored
	}
	w := 10 * time.Second
	tests := []struct {
		fn   featurestorev1.AggregationFunction
		typ  featurestorev1.ValueType
		t    time.Time
		w    time.Duration
		want *featurestorev1.Value
	}{
		{aggCount, typInt64, at(5), w, Int64Value(4)},
		{aggCount, typInt64, at(10), w, Int64Value(4)}, // at(0) exactly 10s old: out
		{aggSum, typInt64, at(5), w, Int64Value(7)},
		{aggSum, typDouble, at(5), w, DoubleValue(7)},
		{aggSum, typInt64, at(20), w, Int64Value(0)},
		{aggAvg, typDouble, at(5), w, DoubleValue(7.0 / 3)},
		{aggAvg, typDouble, at(20), w, nil},
		{aggMin, typInt64, at(5), w, Int64Value(-3)},
		{aggMax, typInt64, at(5), w, Int64Value(5)},
		{aggMin, typInt64, at(3), 2 * time.Second, nil}, // only the null input
		{aggLast, typInt64, at(5), w, Int64Value(5)},    // seq 4 wins the tie
		{aggLast, typInt64, at(3), w, nil},              // newest input is null
		{aggDistinct, typInt64, at(5), w, Int64Value(2)},
		{aggDaysSince, typDouble, at(5), w, DoubleValue(1.0 / 86400)},
		{aggDaysSince, typDouble, at(20), w, nil},
	}
	for _, tc := range tests {
		got := Aggregate(tc.fn, tc.typ, evs, 0, tc.t, tc.w)
		if !proto.Equal(got, tc.want) {
			t.Errorf("%s at %s over %s = %v, want %v", tc.fn, tc.t.Format(time.TimeOnly), tc.w, got, tc.want)
		}
	}
}

// TestWindowMatchesAggregate drives Window with random events and reads and
// compares every read with Aggregate over the same events.
func TestWindowMatchesAggregate(t *testing.T) {
	fns := []featurestorev1.AggregationFunction{aggCount, aggSum, aggAvg, aggMin, aggMax, aggLast, aggDistinct, aggDaysSince}
	for seed := range 200 {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		fn := fns[r.IntN(len(fns))]
		typ := typDouble
		if r.IntN(2) == 0 && fn != aggAvg && fn != aggDaysSince {
			typ = typInt64
		}
		width := time.Duration(1+r.IntN(20)) * time.Second / 2
		w := NewWindow(fn, typ, width)
		var evs []Event
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for step := range 300 {
			if r.IntN(50) == 0 { // next entity
				w.Reset()
				evs = nil
			}
			if r.IntN(3) > 0 {
				var in *featurestorev1.Value
				switch r.IntN(5) {
				case 0:
				case 1, 2:
					in = Int64Value(int64(r.IntN(9) - 4))
				default:
					in = DoubleValue(float64(r.IntN(90)-40) / 8)
				}
				e := Event{EventTime: now, Seq: uint64(step), Values: []*featurestorev1.Value{in}}
				evs = append(evs, e)
				w.Add(e.EventTime, in)
			} else {
				got, _, _ := w.Value(now)
				want := Aggregate(fn, typ, evs, 0, now, width)
				if !valuesClose(got, want) {
					t.Fatalf("seed %d step %d %s %s w=%s: window %v, aggregate %v", seed, step, fn, typ, width, got, want)
				}
			}
			now = now.Add(time.Duration(r.IntN(3)) * 500 * time.Millisecond)
		}
	}
}

func valuesClose(a, b *featurestorev1.Value) bool {
	if da, ok := a.GetKind().(*featurestorev1.Value_DoubleValue); ok {
		db, ok := b.GetKind().(*featurestorev1.Value_DoubleValue)
		return ok && math.Abs(da.DoubleValue-db.DoubleValue) <= 1e-9*math.Max(1, math.Abs(db.DoubleValue))
	}
	return proto.Equal(a, b)
}
