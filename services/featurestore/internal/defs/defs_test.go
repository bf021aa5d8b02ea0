package defs

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

const example = `domain: sales            # owning domain of the definitions
entities:
  - name: customer
    description: A shopper.
    join_keys: [{name: customer_id, type: string}]
  - name: store_sku
    join_keys: [store, {name: sku_id, type: int64}]
feature_views:
  - name: customer_orders
    entity: customer
    source: {domain: sales, product: orders, port: v1}
    timestamp_field: order_ts
    ttl: 30d
    tags: [finance]
    features:
      - {name: spend_7d, type: double, field: unit_price, aggregation: sum, window: 7d}
      - {name: orders_7d, type: int64, aggregation: count, window: 7d}
      - {name: days_since_last_order, type: double, aggregation: days_since_last, window: 365d}
      - {name: last_channel, type: string, field: channel}
      - {name: late, type: int64, expression: "delivered_at > promised_at"}
feature_services:
  - name: churn_v1
    features: [customer_orders:spend_7d, customer_orders:orders_7d]
`

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

const (
	tString = featurestorev1.ValueType_VALUE_TYPE_STRING
	tInt64  = featurestorev1.ValueType_VALUE_TYPE_INT64
	tDouble = featurestorev1.ValueType_VALUE_TYPE_DOUBLE
	tTime   = featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP
	aSum    = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM
	aCount  = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT
	aDays   = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST
	aAvg    = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG
	aLast   = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_LAST
	day     = 24 * time.Hour
)

func TestParseExample(t *testing.T) {
	d, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	want := &Definitions{
		Domain: "sales",
		Entities: []*featurestorev1.Entity{
			{Name: "customer", Description: "A shopper.", JoinKeys: []*featurestorev1.JoinKey{{Name: "customer_id", Type: tString}}},
			{Name: "store_sku", JoinKeys: []*featurestorev1.JoinKey{{Name: "store", Type: tString}, {Name: "sku_id", Type: tInt64}}},
		},
		FeatureViews: []*featurestorev1.FeatureView{{
			Name: "customer_orders", Entity: "customer",
			Source:         &featurestorev1.Source{Domain: "sales", Product: "orders", Port: "v1"},
			TimestampField: "order_ts", Ttl: dur(30 * day), Tags: []string{"finance"},
			Features: []*featurestorev1.Feature{
				{Name: "spend_7d", Type: tDouble, Field: "unit_price", Aggregation: aSum, Window: dur(7 * day)},
				{Name: "orders_7d", Type: tInt64, Aggregation: aCount, Window: dur(7 * day)},
				{Name: "days_since_last_order", Type: tDouble, Aggregation: aDays, Window: dur(365 * day)},
				{Name: "last_channel", Type: tString, Field: "channel"},
				{Name: "late", Type: tInt64, Expression: "delivered_at > promised_at"},
			},
		}},
		FeatureServices: []*featurestorev1.FeatureService{{Name: "churn_v1", Features: []string{"customer_orders:spend_7d", "customer_orders:orders_7d"}}},
	}
	if !defsEqual(d, want) {
		t.Fatalf("got %+v", d)
	}
	if vs := Validate(d, nil); len(vs) > 0 {
		t.Fatalf("example invalid: %v", vs)
	}
}

func defsEqual(a, b *Definitions) bool {
	eq := func(x, y []proto.Message) bool {
		return slices.EqualFunc(x, y, func(m, n proto.Message) bool { return proto.Equal(m, n) })
	}
	return a.Domain == b.Domain && eq(msgs(a.Entities), msgs(b.Entities)) &&
		eq(msgs(a.FeatureViews), msgs(b.FeatureViews)) && eq(msgs(a.FeatureServices), msgs(b.FeatureServices))
}

func msgs[T proto.Message](xs []T) []proto.Message {
	out := make([]proto.Message, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		{"feature_views:\n  - name: v\n    features:\n      - {name: a}\n      - {name: b}\n      - {name: c, windw: 7d}\n", "feature_views[0].features[2].windw: unknown key (line 6)"},
		{"entitys: []", "entitys: unknown key"},
		{"entities: {}", "entities: want a list, got a mapping"},
		{"entities:\n  - name: [a]", "entities[0].name: want a string, got a list"},
		{"entities:\n  - name: a\n    name: b", "entities[0].name: duplicate key"},
		{"entities:\n  - name: a\n    join_keys: [{name: k, type: text}]", `entities[0].join_keys[0].type: unknown type "text"`},
		{"feature_views:\n  - ttl: 3 days", `feature_views[0].ttl: invalid duration "3 days"`},
		{"feature_views:\n  - features: [{name: a, aggregation: median}]", `feature_views[0].features[0].aggregation: unknown aggregation "median"`},
		{"feature_views:\n  - source: orders", `feature_views[0].source: want a mapping, got "orders"`},
		{"entities: &x []\nfeature_views: *x", "feature_views: aliases are not supported"},
		{"- a", "want a mapping, got a list"},
		{"domain: x\n---\ndomain: y\n", "more than one YAML document"},
		{"domain: [", "invalid YAML"},
		{"feature_views:\n  - ttl: 99999999999999d", "out of range"},
		{strings.Repeat("#", MaxDocumentSize+1), "exceeds"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%.40q) error = %v, want one containing %q", tc.doc, err, tc.want)
		}
	}
	for _, empty := range []string{"", "# nothing\n", "null", "---\n"} {
		d, err := Parse([]byte(empty))
		if err != nil || len(d.Entities)+len(d.FeatureViews)+len(d.FeatureServices) != 0 {
			t.Errorf("Parse(%q) = %v, %v", empty, d, err)
		}
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "90s": 90 * time.Second, "15m": 15 * time.Minute, "24h": day, "7d": 7 * day, "2w": 14 * day,
		"1h30m": 90 * time.Minute, "500ms": 500 * time.Millisecond, "-1d": -day,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		back, err := ParseDuration(FormatDuration(got))
		if err != nil || back != got {
			t.Errorf("FormatDuration(%v) = %q does not read back", got, FormatDuration(got))
		}
	}
	for _, bad := range []string{"", "d", "1.5d", "7 d", "x", "1y"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q): no error", bad)
		}
	}
	if FormatDuration(14*day) != "14d" || FormatDuration(36*time.Hour) != "36h" || FormatDuration(90*time.Second) != "90s" {
		t.Error("FormatDuration units")
	}
}

type fakeLookup struct {
	entities map[string]*featurestorev1.Entity
	views    map[string]*featurestorev1.FeatureView
}

func (f fakeLookup) Entity(n string) (*featurestorev1.Entity, bool) {
	e, ok := f.entities[n]
	return e, ok
}
func (f fakeLookup) View(n string) (*featurestorev1.FeatureView, bool) {
	v, ok := f.views[n]
	return v, ok
}

func validDefs() *Definitions {
	d, err := Parse([]byte(example))
	if err != nil {
		panic(err)
	}
	return d
}

func TestValidate(t *testing.T) {
	lookup := fakeLookup{
		entities: map[string]*featurestorev1.Entity{"product": {Name: "product", JoinKeys: []*featurestorev1.JoinKey{{Name: "sku", Type: tString}}}},
		views:    map[string]*featurestorev1.FeatureView{"product_stats": {Name: "product_stats", Features: []*featurestorev1.Feature{{Name: "rating"}}}},
	}
	view := func(d *Definitions) *featurestorev1.FeatureView { return d.FeatureViews[0] }
	feat := func(d *Definitions, i int) *featurestorev1.Feature { return d.FeatureViews[0].Features[i] }
	tests := []struct {
		name   string
		mutate func(d *Definitions)
		field  string // "" = valid
		desc   string
	}{
		{"valid", func(d *Definitions) {}, "", ""},
		{"entity via lookup", func(d *Definitions) { view(d).Entity = "product" }, "", ""},
		{"service ref via lookup", func(d *Definitions) {
			d.FeatureServices[0].Features = append(d.FeatureServices[0].Features, "product_stats:rating")
		}, "", ""},
		{"bad domain", func(d *Definitions) { d.Domain = "Sales" }, "domain", "DNS label"},
		{"name case", func(d *Definitions) { d.Entities[0].Name = "Customer" }, "entities[0].name", "snake_case"},
		{"name length", func(d *Definitions) { view(d).Name = strings.Repeat("a", 64) }, "feature_views[0].name", "longer than 63"},
		{"name missing", func(d *Definitions) { d.FeatureServices[0].Name = "" }, "feature_services[0].name", "is required"},
		{"duplicate entity", func(d *Definitions) { d.Entities[1].Name = "customer" }, "entities[1].name", "defined twice"},
		{"duplicate view", func(d *Definitions) { d.FeatureViews = append(d.FeatureViews, d.FeatureViews[0]) }, "feature_views[1].name", "defined twice"},
		{"no join keys", func(d *Definitions) { d.Entities[0].JoinKeys = nil }, "entities[0].join_keys", "at least one"},
		{"duplicate join key", func(d *Definitions) {
			d.Entities[1].JoinKeys[1].Name = "store"
		}, "entities[1].join_keys[1].name", "twice"},
		{"join key type", func(d *Definitions) { d.Entities[0].JoinKeys[0].Type = 0 }, "entities[0].join_keys[0].type", "is required"},
		{"unknown entity", func(d *Definitions) { view(d).Entity = "shopper" }, "feature_views[0].entity", "does not exist"},
		{"no source", func(d *Definitions) { view(d).Source = nil }, "feature_views[0].source", "is required"},
		{"source product", func(d *Definitions) { view(d).Source.Product = "Orders_V1" }, "feature_views[0].source.product", "DNS label"},
		{"source domain missing", func(d *Definitions) { view(d).Source.Domain = "" }, "feature_views[0].source.domain", "is required"},
		{"source port", func(d *Definitions) { view(d).Source.Port = "-v1" }, "feature_views[0].source.port", "DNS label"},
		{"no timestamp field", func(d *Definitions) { view(d).TimestampField = "" }, "feature_views[0].timestamp_field", "is required"},
		{"bad timestamp field", func(d *Definitions) { view(d).TimestampField = "a..b" }, "feature_views[0].timestamp_field", "field path"},
		{"negative ttl", func(d *Definitions) { view(d).Ttl = dur(-time.Second) }, "feature_views[0].ttl", "negative"},
		{"empty tag", func(d *Definitions) { view(d).Tags = []string{" "} }, "feature_views[0].tags[0]", "empty"},
		{"no features", func(d *Definitions) { view(d).Features = nil }, "feature_views[0].features", "at least one"},
		{"too many features", func(d *Definitions) {
			for i := range MaxFeaturesPerView {
				view(d).Features = append(view(d).Features, &featurestorev1.Feature{Name: fmt.Sprintf("f%d", i), Type: tString})
			}
		}, "feature_views[0].features", "limit of 100"},
		{"duplicate feature", func(d *Definitions) { feat(d, 1).Name = "spend_7d" }, "feature_views[0].features[1].name", "defined twice"},
		{"feature type missing", func(d *Definitions) { feat(d, 3).Type = 0 }, "feature_views[0].features[3].type", "is required"},
		{"aggregation without window", func(d *Definitions) { feat(d, 0).Window = nil }, "feature_views[0].features[0].window", "needs a window"},
		{"zero window", func(d *Definitions) { feat(d, 0).Window = dur(0) }, "feature_views[0].features[0].window", "needs a window"},
		{"negative window", func(d *Definitions) { feat(d, 0).Window = dur(-day) }, "feature_views[0].features[0].window", "positive"},
		{"window too long", func(d *Definitions) { feat(d, 0).Window = dur(367 * day) }, "feature_views[0].features[0].window", "366d"},
		{"window 366d ok", func(d *Definitions) { feat(d, 0).Window = dur(366 * day) }, "", ""},
		{"window without aggregation", func(d *Definitions) { feat(d, 3).Window = dur(day) }, "feature_views[0].features[3].window", "needs an aggregation"},
		{"sum without input", func(d *Definitions) { feat(d, 0).Field = "" }, "feature_views[0].features[0].field", "needs a field or an expression"},
		{"sum of an expression", func(d *Definitions) { feat(d, 0).Field, feat(d, 0).Expression = "", "a > b" }, "", ""},
		{"sum type", func(d *Definitions) { feat(d, 0).Type = tString }, "feature_views[0].features[0].type", "int64 or double"},
		{"count type", func(d *Definitions) { feat(d, 1).Type = tDouble }, "feature_views[0].features[1].type", "count gives int64"},
		{"count with field ok", func(d *Definitions) { feat(d, 1).Field = "order_id" }, "", ""},
		{"count with expression", func(d *Definitions) { feat(d, 1).Expression = "a > b" }, "feature_views[0].features[1].expression", "sum the expression"},
		{"days type", func(d *Definitions) { feat(d, 2).Type = tInt64 }, "feature_views[0].features[2].type", "double"},
		{"avg type", func(d *Definitions) { feat(d, 0).Aggregation = aAvg; feat(d, 0).Type = tInt64 }, "feature_views[0].features[0].type", "avg gives double"},
		{"last any type", func(d *Definitions) { feat(d, 0).Aggregation = aLast; feat(d, 0).Type = tTime }, "", ""},
		{"distinct needs field", func(d *Definitions) {
			feat(d, 1).Aggregation = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DISTINCT_COUNT
		}, "feature_views[0].features[1].field", "needs a field"},
		{"unknown aggregation", func(d *Definitions) { feat(d, 0).Aggregation = 42 }, "feature_views[0].features[0].aggregation", "unknown"},
		{"bad expression", func(d *Definitions) { feat(d, 4).Expression = "a >" }, "feature_views[0].features[4].expression", "missing operand"},
		{"expression type", func(d *Definitions) { feat(d, 4).Type = tString }, "feature_views[0].features[4].type", "1 or 0"},
		{"field and expression", func(d *Definitions) { feat(d, 4).Field = "x" }, "feature_views[0].features[4].field", "not both"},
		{"bad field path", func(d *Definitions) { feat(d, 3).Field = "a b" }, "feature_views[0].features[3].field", "field path"},
		{"service empty", func(d *Definitions) { d.FeatureServices[0].Features = nil }, "feature_services[0].features", "at least one"},
		{"service ref form", func(d *Definitions) { d.FeatureServices[0].Features[0] = "spend_7d" }, "feature_services[0].features[0]", "view:feature"},
		{"service unknown view", func(d *Definitions) { d.FeatureServices[0].Features[0] = "nope:x" }, "feature_services[0].features[0]", "does not exist"},
		{"service unknown feature", func(d *Definitions) { d.FeatureServices[0].Features[0] = "customer_orders:x" }, "feature_services[0].features[0]", "has no feature"},
		{"service duplicate ref", func(d *Definitions) { d.FeatureServices[0].Features[1] = d.FeatureServices[0].Features[0] }, "feature_services[0].features[1]", "twice"},
		{"service too many refs", func(d *Definitions) {
			d.FeatureServices[0].Features = make([]string, MaxRefsPerService+1)
		}, "feature_services[0].features", "limit of 500"},
		{"duplicate service", func(d *Definitions) { d.FeatureServices = append(d.FeatureServices, d.FeatureServices[0]) }, "feature_services[1].name", "twice"},
		{"too many definitions", func(d *Definitions) {
			for i := range MaxDefinitions {
				d.Entities = append(d.Entities, &featurestorev1.Entity{Name: fmt.Sprintf("e%d", i)})
			}
		}, "", "limit of 1000"},
		{"nil entries", func(d *Definitions) { d.Entities = append(d.Entities, nil) }, "entities[2]", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := validDefs()
			tc.mutate(d)
			vs := Validate(d, lookup)
			if tc.desc == "" {
				if len(vs) > 0 {
					t.Fatalf("want valid, got %v", vs)
				}
				return
			}
			for _, v := range vs {
				if v.Field == tc.field && strings.Contains(v.Description, tc.desc) {
					return
				}
			}
			t.Fatalf("want %s: …%s…, got %v", tc.field, tc.desc, vs)
		})
	}
	if vs := Validate(nil, nil); vs != nil {
		t.Errorf("Validate(nil) = %v", vs)
	}
}

func TestEqualAndDiff(t *testing.T) {
	a := validDefs()
	b := validDefs()
	// Output fields are ignored.
	b.FeatureViews[0].Domain, b.FeatureViews[0].Version, b.FeatureViews[0].UpdateTime = "sales", 3, timestamppb.Now()
	b.Entities[0].Version = 2
	b.FeatureServices[0].Domain = "x"
	// Equivalent forms.
	b.FeatureViews[0].Features[3].Field = "channel"
	b.FeatureViews[0].Features[4].Field = ""
	for i := range a.Entities {
		if !Equal(a.Entities[i], b.Entities[i]) {
			t.Errorf("entity %d differs", i)
		}
	}
	if !Equal(a.FeatureViews[0], b.FeatureViews[0]) || !Equal(a.FeatureServices[0], b.FeatureServices[0]) {
		t.Error("equal definitions differ")
	}
	if d := Diff(a.FeatureViews[0], b.FeatureViews[0]); len(d) != 0 {
		t.Errorf("Diff of equal views = %v", d)
	}
	nf := &featurestorev1.Feature{Name: "last_channel", Type: tString}
	n1 := proto.Clone(a.FeatureViews[0]).(*featurestorev1.FeatureView)
	n1.Ttl = nil
	n2 := proto.Clone(n1).(*featurestorev1.FeatureView)
	n2.Features[3] = nf // field "channel" → default (name)
	if Equal(a.FeatureViews[0], n1) {
		t.Error("ttl change not seen")
	}
	if Equal(n1, n2) {
		t.Error("field channel → default (last_channel) not seen")
	}

	nv := proto.Clone(a.FeatureViews[0]).(*featurestorev1.FeatureView)
	nv.Features[0].Window = dur(14 * day)
	nv.Features = append(nv.Features, &featurestorev1.Feature{Name: "x", Type: tString})
	nv.Features = slices.Delete(nv.Features, 1, 2) // drop orders_7d
	nv.Ttl = dur(0)
	nv.Source.Port = ""
	nv.Tags = []string{"finance", "churn"}
	nv.Description = "Orders: all of them"
	got := Diff(a.FeatureViews[0], nv)
	want := []string{
		`description (none) → "Orders: all of them"`,
		"source sales/orders/v1 → sales/orders",
		"ttl 30d → 0",
		"tags added: churn",
		"features added: x",
		"features removed: orders_7d",
		"feature spend_7d: window 7d → 14d",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ne := proto.Clone(a.Entities[1]).(*featurestorev1.Entity)
	ne.JoinKeys[1].Type = tString
	if got := Diff(a.Entities[1], ne); !slices.Equal(got, []string{"join keys [store string, sku_id int64] → [store string, sku_id string]"}) {
		t.Errorf("entity Diff = %v", got)
	}
	ns := proto.Clone(a.FeatureServices[0]).(*featurestorev1.FeatureService)
	slices.Reverse(ns.Features)
	if got := Diff(a.FeatureServices[0], ns); !slices.Equal(got, []string{"features reordered"}) {
		t.Errorf("service Diff = %v", got)
	}
	if got := Diff(a.Entities[0], a.FeatureViews[0]); len(got) != 1 {
		t.Errorf("kind change Diff = %v", got)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	d := validDefs()
	d.FeatureViews[0].Description = "null"
	d.FeatureViews[0].Features[3].Description = "a: tricky\n  multi-line # text"
	d.FeatureViews[0].Features[0].Window = dur(36 * time.Hour)
	d.FeatureViews = append(d.FeatureViews, &featurestorev1.FeatureView{
		Name: "plain", Entity: "store_sku", Ttl: dur(0), Tags: []string{"true", "1"},
		Features: []*featurestorev1.Feature{{Name: "x", Type: tTime, Window: dur(1500 * time.Millisecond)}},
	})
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !defsEqual(d, back) {
		t.Fatalf("round trip differs:\n%s", out)
	}
	if _, err := Marshal(&Definitions{Entities: []*featurestorev1.Entity{{Name: "e", JoinKeys: []*featurestorev1.JoinKey{{Name: "k", Type: 77}}}}}); err == nil {
		t.Error("unknown type: no error")
	}
	if _, err := Marshal(&Definitions{FeatureViews: []*featurestorev1.FeatureView{{Features: []*featurestorev1.Feature{{Aggregation: 77}}}}}); err == nil {
		t.Error("unknown aggregation: no error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(example)
	f.Add("feature_views: [{name: v, ttl: 2w, features: [{name: a, window: 0}]}]")
	f.Add("entities: [{name: e, join_keys: [k]}]")
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		_ = Validate(d, nil)
		out, err := Marshal(d)
		if err != nil {
			return // unknown enums cannot come from Parse, but durations may overflow
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		if !defsEqual(d, back) {
			t.Fatalf("round trip differs:\n%s", out)
		}
	})
}
