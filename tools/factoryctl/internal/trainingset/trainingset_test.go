package trainingset

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

func str(s string) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: s}}
}
func i64(n int64) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: n}}
}
func dbl(f float64) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: f}}
}
func boolean(b bool) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_BoolValue{BoolValue: b}}
}
func ts(t time.Time) *featurestorev1.Value {
	return &featurestorev1.Value{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(t)}}
}

var (
	input    = []string{"customer_id", "event_timestamp", "label"}
	features = []Column{
		{Name: "customer_orders__spend_7d", Type: featurestorev1.ValueType_VALUE_TYPE_DOUBLE},
		{Name: "customer_orders__orders_7d", Type: featurestorev1.ValueType_VALUE_TYPE_INT64},
		{Name: "customer_orders__last_channel", Type: featurestorev1.ValueType_VALUE_TYPE_STRING},
		{Name: "customer_orders__vip", Type: featurestorev1.ValueType_VALUE_TYPE_BOOL},
		{Name: "customer_orders__last_order_ts", Type: featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP},
	}
	t0 = time.Date(2025, 3, 1, 12, 30, 0, 123456000, time.UTC)
)

type row struct {
	in   []string
	feat []*featurestorev1.Value
}

var rows = []row{
	{[]string{"c1", "2025-03-02", "1"}, []*featurestorev1.Value{dbl(19.9), i64(2), str("web"), boolean(true), ts(t0)}},
	{[]string{"c2", "2025-03-02T10:00:00Z", ""}, []*featurestorev1.Value{nil, nil, nil, nil, nil}},
	{[]string{"c,3", `say "hi"`, "0"}, []*featurestorev1.Value{dbl(1e21), i64(-7), str("line\nbreak"), boolean(false), nil}},
	{[]string{"c4", "2025-03-02", "1"}, []*featurestorev1.Value{i64(3), dbl(4), {}, nil, nil}}, // lossless conversions; empty Value is null
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	w, err := New(CSV, &buf, input, features)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r.in, r.feat); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `customer_id,event_timestamp,label,customer_orders__spend_7d,customer_orders__orders_7d,customer_orders__last_channel,customer_orders__vip,customer_orders__last_order_ts
c1,2025-03-02,1,19.9,2,web,true,2025-03-01T12:30:00.123456Z
c2,2025-03-02T10:00:00Z,,,,,,
"c,3","say ""hi""",0,1000000000000000000000,-7,"line
break",false,
c4,2025-03-02,1,3,4,,,
`
	if got := buf.String(); got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
}

func TestParquetRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := New(Parquet, &buf, input, features)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r.in, r.feat); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	// Columns in order, all optional, with the expected types.
	wantCols := []struct {
		name, typ string
	}{
		{"customer_id", "BYTE_ARRAY(STRING)"}, {"event_timestamp", "BYTE_ARRAY(STRING)"}, {"label", "BYTE_ARRAY(STRING)"},
		{"customer_orders__spend_7d", "DOUBLE"}, {"customer_orders__orders_7d", "INT64(INT(64,true))"},
		{"customer_orders__last_channel", "BYTE_ARRAY(STRING)"}, {"customer_orders__vip", "BOOLEAN"},
		{"customer_orders__last_order_ts", "INT64(TIMESTAMP(isAdjustedToUTC=true,unit=MICROS))"},
	}
	fields := f.Schema().Fields()
	if len(fields) != len(wantCols) {
		t.Fatalf("schema has %d columns, want %d:\n%s", len(fields), len(wantCols), f.Schema())
	}
	for i, c := range wantCols {
		fl := fields[i]
		if fl.Name() != c.name || !fl.Optional() {
			t.Errorf("column %d = %s (optional %v), want optional %s", i, fl.Name(), fl.Optional(), c.name)
		}
		if got := typeString(fl.Type()); got != c.typ {
			t.Errorf("column %s type = %s, want %s", c.name, got, c.typ)
		}
	}
	if f.NumRows() != int64(len(rows)) {
		t.Fatalf("rows = %d, want %d", f.NumRows(), len(rows))
	}

	r := parquet.NewReader(f)
	defer r.Close()
	got := make([]parquet.Row, len(rows))
	n, err := r.ReadRows(got)
	if n != len(rows) {
		t.Fatalf("read %d rows (%v), want %d", n, err, len(rows))
	}
	want := [][]any{
		{"c1", "2025-03-02", "1", 19.9, int64(2), "web", true, t0.UnixMicro()},
		{"c2", "2025-03-02T10:00:00Z", "", nil, nil, nil, nil, nil},
		{"c,3", `say "hi"`, "0", 1e21, int64(-7), "line\nbreak", false, nil},
		{"c4", "2025-03-02", "1", 3.0, int64(4), nil, nil, nil},
	}
	for i, pr := range got[:n] {
		if len(pr) != len(want[i]) {
			t.Fatalf("row %d has %d values, want %d", i, len(pr), len(want[i]))
		}
		for j, v := range pr {
			if g := goValue(v); g != want[i][j] {
				t.Errorf("row %d column %s = %#v, want %#v", i, wantCols[j].name, g, want[i][j])
			}
		}
	}
}

func typeString(t parquet.Type) string {
	if lt := t.LogicalType(); lt != nil {
		return t.Kind().String() + "(" + lt.String() + ")"
	}
	return t.Kind().String()
}

func goValue(v parquet.Value) any {
	if v.IsNull() {
		return nil
	}
	switch v.Kind() {
	case parquet.ByteArray:
		return string(v.ByteArray())
	case parquet.Int64:
		return v.Int64()
	case parquet.Double:
		return v.Double()
	case parquet.Boolean:
		return v.Boolean()
	}
	return v.String()
}

func TestParquetRejectsLossyConversion(t *testing.T) {
	var buf bytes.Buffer
	w, err := New(Parquet, &buf, nil, []Column{{Name: "n", Type: featurestorev1.ValueType_VALUE_TYPE_INT64}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v       *featurestorev1.Value
		wantErr string
	}{
		{dbl(1.5), `column "n": cannot store "1.5" in a int64 column`},
		{dbl(math.Inf(1)), `cannot store "+Inf"`},
		{str("x"), `cannot store "x"`},
	} {
		err := w.Write(nil, []*featurestorev1.Value{tc.v})
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Write(%v) = %v, want %q", tc.v, err, tc.wantErr)
		}
	}
}

func TestNewRejectsDuplicateColumns(t *testing.T) {
	for _, f := range []Format{CSV, Parquet} {
		_, err := New(f, &bytes.Buffer{}, []string{"a", "b"}, []Column{{Name: "b"}})
		if err == nil || !strings.Contains(err.Error(), `"b"`) {
			t.Errorf("%s: err = %v", f, err)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
		ok   bool
	}{
		{"out.csv", CSV, true}, {"OUT.CSV", CSV, true}, {"a/b.parquet", Parquet, true}, {"x.pq", Parquet, true},
		{"x.json", "", false}, {"noext", "", false},
	} {
		got, err := FormatOf(tc.path)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("FormatOf(%q) = %q, %v", tc.path, got, err)
		}
	}
}
