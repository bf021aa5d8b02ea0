package columns

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

func TestAppendThenValue(t *testing.T) {
	present, missing := featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT, featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
	ts := time.Date(2026, 11, 26, 12, 0, 0, 123000, time.UTC)
	types := []featurestorev1.ValueType{
		featurestorev1.ValueType_VALUE_TYPE_STRING, featurestorev1.ValueType_VALUE_TYPE_INT64, featurestorev1.ValueType_VALUE_TYPE_DOUBLE,
		featurestorev1.ValueType_VALUE_TYPE_BOOL, featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP,
	}
	vals := []*featurestorev1.Value{
		{Kind: &featurestorev1.Value_StringValue{StringValue: "web"}},
		{Kind: &featurestorev1.Value_Int64Value{Int64Value: -7}},
		{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: 2.5}},
		{Kind: &featurestorev1.Value_BoolValue{BoolValue: true}},
		{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(ts)}},
	}
	cols := make([]*featurestorev1.FeatureColumn, len(types))
	for i, typ := range types {
		cols[i] = &featurestorev1.FeatureColumn{Type: typ}
	}
	all := func(st featurestorev1.FeatureStatus) []featurestorev1.FeatureStatus {
		out := make([]featurestorev1.FeatureStatus, len(types))
		for i := range out {
			out[i] = st
		}
		return out
	}
	Append(cols, vals, all(present), 1)
	Append(cols, make([]*featurestorev1.Value, len(types)), all(missing), 0)
	for j, c := range cols {
		if got := Value(c, 0); !proto.Equal(got, vals[j]) || Status(c, 0) != present {
			t.Errorf("column %v entry 0 = %v, want %v", c.GetType(), got, vals[j])
		}
		if got := Value(c, 1); got != nil || Status(c, 1) != missing {
			t.Errorf("column %v entry 1 = %v %v, want null NOT_FOUND", c.GetType(), got, Status(c, 1))
		}
		if Value(c, 5) != nil || Status(c, 5) != missing {
			t.Errorf("out of range entry is not null NOT_FOUND")
		}
	}
}
