// Package columns reads the column-major answer of GetOnlineFeatures
// (featurestorev1.FeatureColumn) back as typed values, for clients.
package columns

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// Value returns entry i of a column as a Value: nil when it is null (which
// includes every entry whose status is not PRESENT).
func Value(c *featurestorev1.FeatureColumn, i int) *featurestorev1.Value {
	if i < 0 || i >= len(c.GetStatuses()) || (i < len(c.GetNulls()) && c.GetNulls()[i]) {
		return nil
	}
	switch c.GetType() {
	case featurestorev1.ValueType_VALUE_TYPE_STRING:
		if i < len(c.GetStrings()) {
			return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: c.GetStrings()[i]}}
		}
	case featurestorev1.ValueType_VALUE_TYPE_INT64:
		if i < len(c.GetInt64S()) {
			return &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: c.GetInt64S()[i]}}
		}
	case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
		if i < len(c.GetDoubles()) {
			return &featurestorev1.Value{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: c.GetDoubles()[i]}}
		}
	case featurestorev1.ValueType_VALUE_TYPE_BOOL:
		if i < len(c.GetBools()) {
			return &featurestorev1.Value{Kind: &featurestorev1.Value_BoolValue{BoolValue: c.GetBools()[i]}}
		}
	case featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
		if i < len(c.GetTimestampMicros()) {
			return &featurestorev1.Value{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(time.UnixMicro(c.GetTimestampMicros()[i]).UTC())}}
		}
	}
	return nil
}

// Status returns entry i's status (NOT_FOUND when out of range).
func Status(c *featurestorev1.FeatureColumn, i int) featurestorev1.FeatureStatus {
	if i < 0 || i >= len(c.GetStatuses()) {
		return featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
	}
	return c.GetStatuses()[i]
}

// Entities returns how many entities an answer covers.
func Entities(resp *featurestorev1.GetOnlineFeaturesResponse) int {
	if len(resp.GetColumns()) == 0 {
		return 0
	}
	return len(resp.GetColumns()[0].GetStatuses())
}

// Append adds one entity's values and statuses to the columns (servers and
// test doubles build answers with it); cols[j] receives vals[j].
func Append(cols []*featurestorev1.FeatureColumn, vals []*featurestorev1.Value, sts []featurestorev1.FeatureStatus, eventMicros int64) {
	for j, c := range cols {
		v, st := vals[j], sts[j]
		c.Statuses = append(c.Statuses, st)
		c.EventTimeMicros = append(c.EventTimeMicros, eventMicros)
		null := st != featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT || v == nil || v.GetKind() == nil
		c.Nulls = append(c.Nulls, null)
		switch c.GetType() {
		case featurestorev1.ValueType_VALUE_TYPE_STRING:
			c.Strings = append(c.Strings, v.GetStringValue())
		case featurestorev1.ValueType_VALUE_TYPE_INT64:
			c.Int64S = append(c.Int64S, v.GetInt64Value())
		case featurestorev1.ValueType_VALUE_TYPE_DOUBLE:
			c.Doubles = append(c.Doubles, v.GetDoubleValue())
		case featurestorev1.ValueType_VALUE_TYPE_BOOL:
			c.Bools = append(c.Bools, v.GetBoolValue())
		case featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP:
			var us int64
			if ts := v.GetTimestampValue(); ts != nil {
				us = ts.AsTime().UnixMicro()
			}
			c.TimestampMicros = append(c.TimestampMicros, us)
		}
	}
}
