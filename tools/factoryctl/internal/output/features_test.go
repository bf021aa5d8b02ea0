package output

import (
	"bytes"
	"github.com/aifactory/aifactory/services/featurestore/columns"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

func render(t *testing.T, f func(w *bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := f(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestChangesTable(t *testing.T) {
	got := render(t, func(w *bytes.Buffer) error {
		return ChangesTable(w, []*featurestorev1.Change{
			{Kind: "entity", Name: "customer", Action: "unchanged", Version: 1},
			{Kind: "feature_view", Name: "customer_orders", Action: "updated", Version: 2, Details: []string{"ttl: 30d → 90d", "feature spend_7d added"}},
			{Kind: "feature_service", Name: "churn_v1", Action: "created"},
		})
	})
	want := "" +
		"KIND             NAME             ACTION     VERSION  DETAILS\n" +
		"entity           customer         unchanged  1\n" +
		"feature_view     customer_orders  updated    2        ttl: 30d → 90d; feature spend_7d added\n" +
		"feature_service  churn_v1         created\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestViewDetail(t *testing.T) {
	week := durationpb.New(7 * 24 * time.Hour)
	v := &featurestorev1.FeatureView{
		Name: "customer_orders", Description: "What a customer bought lately.", Entity: "customer", Domain: "sales", Version: 3,
		Source:         &featurestorev1.Source{Domain: "sales", Product: "orders", Port: "v1"},
		TimestampField: "order_ts", Ttl: durationpb.New(90 * 24 * time.Hour), Tags: []string{"churn", "ltv"},
		UpdateTime: timestamppb.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)),
		Features: []*featurestorev1.Feature{
			{Name: "spend_7d", Type: featurestorev1.ValueType_VALUE_TYPE_DOUBLE, Field: "unit_price", Aggregation: featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM, Window: week},
			{Name: "orders_7d", Type: featurestorev1.ValueType_VALUE_TYPE_INT64, Aggregation: featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT, Window: week},
			{Name: "late_rate", Type: featurestorev1.ValueType_VALUE_TYPE_DOUBLE, Expression: "delivered_at > promised_at", Aggregation: featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG, Window: durationpb.New(36 * time.Hour)},
			{Name: "channel", Type: featurestorev1.ValueType_VALUE_TYPE_STRING},
		},
	}
	got := render(t, func(w *bytes.Buffer) error { return ViewDetail(w, v) })
	want := "" +
		"Feature view:     customer_orders\n" +
		"Description:      What a customer bought lately.\n" +
		"Domain:           sales\n" +
		"Version:          3\n" +
		"Entity:           customer\n" +
		"Source:           sales/orders (v1)\n" +
		"Timestamp field:  order_ts\n" +
		"TTL:              90d\n" +
		"Tags:             churn, ltv\n" +
		"Updated:          2025-03-01T12:00:00Z\n" +
		"\n" +
		"NAME       TYPE    SOURCE                      AGGREGATION  WINDOW\n" +
		"spend_7d   double  unit_price                  sum          7d\n" +
		"orders_7d  int64                               count        7d\n" +
		"late_rate  double  delivered_at > promised_at  avg          36h\n" +
		"channel    string  channel\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTTLAndDuration(t *testing.T) {
	for _, tc := range []struct {
		d       *durationpb.Duration
		ttl, du string
	}{
		{nil, "never expires", ""},
		{durationpb.New(0), "never expires", "0s"},
		{durationpb.New(90 * 24 * time.Hour), "90d", "90d"},
		{durationpb.New(36 * time.Hour), "36h", "36h"},
		{durationpb.New(90 * time.Minute), "90m", "90m"},
		{durationpb.New(45 * time.Second), "45s", "45s"},
		{durationpb.New(1500 * time.Millisecond), "1.5s", "1.5s"},
	} {
		if got := TTL(tc.d); got != tc.ttl {
			t.Errorf("TTL(%v) = %q, want %q", tc.d.AsDuration(), got, tc.ttl)
		}
		if got := Duration(tc.d); got != tc.du {
			t.Errorf("Duration(%v) = %q, want %q", tc.d.AsDuration(), got, tc.du)
		}
	}
}

func val(kind any) *featurestorev1.Value {
	switch k := kind.(type) {
	case string:
		return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: k}}
	case int64:
		return &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: k}}
	case float64:
		return &featurestorev1.Value{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: k}}
	case bool:
		return &featurestorev1.Value{Kind: &featurestorev1.Value_BoolValue{BoolValue: k}}
	case time.Time:
		return &featurestorev1.Value{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(k)}}
	}
	return nil
}

func TestFeatureCell(t *testing.T) {
	const (
		present  = featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
		notFound = featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
		expired  = featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED
	)
	for _, tc := range []struct {
		v    *featurestorev1.Value
		st   featurestorev1.FeatureStatus
		want string
	}{
		{val("web"), present, "web"},
		{val(int64(-3)), present, "-3"},
		{val(19.9), present, "19.9"},
		{val(1234567.0), present, "1234567"},
		{val(true), present, "true"},
		{val(time.Date(2025, 3, 1, 12, 0, 0, 500, time.FixedZone("x", 3600))), present, "2025-03-01T11:00:00.0000005Z"},
		{nil, present, "∅"},
		{nil, notFound, "∅ not found"},
		{nil, expired, "∅ expired"},
		{val("stale"), expired, "∅ expired"},
		{val(int64(1)), featurestorev1.FeatureStatus_FEATURE_STATUS_UNSPECIFIED, "1"},
	} {
		if got := FeatureCell(tc.v, tc.st); got != tc.want {
			t.Errorf("FeatureCell(%v, %v) = %q, want %q", tc.v, tc.st, got, tc.want)
		}
	}
}

func TestOnlineTable(t *testing.T) {
	const (
		present  = featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
		notFound = featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
		expired  = featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED
	)
	double := featurestorev1.ValueType_VALUE_TYPE_DOUBLE
	resp := &featurestorev1.GetOnlineFeaturesResponse{
		FeatureNames: []string{"customer_orders:spend_7d", "product_reviews:avg_rating_30d"},
		Columns:      []*featurestorev1.FeatureColumn{{Type: double}, {Type: double}},
	}
	columns.Append(resp.Columns, []*featurestorev1.Value{val(42.5), val(4.25)}, []featurestorev1.FeatureStatus{present, present}, 0)
	columns.Append(resp.Columns, []*featurestorev1.Value{nil, nil}, []featurestorev1.FeatureStatus{notFound, expired}, 0)
	columns.Append(resp.Columns, []*featurestorev1.Value{nil, nil}, []featurestorev1.FeatureStatus{present, present}, 0) // present nulls
	keys := []map[string]*featurestorev1.Value{
		{"customer_id": val("c1"), "product_id": val(int64(7))},
		{"customer_id": val("c2"), "product_id": val(int64(8))},
		{"customer_id": val("c3")},
	}
	got := render(t, func(w *bytes.Buffer) error { return OnlineTable(w, []string{"customer_id", "product_id"}, keys, resp) })
	want := "" +
		"customer_id  product_id  customer_orders:spend_7d  product_reviews:avg_rating_30d\n" +
		"c1           7           42.5                      4.25\n" +
		"c2           8           ∅ not found               ∅ expired\n" +
		"c3                       ∅                         ∅\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFeatureDefinitionsEmptySections(t *testing.T) {
	got := render(t, func(w *bytes.Buffer) error { return FeatureDefinitions(w, nil, nil, nil) })
	want := "Entities:\n  (none)\n\nFeature views:\n  (none)\n\nFeature services:\n  (none)\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestHistoricalSummaryTable(t *testing.T) {
	got := render(t, func(w *bytes.Buffer) error {
		return HistoricalSummaryTable(w, &HistoricalSummary{
			Entities: "rows.csv", Out: "train.parquet", Format: "parquet", Rows: 12345, Columns: 5, ElapsedSeconds: 1.5, RowsPerSecond: 8230,
			Features: []FeatureStats{{Feature: "v:f", Column: "v__f", Present: 12000, NotFound: 300, Expired: 45}},
		})
	})
	want := "" +
		"Training set:  train.parquet (parquet)\n" +
		"Entity rows:   rows.csv\n" +
		"Rows:          12,345\n" +
		"Columns:       5\n" +
		"Elapsed:       1.5s\n" +
		"Rows/s:        8,230\n" +
		"\n" +
		"COLUMN  PRESENT  NOT FOUND  EXPIRED\n" +
		"v__f    12,000   300        45\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
